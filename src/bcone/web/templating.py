"""Rendering console pages: one Jinja2 environment that finds every domain's ``templates/``.

A domain's ``web.py`` calls :func:`render` with a template name such as
``"network/org_list.html"``; the file lives at ``src/bcone/network/templates/network/org_list.html``
and usually extends ``"base.html"`` from the console shell.

In every template: ``t(key, **params)`` (the request's language, also inside imported macros),
``tm(key, **params)`` (the same, keeping Markup parameters such as ``<code>``),
``locale``, ``principal``, ``csrf_token`` and ``csrf_input()`` (the hidden form field), ``path``,
``current_url``, ``url_with(request, page=2)``, ``static_url(path)``, ``nav`` (the left
navigation with the active entry marked) and ``flashes``; filters ``yuan`` (fen to ``¥1,234.50``),
``number`` (``12,345``) and ``localtime`` (an aware datetime in the display time zone).
After a successful form post, call :func:`flash` on the redirect (see :func:`redirect_to`).
"""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bcone.core.deps import CSRF_FIELD
from bcone.core.money import format_yuan
from bcone.core.settings import Settings
from bcone.web import messages  # noqa: F401  (registers the shell's messages)
from bcone.web.i18n import DEFAULT_LOCALE, request_locale, translate
from bcone.web.nav import nav_for

PACKAGE_DIR = Path(__file__).resolve().parent.parent
SHELL_TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

# The brand's working day: China has one time zone and no daylight saving, so a fixed UTC+8
# offset is exact and needs no time-zone database.
DISPLAY_UTC_OFFSET_HOURS = 8
DISPLAY_TIMEZONE = timezone(timedelta(hours=DISPLAY_UTC_OFFSET_HOURS), "CST")

FLASH_COOKIE = "bcone_flash"
# A flash lives from one redirect to the next page; a minute covers a slow page load.
FLASH_MAX_AGE_SECONDS = 60
FlashKind = Literal["success", "info", "warning", "error"]
_FLASH_KINDS = frozenset(get_args(FlashKind))

_locale: ContextVar[str] = ContextVar("bcone_render_locale", default=DEFAULT_LOCALE)
_csrf: ContextVar[str] = ContextVar("bcone_render_csrf", default="")


def _template_dirs() -> list[str]:
    dirs = [str(SHELL_TEMPLATES)]
    dirs += sorted(str(p) for p in PACKAGE_DIR.glob("*/templates") if p != SHELL_TEMPLATES)
    return dirs


def _t(key: str, **params: object) -> str:
    # A global, not only a context variable: macros imported without context still translate.
    return translate(key, _locale.get(), **params)


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:,}"


def _localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "–"
    if value.tzinfo is None:  # SQLite hands back UTC without a zone
        value = value.replace(tzinfo=UTC)
    return value.astimezone(DISPLAY_TIMEZONE).strftime(fmt)


def _t_markup(key: str, **params: object) -> Markup:
    # For messages that embed markup (``code=Markup("<code>...</code>")``): the message text and
    # plain parameters are escaped, Markup parameters are kept.
    text = Markup.escape(translate(key, _locale.get()))
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text


def _csrf_input() -> Markup:
    # Reads the token of the page being rendered, so imported macros can use it too.
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, _csrf.get())


def url_with(request: Request, **params: object) -> str:
    """The current path with query ``params`` replaced (``None`` drops one), e.g. for paging links."""
    query = {k: v for k, v in request.query_params.items() if k not in params}
    query.update({k: str(v) for k, v in params.items() if v is not None and v != ""})
    return request.url.path + (f"?{urlencode(query)}" if query else "")


