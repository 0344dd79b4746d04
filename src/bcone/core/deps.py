"""FastAPI dependencies shared by every domain: the unit of work, the caller, their role."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from bcone.core.auth import Principal, Role
from bcone.core.db import Database, end_unit_of_work, run_blocking
from bcone.core.errors import CsrfFailed, Forbidden, Unauthenticated
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings
from bcone.core.tenancy import bind_tenant

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: committed once after the handler, rolled back on error.

    Opening a session does no I/O (it takes a connection on first use), so it happens right here;
    the commit and the connection's return to the pool run in a database thread.
    """
    session = get_database(request).open_session(write=request.method not in SAFE_METHODS)
    try:
        yield session
    except BaseException:
        await _end_unit_of_work(session, commit=False)
        raise
    await _end_unit_of_work(session, commit=True)


async def _end_unit_of_work(session: Session, *, commit: bool) -> None:
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        await run_blocking(end_unit_of_work, session, commit=commit)
    else:
        session.close()  # never touched the database: nothing to commit, no connection to return


# scope="function": the commit runs right after the handler, before the response is sent, so a
# failed commit is reported to the caller instead of being lost after a 200.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def _csrf_token_sent(request: Request) -> str | None:
    token = request.headers.get(CSRF_HEADER)
    if token:
        return token
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def get_optional_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller, if authenticated, with the session bound to its tenant; cookie sessions must
    send the CSRF token on unsafe methods.

    The look-up runs in a database thread (:func:`run_blocking`), so a wait for a database
    connection never blocks the event loop (which would stall every other request).
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = await run_blocking(request.app.state.authenticator, request, session)
    if principal is None:
        return None
    if principal.tenant_id is not None:
        bind_tenant(session, principal.tenant_id)
    if principal.via == "session" and request.method not in SAFE_METHODS:
        sent = await _csrf_token_sent(request)
        if not sent or not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
            raise CsrfFailed("missing or wrong CSRF token", field=CSRF_FIELD)
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def _required(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated("log in or send an API key (Authorization: Bearer ...)")
    return principal


async def get_principal(principal: OptionalPrincipal) -> Principal:
    """The authenticated caller; 401 when there is none."""
    return _required(principal)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits owners, admins and the given roles of a tenant."""

    # On OptionalPrincipal rather than CurrentPrincipal: each level of dependencies costs FastAPI
    # more per request than the check itself.
    async def _check(caller: OptionalPrincipal) -> Principal:
        principal = _required(caller)
        if principal.tenant_id is None:
            raise Forbidden("this action needs a tenant user")
        if not principal.has_role(*roles):
            allowed = ", ".join(sorted({"owner", "admin", *roles}))
            raise Forbidden(f"your role cannot do this (allowed: {allowed})", field="role")
        return principal

    return _check


async def require_operator(principal: CurrentPrincipal) -> Principal:
    """Admits the platform operator only."""
    if not principal.is_operator:
        raise Forbidden("only the platform operator can do this")
    return principal


OperatorPrincipal = Annotated[Principal, Depends(require_operator)]
PageDep = Annotated[PageParams, Depends(PageParams.from_query)]

__all__ = [
    "CurrentPrincipal",
    "OperatorPrincipal",
    "OptionalPrincipal",
    "PageDep",
    "Query",
    "SessionDep",
    "SettingsDep",
    "require_roles",
]
