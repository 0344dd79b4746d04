"""Contracts of the store's order side: stock, coupons, carts, checkout, orders, payments.

Money is integer fen everywhere here (the H5 and console pages format it as yuan). Re-exported by
:mod:`bcone.store.schemas`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

OrderStatus = Literal[
    "created", "paid", "assigned", "shipped", "ready_for_pickup", "completed", "cancelled", "refunded"
]
Channel = Literal["store", "tmall", "jd", "douyin"]
PlatformChannel = Literal["tmall", "jd", "douyin"]
FulfilmentMode = Literal["delivery", "pickup"]
CouponKind = Literal["fixed", "percent", "threshold"]
CouponStatus = Literal["active", "disabled"]
PaymentStatus = Literal["pending", "succeeded", "closed", "refunded"]
OrderAction = Literal["accept", "decline", "ship", "ready", "deliver", "pickup", "cancel", "refund"]

MAX_FEN = 10**11  # a billion yuan: far above any order, far below 2**63
Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
Quantity = Annotated[int, Field(gt=0, le=10_000)]
DivisionCode = Annotated[str, Field(pattern=r"^\d{6}$")]
CouponCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
ConsumerKey = Annotated[str, Field(min_length=1, max_length=128)]

_STRICT = ConfigDict(str_strip_whitespace=True, extra="forbid")


# --- stock -----------------------------------------------------------------------------------


class StockAdjustIn(BaseModel):
    """Add (receipt, return) or remove (count correction, damage) units at one organisation."""

    model_config = _STRICT

    org_id: str = Field(min_length=1, max_length=36)
    sku_id: str = Field(min_length=1, max_length=64)
    delta: int = Field(ge=-1_000_000, le=1_000_000)
    reason: Literal["receipt", "count", "damage", "return", "transfer"] = "receipt"
    reference: str = Field(default="", max_length=64)

    @model_validator(mode="after")
    def _not_zero(self) -> StockAdjustIn:
        if self.delta == 0:
            raise ValueError("delta must not be 0")
        return self


class StockOut(BaseModel):
    org_id: str
    org_name: str = ""
    sku_id: str
    sku_code: str = ""
    sku_name: str = ""
    on_hand: int
    reserved: int
    available: int
    updated_at: datetime


# --- coupons ---------------------------------------------------------------------------------


class CouponIn(BaseModel):
    """A coupon: ``fixed`` takes ``amount_fen`` off; ``percent`` takes ``percent_off`` % off (capped
    by ``max_discount_fen``); ``threshold`` takes ``amount_fen`` off from ``min_spend_fen``."""

    model_config = _STRICT

    code: CouponCode
    name: str = Field(min_length=1, max_length=200)
    kind: CouponKind
    amount_fen: Fen = 0
    percent_off: int = Field(default=0, ge=0, le=99)
    min_spend_fen: Fen = 0
    max_discount_fen: Fen | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    per_consumer_limit: int | None = Field(default=None, ge=1, le=1000)
    total_limit: int | None = Field(default=None, ge=1, le=10_000_000)
    status: CouponStatus = "active"

    @model_validator(mode="after")
    def _consistent(self) -> CouponIn:
        if self.kind in ("fixed", "threshold") and self.amount_fen <= 0:
            raise ValueError(f"a {self.kind} coupon needs amount_fen > 0")
        if self.kind == "percent" and self.percent_off <= 0:
            raise ValueError("a percent coupon needs percent_off between 1 and 99")
        if self.kind == "threshold" and self.min_spend_fen <= self.amount_fen:
            raise ValueError("a threshold coupon needs min_spend_fen above amount_fen")
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CouponOut(BaseModel):
    id: str
    code: str
    name: str
    kind: CouponKind
    amount_fen: int
    percent_off: int
    min_spend_fen: int
    max_discount_fen: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    per_consumer_limit: int | None
    total_limit: int | None
    used_count: int
    status: CouponStatus
    created_at: datetime


# --- carts and checkout ----------------------------------------------------------------------


class CartItemIn(BaseModel):
    model_config = _STRICT

    sku_id: str = Field(min_length=1, max_length=64)
    quantity: Quantity


class CartLineOut(BaseModel):
    sku_id: str
    sku_code: str
    name: str
    quantity: int
    unit_price_fen: int
    line_fen: int


class CartOut(BaseModel):
    id: str
    storefront_id: str | None
    consumer_key: str
    lines: list[CartLineOut]
    subtotal_fen: int


class AddressIn(BaseModel):
    """Where the order goes: a 6-digit division code (GB/T 2260) and the street address."""

    model_config = _STRICT

    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=32)
    division_code: DivisionCode
    line: str = Field(default="", max_length=300)
    lng: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)


class CheckoutIn(BaseModel):
    """Buy ``items`` from a storefront (or from the brand when ``storefront_id`` is empty)."""

    model_config = _STRICT

    storefront_id: str | None = Field(default=None, max_length=36)
    consumer_key: ConsumerKey
    items: list[CartItemIn] = Field(min_length=1, max_length=50)
    address: AddressIn
    fulfilment: FulfilmentMode = "delivery"
    coupon_code: CouponCode | None = None
    note: str = Field(default="", max_length=300)
    idempotency_key: str | None = Field(default=None, max_length=64)


class QuoteOut(BaseModel):
    lines: list[CartLineOut]
    subtotal_fen: int
    discount_fen: int
    total_fen: int
    coupon_code: str | None


# --- orders ----------------------------------------------------------------------------------


class OrderLineOut(BaseModel):
    sku_id: str | None
    sku_code: str
    name: str
    category: str
    quantity: int
    unit_price_fen: int
    discount_fen: int
    paid_fen: int


class OrderEventOut(BaseModel):
    action: str
    status: str
    actor: str
    org_id: str | None
    note: str
    at: datetime


class OrderOut(BaseModel):
    id: str
    number: str
    channel: Channel
    external_id: str | None
    storefront_id: str | None
    storefront_org_id: str | None
    sharer_id: str | None
    consumer_key: str
    buyer_name: str
    buyer_phone: str
    division_code: str | None
    address_line: str
    fulfilment: FulfilmentMode
    status: OrderStatus
    subtotal_fen: int
    discount_fen: int
    total_fen: int
    paid_fen: int
    refunded_fen: int
    coupon_code: str | None
    assigned_org_id: str | None
    accepted: bool
    pickup_code: str | None
    note: str
    created_at: datetime
    expires_at: datetime | None
    paid_at: datetime | None
    completed_at: datetime | None
    lines: list[OrderLineOut] = Field(default_factory=list)
    timeline: list[OrderEventOut] = Field(default_factory=list)


class OrderActionIn(BaseModel):
    model_config = _STRICT

    pickup_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    reason: str = Field(default="", max_length=300)


class PlatformOrderLineIn(BaseModel):
    model_config = _STRICT

    sku_code: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=200)
    quantity: Quantity
    paid_fen: Fen


class PlatformOrderIn(BaseModel):
    """An order placed on Tmall, JD or Douyin, as a connector delivers it."""

    model_config = _STRICT

    channel: PlatformChannel
    external_id: str = Field(min_length=1, max_length=64)
    buyer_key: ConsumerKey
    buyer_name: str = Field(default="", max_length=100)
    division_code: DivisionCode | None = None
    status: Literal["paid", "shipped", "completed", "cancelled", "refunded"] = "paid"
    created_at: datetime
    paid_at: datetime | None = None
    lines: list[PlatformOrderLineIn] = Field(min_length=1, max_length=200)


class ImportResult(BaseModel):
    created: int
    updated: int
    unchanged: int


# --- payments --------------------------------------------------------------------------------


class PaymentOut(BaseModel):
    id: str
    order_id: str
    provider: str
    out_trade_no: str
    amount_fen: int
    status: PaymentStatus
    transaction_id: str | None
    paid_at: datetime | None
    # What the H5 page needs to pay: the simulator's page, or WeChat's JSAPI parameters.
    pay_params: dict[str, str] = Field(default_factory=dict)


class PaymentNotice(BaseModel):
    """What a provider's verified callback says: this trade was paid (or not) with this amount."""

    out_trade_no: str
    transaction_id: str
    trade_state: str
    amount_fen: int
    paid_at: datetime


class OrderSettingsIn(BaseModel):
    model_config = _STRICT

    service_radius_km: float = Field(gt=0, le=500)
    reservation_minutes: int = Field(gt=0, le=24 * 60)


class OrderSettingsOut(BaseModel):
    service_radius_km: float
    reservation_minutes: int