@lru_cache(maxsize=256)
def _static_digest(path: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>``: browsers may cache it long, a change busts it."""
    clean = path.lstrip("/")
    file = (STATIC_DIR / clean).resolve()
    if STATIC_DIR.resolve() not in file.parents or not file.is_file():
        raise FileNotFoundError(f"no static file {clean!r}")
    return f"/static/{clean}?v={_static_digest(clean, file.stat().st_mtime_ns)}"


env = Environment(
    loader=ChoiceLoader([FileSystemLoader(_template_dirs())]),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["yuan"] = format_yuan
env.filters["number"] = _number
env.filters["localtime"] = _localtime
env.globals["t"] = _t
env.globals["static_url"] = static_url
env.globals["tm"] = _t_markup
env.globals["csrf_input"] = _csrf_input
env.globals["url_with"] = url_with


def is_htmx(request: Request) -> bool:
    """Whether HTMX sent the request (it then wants a fragment, not a whole page)."""
    return request.headers.get("hx-request") == "true"


def render_list(request: Request, page: str, results: str, context: dict[str, Any]) -> HTMLResponse:
    """A list page, or only its ``results`` fragment when the list's own HTMX search asks for it.

    ``context["results_target"]`` is the id of the element that search swaps (its hx-target).
    """
    partial = request.headers.get("hx-target") == context["results_target"]
    return render(request, results if partial else page, context)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="bcone.flash")


def flash(
    request: Request, response: Response, key: str, *, kind: FlashKind = "success", **params: str
) -> None:
    """Show the message ``key`` (translated, filled with ``params``) on the next page rendered.

    The message travels in a signed, short-lived cookie, so a redirect after a form post can
    carry it and nobody can forge a message that seems to come from the console.
    """
    if kind not in _FLASH_KINDS:
        raise ValueError(f"unknown flash kind {kind!r}")
    settings: Settings = request.app.state.settings
    value = _serializer(settings).dumps({"key": key, "kind": kind, "params": params})
    response.set_cookie(
        FLASH_COOKIE,
        value,
        max_age=FLASH_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )


def redirect_to(url: str, *, status_code: int = 303) -> RedirectResponse:
    """A Post/Redirect/Get redirect (303 so the browser follows with GET)."""
    return RedirectResponse(url, status_code=status_code)


def _take_flash(request: Request, locale: str) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    settings: Settings = request.app.state.settings
    try:
        data = _serializer(settings).loads(raw, max_age=FLASH_MAX_AGE_SECONDS)
    except BadSignature:  # also covers an expired message
        return []
    if not isinstance(data, dict) or data.get("kind") not in _FLASH_KINDS:
        return []
    raw_params = data.get("params")
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    text = translate(str(data.get("key", "")), locale, **params)
    return [{"kind": str(data["kind"]), "text": text}]


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render ``template`` with the request's locale, caller and CSRF token in scope.

    ``context["flashes"]`` (a list of ``{"kind", "text"}``) adds messages to the page, after any
    flash carried by the cookie, which a full page (not an HTMX fragment) consumes.
    """
    locale = request_locale(request, request.app.state.settings.default_locale)
    principal = getattr(request.state, "principal", None)
    consume_flash = not is_htmx(request) and FLASH_COOKIE in request.cookies
    flashes = _take_flash(request, locale) if consume_flash else []
    ctx: dict[str, Any] = {
        "request": request,
        "locale": locale,
        "t": lambda key, **params: translate(key, locale, **params),
        "principal": principal,
        "csrf_token": getattr(principal, "csrf_token", None) or "",
        "path": request.url.path,
        "current_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "nav": nav_for(request.url.path, principal),
        "is_htmx": is_htmx(request),
    }
    ctx.update(context or {})
    ctx["flashes"] = flashes + list(ctx.get("flashes") or [])
    locale_token = _locale.set(locale)
    csrf_token = _csrf.set(ctx["csrf_token"])
    try:
        html = env.get_template(template).render(ctx)
    finally:
        _csrf.reset(csrf_token)
        _locale.reset(locale_token)
    response = HTMLResponse(html, status_code=status_code)
    if consume_flash:
        response.delete_cookie(FLASH_COOKIE, httponly=True, samesite="lax")
    return response
