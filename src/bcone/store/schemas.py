"""Schemas of the store domain: API input and output, and the contracts other domains receive.

Money is integer fen throughout (``*_fen``); commission rates are basis points (100 = 1 %).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# --- storefronts, pricing, sharing, commissions ----------------------------------------------

PartnerType = Literal["distributor", "wholesaler", "store", "shop_assistant", "koc"]
StorefrontStatus = Literal["active", "paused"]
# Where a sale happens: the cloud store (a partner's storefront) or a platform shop.
SalesChannel = Literal["store", "tmall", "jd", "douyin"]
CommissionStatus = Literal["pending", "settled", "clawed_back", "cancelled"]

# Far above any price (100 million yuan in fen).
MAX_FEN = 10_000_000_000
Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
BasisPoints = Annotated[int, Field(ge=0, le=10_000)]
Slug = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")]
RegionPrefix = Annotated[str, Field(max_length=6, pattern=r"^(|\d{2}|\d{4}|\d{6})$")]

_IN = ConfigDict(str_strip_whitespace=True, extra="forbid")


class StorefrontIn(BaseModel):
    """A partner's storefront: an organisation of the network (``org_id``) or a shop assistant or
    KOC (``staff_id``), exactly one of them. Name and contact default to the partner's."""

    model_config = _IN

    org_id: str | None = Field(default=None, max_length=36)
    staff_id: str | None = Field(default=None, max_length=36)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=32)
    slug: Slug | None = None
    status: StorefrontStatus = "active"

    @model_validator(mode="after")
    def _one_owner(self) -> StorefrontIn:
        if bool(self.org_id) == bool(self.staff_id):
            raise ValueError("give the partner as org_id or as staff_id (one of them)")
        return self


class StorefrontUpdate(BaseModel):
    """A change to a storefront: only the fields sent change."""

    model_config = _IN

    name: str | None = Field(default=None, min_length=1, max_length=200)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=32)
    slug: Slug | None = None
    status: StorefrontStatus | None = None


class StorefrontOut(BaseModel):
    id: str
    partner_type: PartnerType
    # The organisation: the partner itself, or the one a shop assistant / KOC belongs to.
    org_id: str | None
    staff_id: str | None
    name: str
    contact_name: str
    contact_phone: str
    slug: str
    status: StorefrontStatus
    url: str  # the public page, ``/s/<slug>``
    created_at: datetime
    updated_at: datetime


class ListingIn(BaseModel):
    """A SKU in a storefront's assortment, with the partner's price (None: the list price)."""

    model_config = _IN

    sku_id: str | None = Field(default=None, max_length=36)
    sku_code: str | None = Field(default=None, max_length=64)
    price_fen: Fen | None = None
    active: bool = True

    @model_validator(mode="after")
    def _one_sku(self) -> ListingIn:
        if bool(self.sku_id) == bool(self.sku_code):
            raise ValueError("give the SKU as sku_id or as sku_code (one of them)")
        return self


class ListingOut(BaseModel):
    """A SKU as a storefront sells it: the partner's price if set, else the list price."""

    sku_id: str
    sku_code: str
    name: str
    product_name: str
    category: str
    specification: str
    unit: str
    list_price_fen: int
    price_fen: int | None  # the partner's own price, if set
    effective_price_fen: int
    active: bool
    listed: bool  # True: in the storefront's own assortment; False: inherited (brand catalog)


class PriceRuleIn(BaseModel):
    """The brand's price band for a SKU, per sales channel (None: every channel) and region
    (a division-code prefix: "" nationwide, 2 digits a province, 4 a city, 6 a district)."""

    model_config = _IN

    sku_id: str | None = Field(default=None, max_length=36)
    sku_code: str | None = Field(default=None, max_length=64)
    channel: SalesChannel | None = None
    region_prefix: RegionPrefix = ""
    floor_fen: Fen | None = None
    ceiling_fen: Fen | None = None

    @model_validator(mode="after")
    def _valid(self) -> PriceRuleIn:
        if bool(self.sku_id) == bool(self.sku_code):
            raise ValueError("give the SKU as sku_id or as sku_code (one of them)")
        if self.floor_fen is None and self.ceiling_fen is None:
            raise ValueError("give a floor_fen, a ceiling_fen or both")
        if self.floor_fen is not None and self.ceiling_fen is not None and self.floor_fen > self.ceiling_fen:
            raise ValueError("floor_fen must not be above ceiling_fen")
        return self


class PriceRuleOut(BaseModel):
    id: str
    sku_id: str
    sku_code: str
    channel: SalesChannel | None
    region_prefix: str
    floor_fen: int | None
    ceiling_fen: int | None
    created_at: datetime


class ShareLinkIn(BaseModel):
    """A share link to ``storefront_id`` (and optionally one SKU), carrying its sharer: the
    storefront of whoever shares it (default: the storefront itself)."""

    model_config = _IN

    storefront_id: str = Field(min_length=1, max_length=36)
    sharer_storefront_id: str | None = Field(default=None, max_length=36)
    sku_id: str | None = Field(default=None, max_length=36)


class ShareLinkOut(BaseModel):
    id: str
    token: str
    storefront_id: str
    storefront_slug: str
    sharer_storefront_id: str
    sharer_name: str
    sku_id: str | None
    url: str  # ``/s/<slug>?share=<token>`` (prefix with the site's origin to share it)
    visits: int
    created_at: datetime


