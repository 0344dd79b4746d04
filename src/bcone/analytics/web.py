"""Console pages of the analytics domain: RFM, the retention heatmap, funnels and lifetime value.

Each page is a GET form over the same service the API uses; the charts (ECharts) draw from JSON
embedded in the page, so a page is one request. A wrong value is shown on the page with the
field it concerns (HTTP 422), never a server error; an unreachable warehouse gives a 503 page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from bcone.analytics import service
from bcone.analytics.api import split_steps
from bcone.analytics.errors import BrandUserRequired, InvalidParameter, NotEnoughData
from bcone.analytics.messages import register as _register_messages
from bcone.analytics.schemas import ResponseIn, SurveyIn
from bcone.core.auth import Principal, Role
from bcone.core.db import Database
from bcone.core.deps import SessionDep, SettingsDep, require_roles
from bcone.core.errors import BconeError, problem_response
from bcone.core.warehouse import Warehouse, WarehouseError, open_warehouse
from bcone.web.deps import ConsolePrincipal
from bcone.web.i18n import request_locale, translate
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.overview import event_label
from bcone.web.templating import flash, redirect_to, render

_register_messages()
register_nav_item(NavItem("nav.analytics", "/analytics/dashboard", "chart", 50, prefixes=("/analytics",)))

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
SCRIPT = STATIC / "analytics.js"
# Natural Earth admin-1 provinces of China, simplified (source and licence in docs/analytics.md).
CHINA_MAP = STATIC / "china-provinces.geojson"
TABS = ("dashboard", "rfm", "retention", "funnel", "clv", "nps", "attribution")
DEFAULT_FUNNEL = "code.scanned,order.paid,order.paid"
DEFAULT_WINDOW_HOURS = 7 * 24

Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]
Builder = Callable[[Warehouse, str, dict[str, str]], dict[str, Any]]


def _date(form: dict[str, str], name: str) -> date | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(f"{name} must be a date (YYYY-MM-DD), got {value!r}", field=name) from None


def _number(form: dict[str, str], name: str, default: float, kind: type[int] | type[float] = int) -> Any:
    value = form.get(name, "").strip()
    if not value:
        return default
    try:
        return kind(value)
    except ValueError:
        raise InvalidParameter(f"{name} must be a number, got {value!r}", field=name) from None


def _page(
    request: Request, principal: Any, settings: Any, tab: str, build: Builder, template: str
) -> HTMLResponse:
    form = dict(request.query_params.items())
    context: dict[str, Any] = {"tab": tab, "tabs": TABS, "form": form, "state": "ready", "error": None}
    if principal.tenant_id is None or principal.is_partner:
        context["state"] = "brand_only"
        return render(request, template, context, status_code=403)
    status = 200
    try:
        with open_warehouse(settings) as warehouse:
            context.update(build(warehouse, principal.tenant_id, form))
    except WarehouseError:
        logger.exception("analytics could not read the warehouse")
        context["state"] = "unavailable"
        status = 503
    except BconeError as exc:
        context["state"] = "invalid"
        context["error"] = {"field": exc.field, "detail": exc.detail}
        status = exc.status
    return render(request, template, context, status_code=status)


@router.get("/analytics/assets/analytics.js")
def analytics_script() -> FileResponse:
    """The pages' chart code (the shell's static directory belongs to the shell)."""
    return FileResponse(
        SCRIPT, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/analytics/assets/china-provinces.geojson")
def china_map() -> FileResponse:
    """The provinces of China for the dashboard's map (Natural Earth, public domain)."""
    return FileResponse(
        CHINA_MAP, media_type="application/geo+json", headers={"Cache-Control": "public, max-age=86400"}
    )


@router.get("/analytics")
def analytics_home() -> RedirectResponse:
    return RedirectResponse("/analytics/dashboard", status_code=303)


def _dashboard_report(wh: Warehouse, tenant_id: str, form: dict[str, str], session: Any) -> Any:
    return service.dashboard(
        wh,
        tenant_id,
        since=_date(form, "since"),
        until=_date(form, "until"),
        grain=form.get("grain") or "day",
        channel=form.get("channel") or None,
        province=form.get("province") or None,
        sku=form.get("sku") or None,
        session=session,
    )


