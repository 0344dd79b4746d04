"""Console pages of the promotions domain: campaign list, editor and live figures."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError

from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import BconeError
from bcone.core.pagination import PageParams
from bcone.promotions import service
from bcone.promotions.messages import register as _register_messages
from bcone.promotions.schemas import CampaignIn, CampaignOut, CampaignUpdate, PrizeTier
from bcone.web.deps import ConsolePrincipal
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import flash, redirect_to, render

_register_messages()
register_nav_item(NavItem("nav.promotions", "/promotions", "chart", 46))

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]

_INT_FIELDS = (
    "budget_fen",
    "budget_points",
    "daily_fen",
    "per_consumer_limit",
    "store_rebate_fen",
    "rate_limit_scans",
    "max_scans_per_minute",
    "max_scans_per_hour",
    "max_codes_per_device_day",
    "cluster_min_codes",
    "cluster_km",
)
_LIST_FIELDS = ("sku_ids", "gtins", "regions")


def prizes_text(prizes: list[PrizeTier]) -> str:
    """A prize pool as the editor's lines: ``kind,probability,value``."""
    lines = []
    for p in prizes:
        value: object = {
            "red_packet": p.amount_fen,
            "random_red_packet": f"{p.min_fen}-{p.max_fen}",
            "points": p.points,
            "coupon": p.coupon_code,
        }[p.kind]
        lines.append(f"{p.kind},{p.probability:g},{value}")
    return "\n".join(lines)


def _parse_prizes(text: str) -> list[dict[str, object]]:
    tiers: list[dict[str, object]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        kind, _, rest = line.strip().partition(",")
        probability, _, value = rest.partition(",")
        tier: dict[str, object] = {"kind": kind.strip(), "probability": probability.strip() or "0"}
        value = value.strip()
        if kind.strip() == "random_red_packet":
            low, _, high = value.partition("-")
            tier.update(min_fen=low.strip() or None, max_fen=high.strip() or None)
        else:
            key = {"red_packet": "amount_fen", "points": "points", "coupon": "coupon_code"}.get(
                kind.strip(), "name"
            )
            tier[key] = value or None
        tiers.append(tier)
    return tiers


async def _form_data(request: Request) -> dict[str, Any]:
    form = await request.form()
    data: dict[str, Any] = {"name": str(form.get("name", "")).strip()}
    for key in _INT_FIELDS:
        raw = str(form.get(key, "")).strip()
        data[key] = raw or None
    for key in _LIST_FIELDS:
        data[key] = [v.strip() for v in str(form.get(key, "")).replace("，", ",").split(",") if v.strip()]
    data["prizes"] = _parse_prizes(str(form.get("prizes", "")))
    for key in ("budget_fen", "budget_points", "store_rebate_fen"):
        if data[key] is None:
            data.pop(key)
    return data


def _error_of(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return ".".join(str(p) for p in first["loc"]), str(first["msg"])
    if isinstance(exc, BconeError):
        return exc.field or "", exc.detail
    raise exc


def _chart(figures: Any) -> str:
    return json.dumps(
        {
            "days": [d.day.isoformat() for d in figures.days],
            "scans": [d.scans for d in figures.days],
            "winners": [d.winners for d in figures.days],
            "spent": [d.spent_fen / 100 for d in figures.days],
        }
    )


@router.get("/promotions")
def campaigns_page(
    request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep, page: PageDep
) -> Response:
    """The campaign list, with the form that creates a campaign."""
    ctx = {
        "result": service.list_campaigns(page, session=session),
        "can_edit": principal.has_role(Role.marketer),
        "campaign": None,
        "values": {},
        "error": None,
    }
    return render(request, "promotions/campaigns.html", ctx)


@router.post("/promotions")
async def create_campaign(request: Request, _: ConsolePrincipal, __: Editor, session: SessionDep) -> Response:
    data = await _form_data(request)
    try:
        campaign = service.create_campaign(CampaignIn.model_validate(data), session=session)
    except (ValidationError, BconeError) as exc:
        session.rollback()
        field, detail = _error_of(exc)
        ctx = {
            "result": service.list_campaigns(PageParams(), session=session),
            "can_edit": True,
            "campaign": None,
            "values": {**data, "prizes": (await request.form()).get("prizes", "")},
            "error": {"field": field, "detail": detail},
        }
        return render(request, "promotions/campaigns.html", ctx, status_code=422)
    response = redirect_to(f"/promotions/{campaign.id}")
    flash(request, response, "promotions.saved")
    return response


def _detail(request: Request, campaign: CampaignOut, session: Any, can_edit: bool, **extra: Any) -> Response:
    figures = service.figures(campaign.id, session=session)
    ctx = {
        "campaign": campaign,
        "figures": figures,
        "chart": _chart(figures),
        "prizes_text": prizes_text(campaign.prizes),
        "can_edit": can_edit and campaign.status != "ended",
        "values": {},
        "error": None,
        **extra,
    }
    return render(request, "promotions/campaign.html", ctx, status_code=422 if extra.get("error") else 200)


@router.get("/promotions/flags")
def flags_page(
    request: Request, _: ConsolePrincipal, __: Reader, session: SessionDep, page: PageDep
) -> Response:
    """Fraud flags for review (clusters of one case's codes scanned far from its store), with the
    refusals of the velocity rules; searchable by identity or case serial, paginated."""
    ctx = {
        "result": service.list_flags(page, session=session),
        "refused": service.list_attempts(
            PageParams(page=1, page_size=20), session=session, outcome="rate_limited"
        ),
    }
    return render(request, "promotions/flags.html", ctx)


@router.get("/promotions/{campaign_id}")
def campaign_page(
    request: Request, campaign_id: str, _: ConsolePrincipal, principal: Reader, session: SessionDep
) -> Response:
    """One campaign: the editor, its actions and its live figures with a daily chart."""
    campaign = service.get_campaign(campaign_id, session=session)
    return _detail(request, campaign, session, principal.has_role(Role.marketer))


@router.post("/promotions/{campaign_id}")
async def update_campaign(
    request: Request, campaign_id: str, _: ConsolePrincipal, __: Editor, session: SessionDep
) -> Response:
    data = await _form_data(request)
    try:
        service.update_campaign(campaign_id, CampaignUpdate.model_validate(data), session=session)
    except (ValidationError, BconeError) as exc:
        session.rollback()
        field, detail = _error_of(exc)
        campaign = service.get_campaign(campaign_id, session=session)
        return _detail(request, campaign, session, True, error={"field": field, "detail": detail})
    response = redirect_to(f"/promotions/{campaign_id}")
    flash(request, response, "promotions.saved")
    return response


@router.post("/promotions/{campaign_id}/{action}")
def change_status(
    request: Request,
    campaign_id: str,
    action: Literal["activate", "pause", "end"],
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
) -> Response:
    try:
        service.change_status(campaign_id, action, session=session)
    except BconeError as exc:
        session.rollback()
        campaign = service.get_campaign(campaign_id, session=session)
        return _detail(
            request, campaign, session, True, error={"field": exc.field or "", "detail": exc.detail}
        )
    response = redirect_to(f"/promotions/{campaign_id}")
    flash(request, response, "promotions.saved")
    return response
