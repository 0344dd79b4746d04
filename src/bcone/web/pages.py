"""Console shell pages: the operating overview (home) and the language switch."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from bcone.core.deps import SettingsDep
from bcone.core.errors import NotFound
from bcone.core.warehouse import open_warehouse
from bcone.web.deps import ConsolePrincipal, safe_next
from bcone.web.i18n import LOCALE_COOKIE, LOCALES, request_locale
from bcone.web.overview import (
    DEFAULT_DAYS,
    MAX_DAYS,
    PERIOD_CHOICES,
    daily_events,
    overview_summary,
    scope_for,
)
from bcone.web.templating import redirect_to, render

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

# The language choice is a preference, not a secret: kept a year so it survives logouts.
LOCALE_COOKIE_MAX_AGE_SECONDS = 365 * 24 * 3600

DaysQuery = Annotated[int, Query(ge=1, le=MAX_DAYS, description="length of the period in days")]


@router.get("/", response_class=HTMLResponse, name="overview")
def overview_page(
    request: Request, principal: ConsolePrincipal, settings: SettingsDep, days: DaysQuery = DEFAULT_DAYS
) -> HTMLResponse:
    """The operating overview: headline counts, events per day by type, totals by type."""
    context: dict[str, object] = {"days": days, "period_choices": PERIOD_CHOICES, "state": "ready"}
    if principal.tenant_id is None:
        context["state"] = "no_tenant"
        return render(request, "web/overview.html", context)
    scope = scope_for(principal)
    locale = request_locale(request, settings.default_locale)
    try:
        with open_warehouse(settings) as warehouse:
            summary = overview_summary(warehouse, scope, days=days)
            daily = daily_events(warehouse, scope, days=days, locale=locale)
    except Exception:
        # The home page must open whatever state the analytics store is in (locked by a flush,
        # a server down, a damaged file): say so on the page, keep the console usable.
        logger.exception("the overview could not read the warehouse")
        context["state"] = "unavailable"
        return render(request, "web/overview.html", context, status_code=503)
    context.update(
        summary=summary,
        daily=daily,
        partner_scope=scope.org_id is not None,
        state="ready" if summary.events else "empty",
    )
    return render(request, "web/overview.html", context)


@router.get("/lang/{locale}", name="switch_language")
def switch_language(
    locale: str,
    settings: SettingsDep,
    next_path: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> RedirectResponse:
    """Remember the interface language in a cookie and go back to the page (on this site only)."""
    chosen = {code.lower(): code for code in LOCALES}.get(locale.lower())
    if chosen is None:
        raise NotFound(f"unknown language {locale!r}; choose one of {', '.join(LOCALES)}", field="locale")
    response = redirect_to(safe_next(next_path))
    response.set_cookie(
        LOCALE_COOKIE,
        chosen,
        max_age=LOCALE_COOKIE_MAX_AGE_SECONDS,
        path="/",
        samesite="lax",
        httponly=True,
        secure=settings.secure_cookies,
    )
    return response
