"""HTTP API of the promotions domain: campaigns, prize pools, live figures, attempts, blocks.

Brand roles read; owners, admins and marketers write. The reward itself is decided on the public
scan page (``GET /01/{gtin}/21/{serial}``), through the codes domain's scan listeners.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status

from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.pagination import Page
from bcone.promotions import service
from bcone.promotions.schemas import (
    AttemptOut,
    BlockIn,
    BlockOut,
    CampaignIn,
    CampaignOut,
    CampaignStatus,
    CampaignUpdate,
    FiguresOut,
    FlagOut,
    Outcome,
    PrizesIn,
)

router = APIRouter(tags=["promotions"])

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]


@router.get("/promotions/campaigns")
def list_campaigns(
    _: Reader, session: SessionDep, page: PageDep, status: CampaignStatus | None = None
) -> Page[CampaignOut]:
    """Campaigns, newest first; ``q`` searches the name."""
    return service.list_campaigns(page, session=session, status=status)


@router.post("/promotions/campaigns", status_code=status.HTTP_201_CREATED)
def create_campaign(body: CampaignIn, _: Editor, session: SessionDep) -> CampaignOut:
    """A draft campaign (nothing is funded before it is activated)."""
    return service.create_campaign(body, session=session)


@router.get("/promotions/campaigns/{campaign_id}")
def get_campaign(campaign_id: str, _: Reader, session: SessionDep) -> CampaignOut:
    return service.get_campaign(campaign_id, session=session)


@router.patch("/promotions/campaigns/{campaign_id}")
def update_campaign(campaign_id: str, body: CampaignUpdate, _: Editor, session: SessionDep) -> CampaignOut:
    """Change eligibility, dates, prizes, budgets or limits (an active campaign's raise is funded)."""
    return service.update_campaign(campaign_id, body, session=session)


@router.put("/promotions/campaigns/{campaign_id}/prizes")
def set_prizes(campaign_id: str, body: PrizesIn, _: Editor, session: SessionDep) -> CampaignOut:
    """Replace the prize pool (probabilities in [0, 1], summing to at most 1)."""
    return service.set_prizes(campaign_id, body.prizes, session=session)


@router.post("/promotions/campaigns/{campaign_id}/{action}")
def change_status(
    campaign_id: str, action: Literal["activate", "pause", "end"], _: Editor, session: SessionDep
) -> CampaignOut:
    """``activate`` funds the budget accounts from the tenant's funding; ``pause``; ``end``."""
    return service.change_status(campaign_id, action, session=session)


@router.get("/promotions/campaigns/{campaign_id}/figures")
def figures(campaign_id: str, _: Reader, session: SessionDep) -> FiguresOut:
    """Scans decided, winners, refusals by reason, budget burn and the last 30 days."""
    return service.figures(campaign_id, session=session)


@router.get("/promotions/attempts")
def list_attempts(
    _: Reader,
    session: SessionDep,
    page: PageDep,
    campaign_id: str | None = None,
    outcome: Outcome | None = None,
) -> Page[AttemptOut]:
    """Reward decisions, newest first, with their outcome; ``q`` is a serial."""
    return service.list_attempts(page, session=session, campaign_id=campaign_id, outcome=outcome)


@router.get("/promotions/flags")
def list_flags(_: Reader, session: SessionDep, page: PageDep, kind: str | None = None) -> Page[FlagOut]:
    """Fraud flags for review (``cluster``: many codes of one case scanned by one identity far from
    its store), most recently seen first; ``q`` is an identity or a case serial."""
    return service.list_flags(page, session=session, kind=kind)


@router.get("/promotions/blocks")
def list_blocks(_: Reader, session: SessionDep) -> list[BlockOut]:
    return service.list_blocks(session=session)


@router.post("/promotions/blocks", status_code=status.HTTP_201_CREATED)
def add_block(body: BlockIn, _: Editor, session: SessionDep) -> BlockOut:
    """Block an identity (openid) or a device from rewards."""
    return service.add_block(body, session=session)


@router.delete("/promotions/blocks/{block_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_block(block_id: str, _: Editor, session: SessionDep) -> Response:
    service.remove_block(block_id, session=session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