class BindingOut(BaseModel):
    """A consumer bound to the sharer whose link they opened first (锁客), until ``expires_at``."""

    consumer_key: str
    sharer_storefront_id: str
    sharer_name: str
    share_link_id: str | None
    bound_at: datetime
    expires_at: datetime
    created: bool = False  # True when this call made the binding


class CommissionRuleIn(BaseModel):
    """Commission rates in basis points (100 = 1 %) for level 1 (the sharer) and level 2 (the
    sharer's parent: a shop assistant's store, a store's distributor). Scope: one SKU, one
    category (product line) or everything; for one partner type of the sharer or every type.
    The most specific rule wins: SKU over category over everything, a partner type over any."""

    model_config = _IN

    partner_type: PartnerType | None = None
    sku_id: str | None = Field(default=None, max_length=36)
    sku_code: str | None = Field(default=None, max_length=64)
    category: str | None = Field(default=None, min_length=1, max_length=100)
    level1_bp: BasisPoints
    level2_bp: BasisPoints = 0

    @model_validator(mode="after")
    def _one_scope(self) -> CommissionRuleIn:
        if self.sku_id and self.sku_code:
            raise ValueError("give the SKU as sku_id or as sku_code (not both)")
        if (self.sku_id or self.sku_code) and self.category:
            raise ValueError("a rule is for one SKU or for one category, not both")
        return self


class CommissionRuleOut(BaseModel):
    id: str
    partner_type: PartnerType | None
    sku_id: str | None
    sku_code: str | None
    category: str | None
    level1_bp: int
    level2_bp: int
    created_at: datetime


class OrderLineForCommission(BaseModel):
    """One paid order line: ``sku`` is the SKU id (or code), ``paid_fen`` what was paid for the
    whole line after discounts."""

    sku: str = Field(min_length=1, max_length=64)
    category: str = Field(default="", max_length=100)
    quantity: int = Field(ge=1)
    paid_fen: Fen


class OrderForCommission(BaseModel):
    """What the orders side hands over when an order is paid."""

    order_id: str = Field(min_length=1, max_length=64)
    consumer_key: str | None = Field(default=None, max_length=128)
    storefront_id: str = Field(min_length=1, max_length=36)
    lines: list[OrderLineForCommission] = Field(min_length=1, max_length=500)
    paid_at: datetime


class CommissionOut(BaseModel):
    id: str
    order_id: str
    line_no: int
    sku: str
    level: int
    beneficiary_storefront_id: str
    beneficiary_name: str
    partner_type: PartnerType
    rate_bp: int
    base_fen: int
    amount_fen: int
    status: CommissionStatus
    paid_at: datetime
    completed_at: datetime | None
    settled_at: datetime | None
    clawed_back_at: datetime | None
    transaction_id: str | None
    clawback_transaction_id: str | None
    created_at: datetime


class CommissionTotals(BaseModel):
    pending_fen: int = 0
    settled_fen: int = 0
    clawed_back_fen: int = 0
    cancelled_fen: int = 0


class StatementEntry(BaseModel):
    """One movement of a partner's commission account."""

    transaction_id: str
    amount_fen: int
    balance_after_fen: int
    kind: str
    memo: str
    reference: str
    created_at: datetime


class PartnerStatement(BaseModel):
    """A partner's commissions: totals, the commission account's balance and movements."""

    storefront: StorefrontOut
    account_id: str | None
    balance_fen: int
    totals: CommissionTotals
    entries: list[StatementEntry]
    entry_total: int
    page: int
    page_size: int


class StoreSettingsIn(BaseModel):
    model_config = _IN

    binding_days: int = Field(ge=1, le=3650)
    return_window_days: int = Field(ge=0, le=365)


class StoreSettingsOut(BaseModel):
    binding_days: int
    return_window_days: int


class SharerRank(BaseModel):
    """One sharer on the leaderboard."""

    storefront_id: str
    name: str
    partner_type: PartnerType
    visits: int
    bindings: int
    orders: int
    sales_fen: int
    commission_fen: int


class VisitStats(BaseModel):
    visits: int
    share_visits: int
    consumers: int
    bindings: int


# --- orders, stock, coupons, payments, fulfilment --------------------------------------------
# Defined in ``order_schemas`` (the orders side) and re-exported here as the domain's contracts.
from bcone.store.order_schemas import (  # noqa: E402
    AddressIn,
    CartItemIn,
    CartLineOut,
    CartOut,
    CheckoutIn,
    CouponIn,
    CouponOut,
    ImportResult,
    OrderActionIn,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    OrderSettingsIn,
    OrderSettingsOut,
    OrderStatus,
    PaymentNotice,
    PaymentOut,
    PlatformOrderIn,
    PlatformOrderLineIn,
    QuoteOut,
    StockAdjustIn,
    StockOut,
)

__all__ = [
    "AddressIn",
    "CartItemIn",
    "CartLineOut",
    "CartOut",
    "CheckoutIn",
    "CouponIn",
    "CouponOut",
    "ImportResult",
    "OrderActionIn",
    "OrderEventOut",
    "OrderLineOut",
    "OrderOut",
    "OrderSettingsIn",
    "OrderSettingsOut",
    "OrderStatus",
    "PaymentNotice",
    "PaymentOut",
    "PlatformOrderIn",
    "PlatformOrderLineIn",
    "QuoteOut",
    "StockAdjustIn",
    "StockOut",
]
