"""JSON endpoints of the console shell (mounted under ``/api/v1``): the overview's chart data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from bcone.core.deps import CurrentPrincipal, SettingsDep
from bcone.core.warehouse import open_warehouse
from bcone.web.i18n import request_locale
from bcone.web.overview import DEFAULT_DAYS, MAX_DAYS, DailyEvents, daily_events, scope_for

router = APIRouter(tags=["overview"])


@router.get("/overview/daily", response_model=DailyEvents)
def overview_daily(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="length of the period in days")] = DEFAULT_DAYS,
) -> DailyEvents:
    """Events per day (China Standard Time) and type over the last ``days`` days, today included.

    Brand users see their brand's events; a partner user sees its own organisation's. Series
    labels follow the caller's language (``Accept-Language`` or the console's language cookie).
    """
    scope = scope_for(principal)
    with open_warehouse(settings) as warehouse:
        return daily_events(
            warehouse, scope, days=days, locale=request_locale(request, settings.default_locale)
        )
