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

from fastapi import APIRouter, Query, Request, Response

from bcone.analytics import jobs as _jobs  # noqa: F401  (registers the summary refresh job)
from bcone.analytics import service
from bcone.analytics.errors import BrandUserRequired, InvalidParameter
from bcone.analytics.schemas import (
    AttributionReport,
    ClvReport,
    DashboardReport,
    FunnelReport,
    NpsReport,
    ResponseIn,
    ResponseOut,
    RetentionReport,
    RfmReport,
    SurveyIn,
    SurveyOut,
)
from bcone.core.auth import Principal
from bcone.core.deps import CurrentPrincipal, SessionDep, SettingsDep
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


def reject_unknown(request: Request, allowed: set[str]) -> None:
    """A filter the report does not have is an error naming it, not a silently wider report."""
    for name in request.query_params:
        if name not in allowed:
            raise InvalidParameter(
                f"unknown parameter {name!r}; this report takes {', '.join(sorted(allowed))}", field=name
            )


DASHBOARD_PARAMS = {"since", "until", "grain", "channel", "province", "sku"}


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
    """The AARRR template: acquisition (identified, share link or scan) → activation (scan or
    order) → retention (another) → revenue (order.paid) → referral (share.clicked or
    referral.converted)."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.aarrr(
            wh, tenant_id, window_seconds=window_seconds, breakdown=breakdown, since=since, until=until
        )


@router.get("/funnel/rarra", response_model=FunnelReport)
def rarra_report(
    principal: CurrentPrincipal,
    settings: SettingsDep,
    window_seconds: Annotated[int, Query()] = service.AARRR_WINDOW_SECONDS,
    breakdown: Annotated[str | None, Query(description="channel, region or store")] = None,
    since: Since = None,
    until: Until = None,
) -> FunnelReport:
    """The RARRA template: retention → activation → referral → revenue → acquisition."""
    tenant_id = brand_tenant(principal)
    with _warehouse(settings) as wh:
        return service.aarrr(
            wh,
            tenant_id,
            window_seconds=window_seconds,
            breakdown=breakdown,
            since=since,
            until=until,
            template="rarra",
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


@router.get("/dashboard", response_model=DashboardReport)
def dashboard_report(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    session: SessionDep,
    since: Since = None,
    until: Until = None,
    grain: Annotated[str, Query(description="day or week")] = "day",
    channel: Annotated[str | None, Query(description="only events of this channel")] = None,
    province: Annotated[str | None, Query(description="two-digit province prefix, e.g. 44")] = None,
    sku: Annotated[str | None, Query(description="only this SKU")] = None,
) -> DashboardReport:
    """The operating dashboard: per day or week, and by channel, province (cities once a province
    is chosen), SKU, store and distributor. An unknown parameter is a 422 naming it."""
    tenant_id = brand_tenant(principal)
    reject_unknown(request, DASHBOARD_PARAMS)
    with _warehouse(settings) as wh:
        return service.dashboard(
            wh,
            tenant_id,
            since=since,
            until=until,
            grain=grain,
            channel=channel,
            province=province,
            sku=sku,
            session=session,
        )


@router.get("/dashboard/export", response_class=Response)
def dashboard_export(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    session: SessionDep,
    table: Annotated[str, Query(description="series, channel, region, sku, store or distributor")] = "series",
    format: Annotated[str, Query(description="csv or xlsx")] = "csv",
    since: Since = None,
    until: Until = None,
    grain: Annotated[str, Query()] = "day",
    channel: Annotated[str | None, Query()] = None,
    province: Annotated[str | None, Query()] = None,
    sku: Annotated[str | None, Query()] = None,
) -> Response:
    """One table of the dashboard as a CSV (UTF-8 with BOM) or XLSX download."""
    tenant_id = brand_tenant(principal)
    reject_unknown(request, DASHBOARD_PARAMS | {"table", "format"})
    with _warehouse(settings) as wh:
        report = service.dashboard(
            wh,
            tenant_id,
            since=since,
            until=until,
            grain=grain,
            channel=channel,
            province=province,
            sku=sku,
            session=session,
        )
    content, media, name = service.dashboard_export(report, table, format)
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/nps", response_model=NpsReport)
def nps_report(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    since: Since = None,
    until: Until = None,
    breakdown: Annotated[str, Query(description="store, region or sku")] = "store",
    survey_id: Annotated[str | None, Query(description="only this survey")] = None,
) -> NpsReport:
    """NPS of the ``nps.responded`` events: in total, per week and per store, region or SKU."""
    tenant_id = brand_tenant(principal)
    reject_unknown(request, {"since", "until", "breakdown", "survey_id"})
    with _warehouse(settings) as wh:
        return service.nps(wh, tenant_id, since=since, until=until, breakdown=breakdown, survey_id=survey_id)


@router.get("/nps/surveys", response_model=list[SurveyOut])
def list_surveys(principal: CurrentPrincipal, session: SessionDep) -> list[SurveyOut]:
    brand_tenant(principal)
    return service.list_surveys(session=session)


@router.post("/nps/surveys", response_model=SurveyOut, status_code=201)
def create_survey(principal: CurrentPrincipal, session: SessionDep, body: SurveyIn) -> SurveyOut:
    """A new survey; consumers answer it at ``url`` (add ``org_id``, ``sku``, ``region``,
    ``serial`` to the link's query to record where they came from)."""
    brand_tenant(principal)
    return service.create_survey(body, session=session)


@router.post("/nps/surveys/{survey_id}/responses", response_model=ResponseOut, status_code=201)
def answer_survey(survey_id: str, session: SessionDep, body: ResponseIn) -> ResponseOut:
    """A consumer's answer (public: no login, like the survey page). ``score`` 0-10."""
    return service.submit_response(survey_id, body, session=session)


@router.get("/attribution", response_model=AttributionReport)
def attribution_report(
    request: Request,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    session: SessionDep,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, Query(description="rows per list (0-1000)")] = 50,
) -> AttributionReport:
    """Partner attribution: consumers and revenue by the store or sharer who brought them in and
    the store or sharer who served them, and by distributor."""
    tenant_id = brand_tenant(principal)
    reject_unknown(request, {"since", "until", "limit"})
    with _warehouse(settings) as wh:
        return service.attribution(wh, tenant_id, since=since, until=until, limit=limit, session=session)
