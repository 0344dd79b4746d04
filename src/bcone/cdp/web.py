"""Console pages of the cdp domain: the profile list (live search), a profile's detail (traits,
tags, consent, stores, personal-data actions), and segments with a live count while editing."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from bcone.cdp import service
from bcone.cdp.messages import register as _register_messages
from bcone.cdp.schemas import ConsentIn, RuleIn, SegmentIn, TagAssign
from bcone.core import geo
from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, SettingsDep, require_roles
from bcone.core.errors import BconeError
from bcone.core.warehouse import WarehouseError, WarehouseQueryFailed, open_warehouse
from bcone.web.deps import ConsolePrincipal
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import flash, redirect_to, render, render_list

_register_messages()
register_nav_item(NavItem("nav.cdp", "/cdp/profiles", "staff", 50, prefixes=("/cdp",)))
register_nav_item(NavItem("nav.cdp_segments", "/cdp/segments", "chart", 51, prefixes=("/cdp/segments",)))
PURPOSES = ("marketing_sms", "marketing_wechat", "profiling", "analytics", "cross_border")
EXAMPLES: dict[str, dict[str, Any]] = {
    "cdp.example.repeat": {"event": "order.paid", "min_count": 3, "days": 90},
    "cdp.example.lapsed": {
        "all": [
            {"trait": "orders", "op": ">=", "value": 1},
            {"trait": "days_since_last_seen", "op": ">=", "value": 60},
        ]
    },
    "cdp.example.vip_store": {
        "any": [{"tag": "VIP"}, {"trait": "usual_store", "op": "=", "value": "<org id>"}]
    },
}

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
    history = service.consents(profile.id, session=session)
    stores: list[Any] = []
    try:
        with open_warehouse(settings) as wh:
            stores = service.consumer_stores(profile.id, session=session, warehouse=wh)
    except (WarehouseError, WarehouseQueryFailed):
        pass  # no warehouse yet: the page shows the rest
    traits = service.get_traits(profile.id, session=session)
    region_label = None
    if traits is not None and traits.region:
        division = geo.get_division(traits.region)
        if division is not None:
            region_label = "".join(d.name for d in [*geo.ancestors(division.code), division])
    ctx = {
        "profile": profile,
        "can_unlink": principal.has_role(),
        "traits": traits,
        "region_label": region_label,
        "tags": service.profile_tags(profile.id, session=session),
        "consent_now": service.current_consent(history),
        "consent_history": history,
        "purposes": PURPOSES,
        "stores": stores,
    }
    return render(request, "cdp/profile.html", ctx)


def _actor(principal: Principal) -> str:
    return f"{principal.via}:{principal.user_id or principal.api_key_id}"


@router.post("/cdp/profiles/{profile_id}/tags")
def add_tag(
    request: Request,
    profile_id: str,
    _: ConsolePrincipal,
    __: Marketer,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
) -> Response:
    """Add a manual tag to the profile (or remove one); back to the profile."""
    try:
        body = TagAssign(tags=[name.strip()], profile_ids=[profile_id], remove=bool(remove))
    except ValidationError:
        response = redirect_to(f"/cdp/profiles/{profile_id}")
        flash(request, response, "cdp.tags_empty")
        return response
    service.assign_tags(body, session=session)
    response = redirect_to(f"/cdp/profiles/{profile_id}#tags-title")
    flash(request, response, "cdp.tag_removed" if remove else "cdp.tag_added")
    return response


@router.post("/cdp/profiles/{profile_id}/consents")
def add_consent(
    request: Request,
    profile_id: str,
    _: ConsolePrincipal,
    principal: Marketer,
    session: SessionDep,
    purpose: Annotated[str, Form()],
    granted: Annotated[str, Form()],
    source: Annotated[str, Form()] = "console",
) -> Response:
    body = ConsentIn.model_validate(
        {"purpose": purpose, "granted": granted == "true", "source": source or "console"}
    )
    service.record_consent(profile_id, body, session=session, actor=_actor(principal))
    response = redirect_to(f"/cdp/profiles/{profile_id}#consent-title")
    flash(request, response, "cdp.consent.recorded")
    return response


@router.post("/cdp/profiles/{profile_id}/deletion")
def delete_profile(
    request: Request,
    profile_id: str,
    _: ConsolePrincipal,
    principal: Admin,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Queue the erasure of the consumer (owners and admins); back to the list."""
    service.request_deletion(
        profile_id, session=session, secret_key=settings.secret_key, actor=_actor(principal)
    )
    response = redirect_to("/cdp/profiles")
    flash(request, response, "cdp.delete_queued")
    return response


# --- segments ----------------------------------------------------------------------------------

SEGMENT_RESULTS = "segment-results"