@router.get("/analytics/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request, principal: ConsolePrincipal, settings: SettingsDep, session: SessionDep
) -> HTMLResponse:
    locale = request_locale(request, settings.default_locale)

    def build(wh: Warehouse, tenant_id: str, form: dict[str, str]) -> dict[str, Any]:
        report = _dashboard_report(wh, tenant_id, form, session)
        none = translate("analytics.funnel.none", locale)
        series = {
            "periods": [p.period.isoformat() for p in report.series],
            "sales": [p.sales_fen / 100 for p in report.series],
            "orders": [p.orders for p in report.series],
            "scans": [p.scans for p in report.series],
            "stores": [p.active_stores for p in report.series],
            "new": [p.new_consumers for p in report.series],
            "returning": [p.returning_consumers for p in report.series],
            "labels": {
                k: translate(f"analytics.dashboard.{k}", locale)
                for k in ("sales", "orders", "scans", "stores", "new", "returning")
            },
        }
        region = {
            "level": report.region_level,
            "names": [r.label or r.key or none for r in report.by_region],
            "codes": [r.key for r in report.by_region],
            "values": [r.sales_fen / 100 for r in report.by_region],
            "scans": [r.scans for r in report.by_region],
            "label": translate("analytics.dashboard.sales", locale),
        }
        channel = {
            "names": [r.key or none for r in report.by_channel],
            "keys": [r.key for r in report.by_channel],
            "values": [r.sales_fen / 100 for r in report.by_channel],
        }
        sku = {
            "names": [r.key or none for r in report.by_sku[:15]],
            "values": [r.sales_fen / 100 for r in report.by_sku[:15]],
        }
        query = {
            k: v
            for k, v in form.items()
            if k in ("since", "until", "grain", "channel", "province", "sku") and v
        }
        return {
            "report": report,
            "series_chart": series,
            "region_chart": region,
            "channel_chart": channel,
            "sku_chart": sku,
            "query": query,
            "empty": report.totals.orders == 0 and report.totals.scans == 0,
        }

    return _page(request, principal, settings, "dashboard", build, "analytics/dashboard.html")


