"""HTTP API of the store domain: storefronts, assortments and prices, price rules, commission
rules, share links, commissions, statements, settlement and the sharers' leaderboard.

Brand roles read everything; marketers (and owners, admins) change storefronts and rules; owners
and admins run settlements and change the settings. A partner user sees and manages only the
storefronts of their organisation's subtree (their own, their shop assistants' and KOCs').
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.pagination import Page, PageParams
from bcone.network import service as network
from bcone.store import service
from bcone.store.errors import StorefrontNotFound
from bcone.store.schemas import (
    CommissionOut,
    CommissionRuleIn,
    CommissionRuleOut,
    CommissionStatus,
    ListingIn,
    ListingOut,
    PartnerStatement,
    PartnerType,
    PriceRuleIn,
    PriceRuleOut,
    ShareLinkIn,
    ShareLinkOut,
    SharerRank,
    StorefrontIn,
    StorefrontOut,
    StorefrontStatus,
    StorefrontUpdate,
    StoreSettingsIn,
    StoreSettingsOut,
)

router = APIRouter(tags=["store"])

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES, Role.partner))]
BrandReader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES))]
PartnerEditor = Annotated[Principal, Depends(require_roles(Role.marketer, Role.partner))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]
Owner = Annotated[Principal, Depends(require_roles())]


class SettleOut(BaseModel):
    settled: int


def partner_org_ids(principal: Principal, session: Session) -> list[str] | None:
    """The organisations a caller may see: a partner's subtree, or None (the whole network)."""
    root = network.partner_scope(principal)
    if root is None:
        return None
    return network.organization_subtree_ids(root, session=session)


def visible_storefront(principal: Principal, storefront_id: str, session: Session) -> StorefrontOut:
    """The storefront, if the caller may see it (outside a partner's subtree it does not exist)."""
    front = service.get_storefront(storefront_id, session=session)
    scope = partner_org_ids(principal, session)
    if scope is not None and front.org_id not in scope:
        raise StorefrontNotFound(f"no storefront {storefront_id}", field="storefront_id")
    return front


@router.get("/store/storefronts")
def list_storefronts(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    partner_type: PartnerType | None = None,
    status: StorefrontStatus | None = None,
) -> Page[StorefrontOut]:
    """Storefronts by name; ``q`` searches name, address (slug) and contact."""
    return service.list_storefronts(
        page,
        session=session,
        partner_type=partner_type,
        status=status,
        org_ids=partner_org_ids(principal, session),
    )


@router.post("/store/storefronts", status_code=status.HTTP_201_CREATED)
def create_storefront(body: StorefrontIn, principal: PartnerEditor, session: SessionDep) -> StorefrontOut:
    """A storefront for an organisation (``org_id``) or a shop assistant / KOC (``staff_id``)."""
    scope = partner_org_ids(principal, session)
    if scope is not None:
        owner_org = body.org_id or network.get_staff(body.staff_id or "", session=session).org_id
        if owner_org not in scope:
            field = "org_id" if body.org_id else "staff_id"
            raise StorefrontNotFound("that partner is outside your organisation", field=field)
    return service.create_storefront(body, session=session)


@router.get("/store/storefronts/{storefront_id}")
def get_storefront(storefront_id: str, principal: Reader, session: SessionDep) -> StorefrontOut:
    return visible_storefront(principal, storefront_id, session)


@router.patch("/store/storefronts/{storefront_id}")
def update_storefront(
    storefront_id: str, body: StorefrontUpdate, principal: PartnerEditor, session: SessionDep
) -> StorefrontOut:
    visible_storefront(principal, storefront_id, session)
    return service.update_storefront(storefront_id, body, session=session)


@router.get("/store/storefronts/{storefront_id}/assortment")
def get_assortment(
    storefront_id: str, principal: Reader, session: SessionDep, q: str | None = None
) -> list[ListingOut]:
    """What the storefront sells, with the partner's and the effective prices."""
    visible_storefront(principal, storefront_id, session)
    return service.list_assortment(storefront_id, session=session, q=q)


@router.put("/store/storefronts/{storefront_id}/assortment")
def set_listing(
    storefront_id: str, body: ListingIn, principal: PartnerEditor, session: SessionDep
) -> ListingOut:
    """Add a SKU or change its price; a price outside the brand's rules is refused (422 naming
    ``price_fen``)."""
    visible_storefront(principal, storefront_id, session)
    return service.set_listing(storefront_id, body, session=session)