def _segments_ctx(session: Any, page: Any, **extra: Any) -> dict[str, Any]:
    result = service.list_segments(page, session=session)
    return {
        "result": result,
        "filtered": bool(page.q),
        "results_target": SEGMENT_RESULTS,
        "purposes": PURPOSES,
        "examples": {k: json.dumps(v, ensure_ascii=False) for k, v in EXAMPLES.items()},
        "form": {"name": "", "description": "", "rule": "", "kind": "dynamic", "purpose": ""},
        "error": None,
        "count": None,
        "seconds": None,
        "warehouse_error": None,
        **extra,
    }


@router.get("/cdp/segments")
def segments_page(
    request: Request, _: ConsolePrincipal, __: Marketer, session: SessionDep, page: PageDep
) -> Response:
    """Segments, newest first, and the form for a new one with its live count."""
    ctx = _segments_ctx(session, page)
    return render_list(request, "cdp/segments.html", "cdp/_segment_results.html", ctx)


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BconeError(f"rule: not JSON ({exc.msg}, column {exc.colno})", field="rule") from exc


@router.post("/cdp/segments/preview")
def segment_preview(
    request: Request,
    _: ConsolePrincipal,
    __: Marketer,
    session: SessionDep,
    settings: SettingsDep,
    rule: Annotated[str, Form()] = "",
    purpose: Annotated[str, Form()] = "",
) -> Response:
    """The live count of the rule being edited (an HTMX fragment); a bad rule names its JSON path."""
    ctx: dict[str, Any] = {"count": None, "error": None, "seconds": None}
    if rule.strip():
        try:
            body = RuleIn(rule=_parse_json(rule), purpose=purpose or None)
            with open_warehouse(settings) as wh:
                wh.ensure_schema()
                out = service.count_rule(body, session=session, warehouse=wh)
            ctx.update(count=out.count, seconds=out.seconds)
        except (WarehouseError, WarehouseQueryFailed) as exc:
            ctx["warehouse_error"] = exc.detail
        except BconeError as exc:
            ctx["error"] = exc.detail
        except ValidationError as exc:
            ctx["error"] = f"purpose: {exc.errors()[0]['msg']}"
    return render(request, "cdp/_live_count.html", ctx)


@router.post("/cdp/segments")
def create_segment(
    request: Request,
    _: ConsolePrincipal,
    principal: Marketer,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    rule: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "dynamic",
    purpose: Annotated[str, Form()] = "",
) -> Response:
    form = {"name": name, "description": description, "rule": rule, "kind": kind, "purpose": purpose}
    try:
        body = SegmentIn.model_validate(
            {
                "name": name.strip(),
                "description": description.strip(),
                "rule": _parse_json(rule),
                "kind": kind,
                "purpose": purpose or None,
            }
        )
        with open_warehouse(settings) as wh:
            wh.ensure_schema()
            made = service.create_segment(body, session=session, warehouse=wh, actor=_actor(principal))
    except ValidationError as exc:
        first = exc.errors()[0]
        error = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return render(request, "cdp/segments.html", _segments_ctx(session, page, form=form, error=error), 422)
    except BconeError as exc:
        session.rollback()
        return render(
            request,
            "cdp/segments.html",
            _segments_ctx(session, page, form=form, error=exc.detail),
            exc.status,
        )
    response = redirect_to(f"/cdp/segments/{made.id}")
    flash(request, response, "cdp.segment_created")
    return response


@router.get("/cdp/segments/{segment_id}")
def segment_page(
    request: Request,
    segment_id: str,
    _: ConsolePrincipal,
    __: Marketer,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
) -> Response:
    """A segment: its rule, its members (paginated, linked to their profiles), export and freeze."""
    segment = service.get_segment(segment_id, session=session)
    members = None
    warehouse_error = None
    try:
        with open_warehouse(settings) as wh:
            wh.ensure_schema()
            members = service.segment_members(segment_id, page, session=session, warehouse=wh)
    except (WarehouseError, WarehouseQueryFailed) as exc:
        warehouse_error = exc.detail
    ctx = {
        "segment": segment,
        "rule_text": json.dumps(segment.rule, ensure_ascii=False, indent=2),
        "members": members,
        "warehouse_error": warehouse_error,
        "results_target": "member-results",
    }
    return render(request, "cdp/segment.html", ctx)


@router.post("/cdp/segments/{segment_id}/snapshot")
def freeze_segment(
    request: Request,
    segment_id: str,
    _: ConsolePrincipal,
    __: Marketer,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    with open_warehouse(settings) as wh:
        service.snapshot_segment(segment_id, session=session, warehouse=wh)
    response = redirect_to(f"/cdp/segments/{segment_id}")
    flash(request, response, "cdp.segment_frozen")
    return response


@router.post("/cdp/segments/{segment_id}/delete")
def remove_segment(
    request: Request, segment_id: str, _: ConsolePrincipal, __: Marketer, session: SessionDep
) -> Response:
    service.delete_segment(segment_id, session=session)
    response = redirect_to("/cdp/segments")
    flash(request, response, "cdp.segment_deleted")
    return response


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
