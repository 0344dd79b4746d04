"""Console dependencies and error pages.

Console pages take :data:`ConsolePrincipal`: the logged-in caller, or a redirect to
``/login?next=<this page>``. :func:`install_console_handlers` renders errors as HTML pages for
browsers (403, 404, ...) while ``/api/`` and machine clients keep ``application/problem+json``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Annotated, Any, cast
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bcone.core.auth import Principal
from bcone.core.deps import OptionalPrincipal
from bcone.core.errors import BconeError, Unauthenticated
from bcone.web.templating import is_htmx, redirect_to, render

logger = logging.getLogger(__name__)

LOGIN_PATH = "/login"
API_PREFIX = "/api/"


class LoginRequired(Exception):
    """Raised by :data:`ConsolePrincipal` when nobody is logged in; answered with a redirect."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default``: never an open redirect."""
    if not value:
        return default
    # Browsers treat a backslash like a slash, so "/\\evil.example" would leave the site.
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 0x20 for c in value):
        return default
    return value


def _page_path(request: Request) -> str:
    """The page the user is on: for an HTMX call the page that made it, not the fragment URL."""
    if is_htmx(request):
        current = urlsplit(request.headers.get("hx-current-url", ""))
        if current.path and current.netloc == request.url.netloc:
            return safe_next(current.path + (f"?{current.query}" if current.query else ""))
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_url(next_path: str) -> str:
    """The login page that brings the user back to ``next_path``."""
    if safe_next(next_path) == "/":
        return LOGIN_PATH
    return f"{LOGIN_PATH}?{urlencode({'next': next_path})}"


async def get_console_principal(request: Request, principal: OptionalPrincipal) -> Principal:
    """The logged-in caller of a console page; raises :class:`LoginRequired` when there is none."""
    if principal is None:
        raise LoginRequired(_page_path(request))
    return principal


ConsolePrincipal = Annotated[Principal, Depends(get_console_principal)]


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser on a console page (not the API, not a machine client)."""
    if request.url.path.startswith(API_PREFIX) or request.url.path == "/api":
        return False
    if is_htmx(request):
        return True
    return "text/html" in request.headers.get("accept", "")


def _login_redirect(request: Request, next_path: str) -> Response:
    target = login_url(next_path)
    if is_htmx(request):
        # A 303 would be followed inside the XHR and the login page swapped into a fragment;
        # HX-Redirect makes HTMX load it as a whole page instead.
        return Response(status_code=204, headers={"HX-Redirect": target})
    return redirect_to(target)


ERROR_HEADER = "X-Bcone-Error"


def _recognise_caller(request: Request) -> None:
    """Find who is calling when no dependency did (an unknown URL), so the error page keeps the
    caller's navigation. Best effort: the error page must render even if this fails."""
    if getattr(request.state, "principal", None) is not None:
        return
    try:
        with request.app.state.db.session() as session:
            principal = request.app.state.authenticator(request, session)
    except Exception:
        logger.warning("could not recognise the caller of an error page", exc_info=True)
        return
    if principal is not None:
        request.state.principal = principal


def _error_page(request: Request, status: int, code: str, detail: str) -> Response:
    _recognise_caller(request)
    context = {"status": status, "code": code, "detail": detail}
    response = render(request, "error.html", context, status_code=status)
    if is_htmx(request):
        # Never swap a whole error page into a fragment; console.js tells the user instead.
        response.headers["HX-Reswap"] = "none"
        response.headers[ERROR_HEADER] = code
    return response


async def _delegate(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    if inspect.isawaitable(result):
        result = await result
    return cast(Response, result)


def install_console_handlers(app: FastAPI) -> None:
    """Redirect anonymous console visitors to the login page and show browsers HTML error pages.

    Call after :func:`bcone.core.errors.install_error_handlers`: machine clients and ``/api/``
    still get the problem+json answers of those handlers.
    """
    api_bcone = app.exception_handlers[BconeError]  # the problem+json handlers, kept for the API
    api_http = app.exception_handlers[StarletteHTTPException]
    api_validation = app.exception_handlers[RequestValidationError]

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return _login_redirect(request, exc.next_path)

    @app.exception_handler(BconeError)
    async def _bcone(request: Request, exc: BconeError) -> Response:
        if not wants_html(request):
            return await _delegate(api_bcone, request, exc)
        if isinstance(exc, Unauthenticated):
            return _login_redirect(request, _page_path(request))
        return _error_page(request, exc.status, exc.code, exc.detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not wants_html(request):
            return await _delegate(api_http, request, exc)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error_page(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if not wants_html(request):
            return await _delegate(api_validation, request, exc)
        return _error_page(request, 422, "validation_failed", "")
