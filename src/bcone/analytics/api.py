"""HTTP API of the analytics domain (``/api/v1/analytics/...``), read-only, for the brand's users.

Enumerated parameters (period, breakdown, model, segment) are plain strings checked by the
service, so a wrong value gets the domain's own error code naming the field; dates and numbers
that do not parse get the shared ``validation_failed`` problem, also naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from bcone.analytics import service
from bcone.analytics.errors import BrandUserRequired
from bcone.analytics.schemas import ClvReport, FunnelReport, RetentionReport, RfmReport
from bcone.core.auth import Principal
from bcone.core.deps import CurrentPrincipal, SettingsDep
from bcone.core.settings import Settings
from bcone.core.warehouse import Warehouse, open_warehouse

router = APIRouter(prefix="/analytics", tags=["analytics"])

Since = Annotated[date | None, Query(description="first local day (China Standard Time), included")]
Until = Annotated[date | None, Query(description="last local day, included; default today")]


def brand_tenant(principal: Principal) -> str:
    """The tenant whose analytics ``principal`` may read: brand users only (partners see their
    own organisation on the overview; consumer analytics is the brand's)."""
    if principal.tenant_id is None or principal.is_partner:
        raise BrandUserRequired("analytics is available to the brand's own users", field="tenant_id")
    return principal.tenant_id


@contextmanager
def _warehouse(settings: Settings) -> Iterator[Warehouse]:
    with open_warehouse(settings) as wh:
        yield wh


def split_steps(values: list[str]) -> list[str]:
    """Steps given as repeated parameters, comma-separated, or both."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


@router.get("/event-types", response_model=list[str])
def list_event_types(principal: CurrentPrincipal, settings: SettingsDep) -> list[str]:
    """Event types that funnels and retention accept: bcone's own and those in your events."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.event_types(wh, tenant_id)


@router.get("/rfm", response_model=RfmReport)
def rfm_report(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    segment: Annotated[str | None, Query(description="only this segment in `top`")] = None,
    limit: Annotated[int, Query(description="consumers listed in `top`, biggest spenders first")] = 50,
) -> RfmReport:
    """RFM quintile scores and named segments of the consumers with paid orders in the range
    (default: the last 365 days)."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.rfm(wh, tenant_id, since=since, until=until, segment=segment, limit=limit)


@router.get("/retention", response_model=RetentionReport)
def retention_report(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    period: Annotated[str, Query(description="week or month")] = "week",
    cohort_event: Annotated[
        str, Query(description="the event that puts a consumer in a cohort")
    ] = "order.paid",
    return_event: Annotated[str | None, Query(description="the event that counts as coming back")] = None,
    since: Since = None,
    until: Until = None,
) -> RetentionReport:
    """Cohorts by the week or month of each consumer's first ``cohort_event``, with exact-period
    and on-or-after retention counts."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.retention(
            wh,
            tenant_id,
            period=period,
            cohort_event=cohort_event,
            return_event=return_event,
            since=since,
            until=until,
        )


@router.get("/funnel", response_model=FunnelReport)
def funnel_report(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    steps: Annotated[list[str], Query(description="event types in order (repeat or comma-separate)")],
    window_seconds: Annotated[int, Query(description="time allowed from the first step to the last")] = 7
    * 86400,
    breakdown: Annotated[str | None, Query(description="channel, region or store")] = None,
    since: Since = None,
    until: Until = None,
) -> FunnelReport:
    """An ordered funnel of event types with a conversion window, optionally broken down."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.funnel(
            wh,
            tenant_id,
            steps=split_steps(steps),
            window_seconds=window_seconds,
            breakdown=breakdown,
            since=since,
            until=until,
        )


@router.get("/funnel/aarrr", response_model=FunnelReport)
def aarrr_report(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    window_seconds: Annotated[int, Query()] = service.AARRR_WINDOW_SECONDS,
    breakdown: Annotated[str | None, Query(description="channel, region or store")] = None,
    since: Since = None,
    until: Until = None,
) -> FunnelReport:
    """The AARRR template: acquisition (code.scanned) → activation (order.paid) → retention
    (a repeat order.paid)."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.aarrr(
            wh, tenant_id, window_seconds=window_seconds, breakdown=breakdown, since=since, until=until
        )


@router.get("/clv", response_model=ClvReport)
def clv_report(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    until: Until = None,
    model: Annotated[str, Query(description="bgnbd or pareto")] = "bgnbd",
    horizon_weeks: Annotated[int, Query()] = 52,
    discount_rate: Annotated[float, Query(description="per week")] = 0.0,
    limit: Annotated[int, Query()] = 50,
) -> ClvReport:
    """Customer lifetime value: BG/NBD or Pareto/NBD with Gamma-Gamma, fitted on ``order.paid``."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.clv(
            wh,
            tenant_id,
            until=until,
            model=model,
            horizon_weeks=horizon_weeks,
            discount_rate=discount_rate,
            limit=limit,
        )