@router.get("/analytics/dashboard/export")
def dashboard_export(
    request: Request, principal: ConsolePrincipal, settings: SettingsDep, session: SessionDep
) -> Response:
    """One table of the dashboard as CSV or XLSX (``table``, ``format``), same filters as the page."""
    form = dict(request.query_params.items())
    if principal.tenant_id is None or principal.is_partner:
        return problem_response(
            BrandUserRequired("analytics is for the brand's own users", field="tenant_id"), request
        )
    try:
        with open_warehouse(settings) as wh:
            report = _dashboard_report(wh, principal.tenant_id, form, session)
        content, media, name = service.dashboard_export(
            report, form.get("table") or "series", form.get("format") or "csv"
        )
    except BconeError as exc:
        return problem_response(exc, request)
    return Response(
        content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get("/analytics/rfm", response_class=HTMLResponse)
def rfm_page(request: Request, principal: ConsolePrincipal, settings: SettingsDep) -> HTMLResponse:
    def build(wh: Warehouse, tenant_id: str, form: dict[str, str]) -> dict[str, Any]:
        report = service.rfm(
            wh,
            tenant_id,
            since=_date(form, "since"),
            until=_date(form, "until"),
            segment=form.get("segment") or None,
            limit=20,
        )
        return {"report": report, "empty": report.customers == 0}

    return _page(request, principal, settings, "rfm", build, "analytics/rfm.html")


@router.get("/analytics/retention", response_class=HTMLResponse)
def retention_page(request: Request, principal: ConsolePrincipal, settings: SettingsDep) -> HTMLResponse:
    def build(wh: Warehouse, tenant_id: str, form: dict[str, str]) -> dict[str, Any]:
        report = service.retention(
            wh,
            tenant_id,
            period=form.get("period") or "week",
            cohort_event=form.get("cohort_event") or service.ORDER_EVENT,
            return_event=form.get("return_event") or None,
            since=_date(form, "since"),
            until=_date(form, "until"),
        )
        mode = form.get("mode") or "exact"
        if mode not in ("exact", "on_or_after"):
            raise InvalidParameter("mode must be exact or on_or_after", field="mode")
        return {
            "report": report,
            "mode": mode,
            "event_types": service.event_types(wh, tenant_id),
            "empty": not report.cohorts,
        }

    return _page(request, principal, settings, "retention", build, "analytics/retention.html")


@router.get("/analytics/funnel", response_class=HTMLResponse)
def funnel_page(request: Request, principal: ConsolePrincipal, settings: SettingsDep) -> HTMLResponse:
    locale = request_locale(request, settings.default_locale)

    def build(wh: Warehouse, tenant_id: str, form: dict[str, str]) -> dict[str, Any]:
        hours = _number(form, "window_hours", DEFAULT_WINDOW_HOURS, float)
        common: dict[str, Any] = {
            "window_seconds": round(hours * 3600) if hours == hours else 0,  # NaN is refused as 0
            "breakdown": form.get("breakdown") or None,
            "since": _date(form, "since"),
            "until": _date(form, "until"),
        }
        if form.get("template"):
            if not form.get("window_hours"):
                common["window_seconds"] = service.AARRR_WINDOW_SECONDS
            report = service.aarrr(wh, tenant_id, template=form["template"], **common)
        else:
            steps = split_steps([form.get("steps") or DEFAULT_FUNNEL])
            report = service.funnel(wh, tenant_id, steps=steps, **common)
        labels = [
            f"{i + 1}. " + " / ".join(event_label(k, locale) for k in kind.split("|"))
            for i, kind in enumerate(report.steps)
        ]
        if report.stages:
            labels = [
                f"{label} · {translate('analytics.stage.' + stage, locale)}"
                for label, stage in zip(labels, report.stages, strict=True)
            ]
        none = translate("analytics.funnel.none", locale)
        series = [
            {
                "name": translate("analytics.funnel.total", locale),
                "values": [s.users for s in report.total.steps],
            }
        ]
        series += [{"name": g.key or none, "values": [s.users for s in g.steps]} for g in report.groups[:8]]
        return {
            "report": report,
            "labels": labels,
            "chart": {"steps": labels, "series": series},
            "window_hours": common["window_seconds"] / 3600,
            "event_types": service.event_types(wh, tenant_id),
            "empty": report.total.steps[0].users == 0,
        }

    return _page(request, principal, settings, "funnel", build, "analytics/funnel.html")


@router.get("/analytics/clv", response_class=HTMLResponse)
def clv_page(request: Request, principal: ConsolePrincipal, settings: SettingsDep) -> HTMLResponse:
    def build(wh: Warehouse, tenant_id: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            report = service.clv(
                wh,
                tenant_id,
                until=_date(form, "until"),
                model=form.get("model") or "bgnbd",
                horizon_weeks=_number(form, "horizon_weeks", 52),
                discount_rate=_number(form, "discount_rate", 0.0, float),
                limit=20,
            )
        except NotEnoughData as exc:  # too little history is an empty page, not a wrong query
            return {"report": None, "empty": True, "note": exc.detail}
        return {"report": report, "empty": False}

    return _page(request, principal, settings, "clv", build, "analytics/clv.html")


# --- NPS ----------------------------------------------------------------------------------------


@router.get("/analytics/nps", response_class=HTMLResponse)
def nps_page(
    request: Request, principal: ConsolePrincipal, settings: SettingsDep, session: SessionDep
) -> HTMLResponse:
    locale = request_locale(request, settings.default_locale)

    def build(wh: Warehouse, tenant_id: str, form: dict[str, str]) -> dict[str, Any]:
        breakdown = form.get("breakdown") or "store"
        labels: dict[str, str] = {}
        if breakdown == "store":
            labels = {k: v[0] for k, v in service.organization_directory(session).items()}
        report = service.nps(
            wh,
            tenant_id,
            since=_date(form, "since"),
            until=_date(form, "until"),
            breakdown=breakdown,
            survey_id=form.get("survey_id") or None,
            labels=labels,
        )
        none = translate("analytics.funnel.none", locale)
        chart = {
            "periods": [p.period.isoformat() for p in report.series],
            "nps": [p.nps for p in report.series],
            "responses": [p.responses for p in report.series],
            "labels": {
                "nps": "NPS",
                "responses": translate("analytics.nps.responses", locale),
            },
        }
        groups = {
            "names": [g.label or g.key or none for g in report.groups[:15]],
            "values": [g.nps for g in report.groups[:15]],
        }
        return {
            "report": report,
            "chart": chart,
            "groups_chart": groups,
            "surveys": service.list_surveys(session=session),
            "comments": service.recent_comments(form.get("survey_id") or None, session=session),
            "empty": report.total.responses == 0,
        }

    return _page(request, principal, settings, "nps", build, "analytics/nps.html")


@router.post("/analytics/nps/surveys")
def create_survey_form(
    request: Request,
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    question: Annotated[str, Form()] = "",
) -> Response:
    """Create a survey; its public link is shown in the list."""
    payload: dict[str, Any] = {"name": name.strip()}
    if question.strip():
        payload["question"] = question.strip()
    try:
        survey = service.create_survey(SurveyIn.model_validate(payload), session=session)
    except ValidationError:
        session.rollback()
        return problem_response(
            InvalidParameter("a survey needs a name (1-200 characters)", field="name"), request
        )
    response = redirect_to(f"/analytics/nps?survey_id={survey.id}")
    flash(request, response, "analytics.nps.created")
    return response


def _nps_context(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if k in ("org_id", "sku", "region", "serial")}


@router.get("/nps/{survey_id}", response_class=HTMLResponse)
def nps_survey_page(request: Request, survey_id: str) -> HTMLResponse:
    """The consumers' survey page (mobile H5), reached by link or from the scan page; the query
    carries where the product came from (org_id, sku, region, serial)."""
    db: Database = request.app.state.db
    try:
        with db.session(write=False) as session:
            _tenant, survey = service.public_survey(survey_id, session=session)
    except BconeError as exc:
        return render(
            request,
            "analytics/nps_public.html",
            {"survey": None, "error": exc.detail},
            status_code=exc.status,
        )
    return render(
        request,
        "analytics/nps_public.html",
        {"survey": survey, "context": _nps_context(request), "done": False, "error": None, "field": None},
    )


@router.post("/nps/{survey_id}", response_class=HTMLResponse)
def nps_survey_answer(
    request: Request,
    survey_id: str,
    score: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    org_id: Annotated[str, Form()] = "",
    sku: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    serial: Annotated[str, Form()] = "",
) -> HTMLResponse:
    context = {"org_id": org_id, "sku": sku, "region": region, "serial": serial}
    db: Database = request.app.state.db
    survey = None
    try:
        with db.session(write=True) as session:
            _tenant, survey = service.public_survey(survey_id, session=session)
            service.submit_response(
                survey_id,
                ResponseIn.model_validate({"score": score, "comment": comment[:2000], **context}),
                session=session,
            )
    except (BconeError, ValidationError) as exc:
        detail = exc.detail if isinstance(exc, BconeError) else str(exc.errors()[0]["msg"])
        field = exc.field if isinstance(exc, BconeError) else str(exc.errors()[0]["loc"][0])
        status = exc.status if isinstance(exc, BconeError) else 422
        ctx = {
            "survey": survey,
            "context": context,
            "done": False,
            "error": detail,
            "field": field,
            "comment": comment,
        }
        return render(request, "analytics/nps_public.html", ctx, status_code=status)
    return render(request, "analytics/nps_public.html", {"survey": survey, "done": True, "error": None})


# --- Partner attribution ------------------------------------------------------------------------


@router.get("/analytics/attribution", response_class=HTMLResponse)
def attribution_page(
    request: Request, principal: ConsolePrincipal, settings: SettingsDep, session: SessionDep
) -> HTMLResponse:
    locale = request_locale(request, settings.default_locale)

    def build(wh: Warehouse, tenant_id: str, form: dict[str, str]) -> dict[str, Any]:
        report = service.attribution(
            wh, tenant_id, since=_date(form, "since"), until=_date(form, "until"), limit=50, session=session
        )
        none = translate("analytics.funnel.none", locale)
        top = report.distributors[:12] or report.stores[:12]
        chart = {
            "names": [r.label or none for r in top],
            "acquired": [r.acquired_revenue_fen / 100 for r in top],
            "served": [r.served_revenue_fen / 100 for r in top],
            "labels": {
                "acquired": translate("analytics.attribution.acquired_revenue", locale),
                "served": translate("analytics.attribution.served_revenue", locale),
            },
        }
        return {
            "report": report,
            "chart": chart,
            "empty": not (report.stores or report.sharers),
        }

    return _page(request, principal, settings, "attribution", build, "analytics/attribution.html")
