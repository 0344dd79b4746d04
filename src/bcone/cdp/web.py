"""Console pages of the cdp domain: the profile list (live search) and a profile's detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bcone.cdp import service
from bcone.cdp.messages import register as _register_messages
from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, SettingsDep, require_roles
from bcone.web.deps import ConsolePrincipal
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import flash, redirect_to, render, render_list

_register_messages()
register_nav_item(NavItem("nav.cdp", "/cdp/profiles", "staff", 50, prefixes=("/cdp",)))

router = APIRouter(include_in_schema=False)

Marketer = Annotated[Principal, Depends(require_roles(Role.marketer))]
Admin = Annotated[Principal, Depends(require_roles())]
RESULTS = "profile-results"


@router.get("/cdp/profiles")
def profiles_page(
    request: Request,
    _: ConsolePrincipal,
    __: Marketer,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
) -> Response:
    """Consumer profiles, newest first; search as you type (phones and emails in full)."""
    result = service.list_profiles(page, session=session, secret_key=settings.secret_key)
    ctx = {"result": result, "filtered": bool(page.q), "results_target": RESULTS}
    return render_list(request, "cdp/profiles.html", "cdp/_profile_results.html", ctx)


@router.get("/cdp/profiles/{profile_id}")
def profile_page(
    request: Request,
    profile_id: str,
    _: ConsolePrincipal,
    principal: Marketer,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """A profile: identifiers (masked), linked organisations, recent events, links and audit."""
    profile = service.get_profile(profile_id, session=session, settings=settings)
    if profile.id != profile_id:
        return redirect_to(f"/cdp/profiles/{profile.id}", status_code=307)
    ctx = {"profile": profile, "can_unlink": principal.has_role()}
    return render(request, "cdp/profile.html", ctx)


@router.post("/cdp/profiles/{profile_id}/links/{seq}/unlink")
def unlink_link(
    request: Request, profile_id: str, seq: int, _: ConsolePrincipal, principal: Admin, session: SessionDep
) -> Response:
    """Remove a link from the profile page (owners and admins); back to the profile."""
    actor = f"{principal.via}:{principal.user_id or principal.api_key_id}"
    out = service.unlink_link(seq, session=session, actor=actor, reason="console")
    target = profile_id if profile_id in out.profiles else out.profiles[0]
    response = redirect_to(f"/cdp/profiles/{target}")
    flash(request, response, "cdp.unlinked")
    return response
