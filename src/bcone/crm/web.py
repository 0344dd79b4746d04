"""Console pages of the crm domain: the pipeline list with search, the opportunity page (iron
triangle, scorecard, probability and reasons, timeline, stage move, and the forms that change
them), the model page with its reliability curve, and the forecast. Tiers and growth tasks,
leads, bonuses and visits are in :mod:`bcone.crm._pages`."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import BconeError, Forbidden
from bcone.crm import _pages, service
from bcone.crm.messages import register as _register_messages
from bcone.crm.schemas import OppStatus
from bcone.web.deps import ConsolePrincipal
from bcone.web.forms import locale_of
from bcone.web.i18n import translate
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import flash, redirect_to, render, render_list

_register_messages()
register_nav_item(NavItem("nav.crm", "/crm", "chart", 50, prefixes=("/crm",)))

router = APIRouter(include_in_schema=False)
# Tiers, growth tasks, leads, bonuses, visits and the edit forms; first, so that fixed paths such
# as /crm/opportunities/new come before /crm/opportunities/{opp_id}.
router.include_router(_pages.router)

Seller = Annotated[Principal, Depends(require_roles(Role.sales_rep, Role.sales_manager))]
RESULTS_TARGET = "opp-results"
STATUSES: tuple[str, ...] = get_args(OppStatus)


def _stage_names(session: Any, locale: str) -> dict[str, str]:
    return {s.key: (s.name_zh if locale == "zh-CN" else s.name_en) for s in service.pipeline(session=session)}


@router.get("/crm")
def pipeline_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    page: PageDep,
    stage: str | None = None,
    status: str | None = None,
) -> Response:
    """The opportunities the caller may see: search as you type, filter by stage and status."""
    stages = service.pipeline(session=session)
    stage = stage if stage in {s.key for s in stages} else None
    status = status if status in STATUSES else None
    result = service.list_opportunities(
        page, session=session, viewer=service.Viewer.of(principal), stage=stage, status=status
    )
    ctx = {
        "result": result,
        "stages": stages,
        "stage_names": _stage_names(session, locale_of(request)),
        "statuses": STATUSES,
        "filters": {"stage": stage or "", "status": status or ""},
        "filtered": bool(page.q or stage or status),
        "model": service.model_status(session=session),
        "results_target": RESULTS_TARGET,
    }
    return render_list(request, "crm/pipeline.html", "crm/_opp_results.html", ctx)


@router.get("/crm/opportunities/{opp_id}")
def opportunity_page(
    request: Request, opp_id: str, _: ConsolePrincipal, principal: Seller, session: SessionDep
) -> Response:
    """One opportunity: probability and reasons, iron triangle, scorecard, timeline."""
    viewer = service.Viewer.of(principal)
    opp = service.get_opportunity(opp_id, session=session, viewer=viewer)
    template = service.current_template(session=session)
    history = service.assessments(opp_id, session=session, viewer=viewer)
    latest = history[0] if history else None
    versions = {t.version: t for t in service.template_versions(session=session)}
    used = versions.get(latest.template_version, template) if latest else template
    ctx = {
        "opp": opp,
        "team": service.team(opp_id, session=session, viewer=viewer),
        "timeline": service.timeline(opp_id, session=session, viewer=viewer),
        "stages": service.pipeline(session=session),
        "stage_names": _stage_names(session, locale_of(request)),
        "latest": latest,
        "items": used.items,
        "template": template,
        "model": service.model_status(session=session),
        **_pages.opportunity_extras(session, principal, opp_id),
    }
    return render(request, "crm/opportunity.html", ctx)


@router.post("/crm/opportunities/{opp_id}/stage")
def move_stage(
    request: Request,
    opp_id: str,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    to_stage: Annotated[str, Form()],
) -> Response:
    """Move the opportunity, or come back with the scorecard items the stage still needs."""
    locale = locale_of(request)
    try:
        service.move_stage(opp_id, to_stage, session=session, viewer=service.Viewer.of(principal))
    except BconeError as exc:
        if exc.code != "scorecard_items_missing":
            raise
        response = redirect_to(f"/crm/opportunities/{opp_id}")
        items = ", ".join(exc.extra.get("missing", []))
        flash(request, response, "crm.missing_items", kind="error", items=items)
        return response
    response = redirect_to(f"/crm/opportunities/{opp_id}")
    flash(request, response, "crm.moved", stage=_stage_names(session, locale).get(to_stage, to_stage))
    return response


@router.get("/crm/model")
def model_page(request: Request, _: ConsolePrincipal, __: Seller, session: SessionDep) -> Response:
    """The win-rate model: held-out metrics before and after calibration, against the
    salespeople's own estimates, the reliability curve, and metrics by team and stage."""
    status = service.model_status(session=session)
    metrics = status.model.metrics if status.model else None
    curves = None
    if metrics:
        locale = locale_of(request)
        curves = {
            "labels": {
                k: translate(f"crm.model.{k}", locale)
                for k in ("raw", "calibrated", "own", "ideal", "predicted", "observed")
            },
            "raw": metrics["raw"]["reliability"],
            "calibrated": metrics["calibrated"]["reliability"],
            "own": (metrics.get("own_estimate") or {}).get("reliability", []),
        }
    ctx = {
        "status": status,
        "metrics": metrics,
        "curves": curves,
        "stage_names": _stage_names(session, locale_of(request)),
    }
    return render(request, "crm/model.html", ctx)


@router.post("/crm/model/train")
def train(request: Request, _: ConsolePrincipal, principal: Seller, session: SessionDep) -> Response:
    """Queue the training job (managers, owners, admins)."""
    if not principal.has_role(Role.sales_manager):
        raise Forbidden("only managers train the model", field="role")
    service.enqueue_training(session=session)
    response = redirect_to("/crm/model")
    flash(request, response, "crm.model.queued", kind="info")
    return response


@router.get("/crm/forecast")
def forecast_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Seller,
    session: SessionDep,
    by: Literal["month", "quarter", "team", "owner"] = "month",
) -> Response:
    """The weighted pipeline with commit and best case, by period, team or salesperson."""
    result = service.forecast(session=session, viewer=service.Viewer.of(principal), by=by)
    return render(request, "crm/forecast.html", {"forecast": result, "by": by})
