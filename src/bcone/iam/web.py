"""Console pages of the iam domain: login and logout, and the users and API keys settings pages."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from bcone.core.auth import Principal, Role
from bcone.core.db import utcnow
from bcone.core.deps import OptionalPrincipal, PageDep, SessionDep, SettingsDep, require_roles
from bcone.core.errors import BconeError
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings
from bcone.iam import service
from bcone.iam.errors import InvalidCredentials, LoginThrottled
from bcone.iam.messages import register as _register_messages
from bcone.iam.schemas import ApiKeyCreated, UserUpdate
from bcone.web.deps import ConsolePrincipal, safe_next
from bcone.web.templating import flash, is_htmx, redirect_to, render

_register_messages()

router = APIRouter(include_in_schema=False)

# Pre-login CSRF protection by double submit: GET /login puts a random token in this cookie and
# in the form; POST /login accepts only when both agree. Another site can make a browser post
# the form, but cannot read or set the cookie, so it cannot send a matching token.
LOGIN_CSRF_COOKIE = "bcone_login_csrf"
LOGIN_CSRF_MAX_AGE_SECONDS = 2 * 3600  # long enough for a login page left open over lunch
FORM_MAX_CHARS = 1024  # login form fields are cut here; longer values are never valid
# Roles offered in the forms, in the order an administrator thinks of them.
ROLE_CHOICES = [r.value for r in Role]
# API keys made on the page expire after this many days unless "never" is chosen.
API_KEY_EXPIRY_CHOICES = (30, 90, 365)

# require_roles() with no extra role admits exactly the tenant's owners and admins.
TenantAdmin = Annotated[Principal, Depends(require_roles())]


# --- login and logout -------------------------------------------------------------------------


def _login_page(
    request: Request,
    settings: Settings,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if len(token) < 32:
        token = secrets.token_urlsafe(32)
    ctx = {"login_csrf": token, "next": next_path, "email": email, "error": error}
    response = render(request, "iam/login.html", ctx, status_code=status_code)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_MAX_AGE_SECONDS,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=settings.secure_cookies,
    )
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    """The login page. It shows even to someone logged in: logging in again switches the user."""
    return _login_page(request, settings, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password, open a console session, and go on to ``next`` (a local path only)."""
    email, password, next_path = email[:FORM_MAX_CHARS], password[:FORM_MAX_CHARS], safe_next(next)
    sent_cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not sent_cookie or not hmac.compare_digest(csrf_token, sent_cookie):
        return _login_page(
            request, settings, next_path=next_path, email=email, error="iam.login.error.csrf", status_code=403
        )
    try:
        client = request.client.host if request.client else None
        user = service.authenticate_password(session=session, email=email, password=password, client=client)
    except LoginThrottled as throttled:
        return _login_page(
            request,
            settings,
            next_path=next_path,
            email=email,
            error="iam.login.error.throttled_client"
            if throttled.field == "client"
            else "iam.login.error.throttled",
            status_code=429,
        )
    except InvalidCredentials:
        # Returning normally commits the recorded failure, so the throttle counts it.
        return _login_page(
            request,
            settings,
            next_path=next_path,
            email=email,
            error="iam.login.error.invalid",
            status_code=401,
        )
    previous = request.cookies.get(service.SESSION_COOKIE)
    if previous:  # a new login replaces the old session instead of leaving it alive
        service.end_console_session_by_token(previous, session=session)
    started = service.start_console_session(
        user.id,
        session=session,
        max_age_seconds=settings.session_max_age_seconds,
        user_agent=request.headers.get("user-agent"),
    )
    response = redirect_to(next_path)
    response.set_cookie(
        service.SESSION_COOKIE,
        started.token,
        max_age=settings.session_max_age_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(session: SessionDep, settings: SettingsDep, principal: OptionalPrincipal) -> Response:
    """End the console session server-side (the CSRF check ran when the caller was resolved)."""
    if principal is not None and principal.session_id is not None:
        service.end_console_session(principal.session_id, session=session)
    response = redirect_to("/login")
    response.delete_cookie(
        service.SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies
    )
    return response


# --- settings: users --------------------------------------------------------------------------


def _users_page(
    request: Request,
    principal: Principal,
    params: PageParams,
    *,
    session: Any,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = {
        "users": service.list_users(session=session, params=params),
        "roles": _role_choices(principal),
        "form": form or {"role": Role.marketer.value},
        "errors": errors or {},
        "me": principal,
    }
    return render(request, "iam/users.html", ctx, status_code=status_code)


def _role_choices(principal: Principal) -> list[str]:
    # Only an owner may grant the owner role, so the others are not offered it.
    return [r for r in ROLE_CHOICES if r != Role.owner.value or principal.role is Role.owner]


def _field_errors(exc: BconeError) -> dict[str, str]:
    errors = getattr(exc, "extra", {}).get("errors") or [
        {"field": exc.field or "form", "message": exc.detail}
    ]
    return {str(e["field"]).split(".")[0]: str(e["message"]) for e in errors}


@router.get("/settings/users")
def users_page(
    request: Request, _: ConsolePrincipal, principal: TenantAdmin, session: SessionDep, page: PageDep
) -> Response:
    """The tenant's users, and a form to add one."""
    return _users_page(request, principal, page, session=session)


@router.post("/settings/users")
def users_create(
    request: Request,
    _: ConsolePrincipal,
    principal: TenantAdmin,
    session: SessionDep,
    email: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    org_id: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Add a user; a form error shows the page again with the field marked, nothing saved."""
    form = {"email": email, "display_name": display_name, "role": role, "org_id": org_id}
    try:
        with session.begin_nested():
            user = service.create_user(
                session=session,
                email=email,
                display_name=display_name,
                password=password,
                role=role,
                org_id=org_id.strip() or None,
                actor=principal,
            )
    except BconeError as exc:
        return _users_page(
            request,
            principal,
            PageParams(),
            session=session,
            form=form,
            errors=_field_errors(exc),
            status_code=422,
        )
    response = redirect_to("/settings/users")
    flash(request, response, "iam.users.created", email=user.email)
    return response


@router.post("/settings/users/{user_id}")
def users_update(
    request: Request,
    user_id: str,
    _: ConsolePrincipal,
    principal: TenantAdmin,
    session: SessionDep,
    role: Annotated[str, Form()] = "",
    status: Annotated[str, Form()] = "",
    org_id: Annotated[str, Form()] = "",
) -> Response:
    """Change a user's role, organisation or status from the list."""
    response = redirect_to("/settings/users")
    try:
        changes: dict[str, Any] = {"role": role or None, "status": status or None}
        if role:
            changes["org_id"] = org_id.strip() or None
        with session.begin_nested():
            user = service.update_user(
                user_id, UserUpdate.model_validate(changes), session=session, actor=principal
            )
    except BconeError as exc:
        flash(request, response, "iam.users.update_failed", kind="error", detail=exc.detail)
        return response
    except ValueError as exc:  # a role or status that is not one of the choices
        flash(request, response, "iam.users.update_failed", kind="error", detail=str(exc).splitlines()[0])
        return response
    flash(request, response, "iam.users.updated", email=user.email)
    return response


# --- settings: API keys -----------------------------------------------------------------------


def _keys_page(
    request: Request,
    principal: Principal,
    params: PageParams,
    *,
    session: Any,
    created: ApiKeyCreated | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    keys = service.list_api_keys(session=session, params=params)
    now = utcnow()
    ctx = {
        "keys": keys,
        "expired": {k.id for k in keys.items if k.expires_at is not None and k.expires_at <= now},
        "roles": _role_choices(principal),
        "expiry_choices": API_KEY_EXPIRY_CHOICES,
        "created": created,
        "form": form or {"role": Role.analyst.value, "expires_days": "90"},
        "errors": errors or {},
    }
    return render(request, "iam/api_keys.html", ctx, status_code=status_code)


@router.get("/settings/api-keys")
def keys_page(
    request: Request, _: ConsolePrincipal, principal: TenantAdmin, session: SessionDep, page: PageDep
) -> Response:
    """The tenant's API keys, and a form to create one."""
    return _keys_page(request, principal, page, session=session)


@router.post("/settings/api-keys")
def keys_create(
    request: Request,
    _: ConsolePrincipal,
    principal: TenantAdmin,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    org_id: Annotated[str, Form()] = "",
    expires_days: Annotated[str, Form()] = "",
) -> Response:
    """Create a key and show its secret on this page, once (never through a redirect or cookie)."""
    form = {"name": name, "role": role, "org_id": org_id, "expires_days": expires_days}
    days = (
        int(expires_days) if expires_days.isdigit() and int(expires_days) in API_KEY_EXPIRY_CHOICES else None
    )
    try:
        with session.begin_nested():
            created = service.create_api_key(
                session=session,
                name=name,
                role=role,
                org_id=org_id.strip() or None,
                expires_at=utcnow() + timedelta(days=days) if days else None,
                created_by=principal.user_id,
                actor=principal,
            )
    except BconeError as exc:
        return _keys_page(
            request,
            principal,
            PageParams(),
            session=session,
            form=form,
            errors=_field_errors(exc),
            status_code=422,
        )
    return _keys_page(request, principal, PageParams(), session=session, created=created, status_code=201)


@router.post("/settings/api-keys/{key_id}/revoke")
def keys_revoke(
    request: Request, key_id: str, _: ConsolePrincipal, __: TenantAdmin, session: SessionDep
) -> Response:
    """Revoke a key; it stops working on its next request."""
    key = service.revoke_api_key(key_id, session=session)
    # HTMX (the confirm dialog) loads the list page afresh; a plain form post follows the redirect.
    if is_htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": "/settings/api-keys"})
    else:
        response = redirect_to("/settings/api-keys")
    flash(request, response, "iam.keys.revoked", name=key.name)
    return response
