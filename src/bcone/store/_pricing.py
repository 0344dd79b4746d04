"""The brand's price rules and the price a storefront sells at.

A rule gives a SKU a floor and/or a ceiling (fen) for a sales channel ('' = every channel) and a
region, a division-code prefix ('' nationwide, '31' Shanghai, '3101' its districts, '310101'
one district). For a sale in region R on channel C, the most specific rule applies: the longest
prefix of R, and among equal prefixes the one for C over the one for every channel.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.catalog.schemas import SkuOut
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.store._storefronts import (
    listing_price,
    require_storefront,
    resolve_sku,
    sku_by_id_or_code,
    storefront_region,
)
from bcone.store.errors import PriceOutsideRules, PriceRuleExists, PriceRuleNotFound, UnknownSku
from bcone.store.models import PriceRule
from bcone.store.schemas import PriceRuleIn, PriceRuleOut

DEFAULT_CHANNEL = "store"


def _out(row: PriceRule) -> PriceRuleOut:
    return PriceRuleOut(
        id=row.id,
        sku_id=row.sku_id,
        sku_code=row.sku_code,
        channel=row.channel or None,
        region_prefix=row.region_prefix,
        floor_fen=row.floor_fen,
        ceiling_fen=row.ceiling_fen,
        created_at=row.created_at,
    )


def applicable_rule(session: Session, sku_id: str, *, region: str | None, channel: str) -> PriceRule | None:
    """The most specific rule for the SKU in ``region`` on ``channel``, if any."""
    rules = session.scalars(
        select(PriceRule).where(
            PriceRule.sku_id == sku_id, or_(PriceRule.channel == channel, PriceRule.channel == "")
        )
    ).all()
    matching = [r for r in rules if not r.region_prefix or (region or "").startswith(r.region_prefix)]
    if not matching:
        return None
    return max(matching, key=lambda r: (len(r.region_prefix), r.channel != ""))


def check_price(
    session: Session,
    *,
    sku: SkuOut,
    price_fen: int,
    region: str | None,
    channel: str = DEFAULT_CHANNEL,
    field: str = "price",
) -> None:
    """Refuse ``price_fen`` (422 ``price_outside_rules`` naming ``field``) outside the band."""
    rule = applicable_rule(session, sku.id, region=region, channel=channel)
    if rule is None:
        return
    if rule.floor_fen is not None and price_fen < rule.floor_fen:
        raise PriceOutsideRules(
            f"{price_fen} fen is below the brand's floor of {rule.floor_fen} fen for {sku.sku_code}",
            field=field,
            floor_fen=rule.floor_fen,
            ceiling_fen=rule.ceiling_fen,
        )
    if rule.ceiling_fen is not None and price_fen > rule.ceiling_fen:
        raise PriceOutsideRules(
            f"{price_fen} fen is above the brand's ceiling of {rule.ceiling_fen} fen for {sku.sku_code}",
            field=field,
            floor_fen=rule.floor_fen,
            ceiling_fen=rule.ceiling_fen,
        )


def resolve_price(
    *, session: Session, storefront_id: str, sku: str, region: str | None, channel: str = DEFAULT_CHANNEL
) -> int:
    """The unit price (fen) of ``sku`` (id or code) in a storefront for a buyer in ``region``
    (a division code; None: the storefront's own region): the partner's price if set, else the
    catalog list price, always within the brand's rules (422 naming ``price`` otherwise).

    A SKU outside the storefront's assortment is refused with 422 ``unknown_sku`` naming ``sku``.
    """
    row = require_storefront(session, storefront_id)
    found = sku_by_id_or_code(session, sku)
    if found.status != "active":
        raise UnknownSku(f"{found.sku_code} is not on sale", field="sku")
    sold, partner_price = listing_price(session, row, found.id)
    if not sold:
        raise UnknownSku(f"{found.sku_code} is not sold by this storefront", field="sku")
    price = found.list_price_fen if partner_price is None else partner_price
    check_price(
        session,
        sku=found,
        price_fen=price,
        region=region or storefront_region(session, row),
        channel=channel,
        field="price",
    )
    return price


# --- rules CRUD -------------------------------------------------------------------------------


def create_price_rule(data: PriceRuleIn, *, session: Session) -> PriceRuleOut:
    sku = resolve_sku(session, sku_id=data.sku_id, sku_code=data.sku_code)
    row = PriceRule(
        sku_id=sku.id,
        sku_code=sku.sku_code,
        channel=data.channel or "",
        region_prefix=data.region_prefix,
        floor_fen=data.floor_fen,
        ceiling_fen=data.ceiling_fen,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise PriceRuleExists(
            f"{sku.sku_code} already has a rule for this channel and region", field="region_prefix"
        ) from None
    return _out(row)


def _require(session: Session, rule_id: str) -> PriceRule:
    row = session.scalar(select(PriceRule).where(PriceRule.id == rule_id))
    if row is None:
        raise PriceRuleNotFound(f"no price rule {rule_id}", field="rule_id")
    return row


def get_price_rule(rule_id: str, *, session: Session) -> PriceRuleOut:
    return _out(_require(session, rule_id))


def update_price_rule(rule_id: str, data: PriceRuleIn, *, session: Session) -> PriceRuleOut:
    row = _require(session, rule_id)
    sku = resolve_sku(session, sku_id=data.sku_id, sku_code=data.sku_code)
    row.sku_id, row.sku_code = sku.id, sku.sku_code
    row.channel = data.channel or ""
    row.region_prefix = data.region_prefix
    row.floor_fen, row.ceiling_fen = data.floor_fen, data.ceiling_fen
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise PriceRuleExists(
            f"{sku.sku_code} already has a rule for this channel and region", field="region_prefix"
        ) from None
    return _out(row)


def delete_price_rule(rule_id: str, *, session: Session) -> None:
    session.delete(_require(session, rule_id))
    session.flush()


def list_price_rules(
    params: PageParams, *, session: Session, sku_id: str | None = None
) -> Page[PriceRuleOut]:
    """Rules by SKU code, region and channel; ``q`` searches the SKU code and the region."""
    stmt = select(PriceRule).order_by(
        PriceRule.sku_code, PriceRule.region_prefix, PriceRule.channel, PriceRule.id
    )
    if params.q:
        stmt = stmt.where(
            or_(
                PriceRule.sku_code.icontains(params.q, autoescape=True),
                PriceRule.region_prefix.startswith(params.q, autoescape=True),
            )
        )
    if sku_id:
        stmt = stmt.where(PriceRule.sku_id == sku_id)
    rows, total = paginate_rows(session, stmt, params)
    return Page(items=[_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size)
