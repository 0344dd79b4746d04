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
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from bcone.analytics import service
from bcone.analytics.api import split_steps
from bcone.analytics.errors import InvalidParameter, NotEnoughData
from bcone.analytics.messages import register as _register_messages
from bcone.core.deps import SettingsDep
from bcone.core.errors import BconeError
from bcone.core.warehouse import Warehouse, WarehouseError, open_warehouse
from bcone.web.deps import ConsolePrincipal
from bcone.web.i18n import request_locale, translate
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.overview import event_label
from bcone.web.templating import render

_register_messages()
register_nav_item(NavItem("nav.analytics", "/analytics/rfm", "chart", 50, prefixes=("/analytics",)))

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

SCRIPT = Path(__file__).parent / "static" / "analytics.js"
TABS = ("rfm", "retention", "funnel", "clv")
DEFAULT_FUNNEL = "code.scanned,order.paid,order.paid"
DEFAULT_WINDOW_HOURS = 7 * 24

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


@router.get("/analytics")
def analytics_home() -> RedirectResponse:
    return RedirectResponse("/analytics/rfm", status_code=303)


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
        if form.get("template") == "aarrr":
            if not form.get("window_hours"):
                common["window_seconds"] = service.AARRR_WINDOW_SECONDS
            report = service.aarrr(wh, tenant_id, **common)
        else:
            steps = split_steps([form.get("steps") or DEFAULT_FUNNEL])
            report = service.funnel(wh, tenant_id, steps=steps, **common)
        labels = [f"{i + 1}. {event_label(kind, locale)}" for i, kind in enumerate(report.steps)]
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