@router.delete(
    "/store/storefronts/{storefront_id}/assortment/{sku_id}", status_code=status.HTTP_204_NO_CONTENT
)
def remove_listing(
    storefront_id: str, sku_id: str, principal: PartnerEditor, session: SessionDep
) -> Response:
    visible_storefront(principal, storefront_id, session)
    service.remove_listing(storefront_id, sku_id, session=session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/store/storefronts/{storefront_id}/statement")
def statement(storefront_id: str, principal: Reader, session: SessionDep, page: PageDep) -> PartnerStatement:
    """The partner's commissions by status and their commission account's movements."""
    visible_storefront(principal, storefront_id, session)
    return service.partner_statement(storefront_id, page, session=session)


@router.get("/store/price-rules")
def list_price_rules(
    _: BrandReader, session: SessionDep, page: PageDep, sku_id: str | None = None
) -> Page[PriceRuleOut]:
    return service.list_price_rules(page, session=session, sku_id=sku_id)


@router.post("/store/price-rules", status_code=status.HTTP_201_CREATED)
def create_price_rule(body: PriceRuleIn, _: Editor, session: SessionDep) -> PriceRuleOut:
    """A SKU's price band for a channel and region (division-code prefix)."""
    return service.create_price_rule(body, session=session)


@router.get("/store/price-rules/{rule_id}")
def get_price_rule(rule_id: str, _: BrandReader, session: SessionDep) -> PriceRuleOut:
    return service.get_price_rule(rule_id, session=session)


@router.put("/store/price-rules/{rule_id}")
def update_price_rule(rule_id: str, body: PriceRuleIn, _: Editor, session: SessionDep) -> PriceRuleOut:
    return service.update_price_rule(rule_id, body, session=session)


@router.delete("/store/price-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_price_rule(rule_id: str, _: Editor, session: SessionDep) -> Response:
    service.delete_price_rule(rule_id, session=session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/store/commission-rules")
def list_commission_rules(_: Reader, session: SessionDep, page: PageDep) -> Page[CommissionRuleOut]:
    return service.list_commission_rules(page, session=session)


@router.post("/store/commission-rules", status_code=status.HTTP_201_CREATED)
def create_commission_rule(body: CommissionRuleIn, _: Editor, session: SessionDep) -> CommissionRuleOut:
    """Level-1 and level-2 rates in basis points (0 to 10000) for a SKU, a category or all."""
    return service.create_commission_rule(body, session=session)


@router.put("/store/commission-rules/{rule_id}")
def update_commission_rule(
    rule_id: str, body: CommissionRuleIn, _: Editor, session: SessionDep
) -> CommissionRuleOut:
    return service.update_commission_rule(rule_id, body, session=session)


@router.delete("/store/commission-rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_commission_rule(rule_id: str, _: Editor, session: SessionDep) -> Response:
    service.delete_commission_rule(rule_id, session=session)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/store/share-links", status_code=status.HTTP_201_CREATED)
def create_share_link(body: ShareLinkIn, principal: Reader, session: SessionDep) -> ShareLinkOut:
    """A share link to a storefront carrying its sharer (a partner shares only as themselves or
    their staff)."""
    visible_storefront(principal, body.storefront_id, session)
    if body.sharer_storefront_id:
        visible_storefront(principal, body.sharer_storefront_id, session)
    return service.create_share_link(body, session=session)


@router.get("/store/share-links")
def list_share_links(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    sharer_storefront_id: str | None = None,
    storefront_id: str | None = None,
) -> Page[ShareLinkOut]:
    for sid in (sharer_storefront_id, storefront_id):
        if sid:
            visible_storefront(principal, sid, session)
    if partner_org_ids(principal, session) is not None and not (sharer_storefront_id or storefront_id):
        own = service.storefront_for_partner(principal.org_id or "", session=session)
        storefront_id = own.id if own is not None else "-"
    return service.list_share_links(
        page, session=session, sharer_storefront_id=sharer_storefront_id, storefront_id=storefront_id
    )


@router.get("/store/commissions")
def list_commissions(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    storefront_id: str | None = None,
    status: CommissionStatus | None = None,
    order_id: str | None = None,
) -> Page[CommissionOut]:
    """Commissions, newest first; a partner sees those of their subtree's storefronts."""
    ids: list[str] | None = None
    if storefront_id:
        ids = [visible_storefront(principal, storefront_id, session).id]
    elif (scope := partner_org_ids(principal, session)) is not None:
        ids = [f.id for f in _fronts_of(scope, session)]
    return service.list_commissions(
        page, session=session, storefront_ids=ids, status=status, order_id=order_id
    )


def _fronts_of(org_ids: list[str], session: Session) -> list[StorefrontOut]:
    out: list[StorefrontOut] = []
    page = 1
    while True:
        result = service.list_storefronts(
            PageParams(page=page, page_size=200), session=session, org_ids=org_ids
        )
        out += result.items
        if page >= result.pages:
            return out
        page += 1


@router.post("/store/commissions/settle")
def settle(_: Owner, session: SessionDep) -> SettleOut:
    """Settle the commissions whose order is completed and whose return window has passed."""
    return SettleOut(settled=service.settle_due_commissions(session=session))


@router.get("/store/leaderboard")
def leaderboard(principal: Reader, session: SessionDep, since: datetime | None = None) -> list[SharerRank]:
    """Sharers ranked by sales through their links, with visits, bindings and commission."""
    return service.sharer_leaderboard(
        session=session, org_ids=partner_org_ids(principal, session), since=since
    )


@router.get("/store/settings")
def get_settings(_: BrandReader, session: SessionDep) -> StoreSettingsOut:
    return service.get_store_settings(session=session)


@router.put("/store/settings")
def update_settings(body: StoreSettingsIn, _: Owner, session: SessionDep) -> StoreSettingsOut:
    """Customer binding days and the return window (days) before commissions settle."""
    return service.update_store_settings(body, session=session)
