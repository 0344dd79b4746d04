"""Tables of the store's order side: stock, reservations, coupons, carts, orders, payments.

``store_stock`` holds one row per organisation and SKU (``on_hand``, ``reserved``); a
reservation is taken with one conditional ``UPDATE … WHERE on_hand - reserved >= :q``, which the
database evaluates on the newest committed row (PostgreSQL waits for a concurrent writer of the
row, SQLite serialises writers), so stock is never oversold. The check constraints are the second
line of defence. ``store_payments`` is unique on ``out_trade_no``, and a payment turns
``succeeded`` only through a conditional update of a ``pending`` row, so a callback delivered
twice completes the order once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin, utcnow
from bcone.core.tenancy import TenantScoped

ORDER_STATUSES = (
    "created",
    "paid",
    "assigned",
    "shipped",
    "ready_for_pickup",
    "completed",
    "cancelled",
    "refunded",
)
CHANNELS = ("store", "tmall", "jd", "douyin")
FULFILMENT_MODES = ("delivery", "pickup")
COUPON_KINDS = ("fixed", "percent", "threshold")
COUPON_STATUSES = ("active", "disabled")
RESERVATION_STATUSES = ("held", "committed", "released")
PAYMENT_STATUSES = ("pending", "succeeded", "closed", "refunded")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class StockLevel(IdMixin, TenantScoped, Base):
    """Units of one SKU at one organisation: on hand, and how many of them are reserved."""

    __tablename__ = "store_stock"
    __table_args__ = (
        UniqueConstraint("tenant_id", "org_id", "sku_id"),
        CheckConstraint("on_hand >= 0", name="on_hand"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved"),
        Index("ix_store_stock_sku", "tenant_id", "sku_id"),
    )

    org_id: Mapped[str] = mapped_column(String(36))
    sku_id: Mapped[str] = mapped_column(String(36))
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class StockMovement(IdMixin, TenantScoped, Base):
    """An adjustment of stock on hand (receipt, count, sale, return), for the stock page's history."""

    __tablename__ = "store_stock_movements"
    __table_args__ = (Index("ix_store_stock_movements_org", "tenant_id", "org_id", "sku_id", "created_at"),)

    org_id: Mapped[str] = mapped_column(String(36))
    sku_id: Mapped[str] = mapped_column(String(36))
    delta: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StockReservation(IdMixin, TenantScoped, Base):
    """Units of an order held at one organisation until paid (``expires_at``) and fulfilled."""

    __tablename__ = "store_stock_reservations"
    __table_args__ = (
        CheckConstraint(_in("status", RESERVATION_STATUSES), name="status"),
        CheckConstraint("quantity > 0", name="quantity"),
        Index("ix_store_stock_reservations_order", "tenant_id", "order_id"),
        Index("ix_store_stock_reservations_expiry", "status", "expires_at"),
    )

    order_id: Mapped[str] = mapped_column(String(36))
    org_id: Mapped[str] = mapped_column(String(36))
    sku_id: Mapped[str] = mapped_column(String(36))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="held")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Coupon(IdMixin, TimestampMixin, TenantScoped, Base):
    """A coupon code: a fixed amount off, a percentage off, or an amount off above a spend."""

    __tablename__ = "store_coupons"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint(_in("kind", COUPON_KINDS), name="kind"),
        CheckConstraint(_in("status", COUPON_STATUSES), name="status"),
    )

    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    percent_off: Mapped[int] = mapped_column(Integer, default=0)
    min_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    max_discount_fen: Mapped[int | None] = mapped_column(BigInteger)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    per_consumer_limit: Mapped[int | None] = mapped_column(Integer)
    total_limit: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")


class CouponUse(IdMixin, TenantScoped, Base):
    """How many orders of one consumer hold one coupon (changed only by a conditional upsert)."""

    __tablename__ = "store_coupon_uses"
    __table_args__ = (UniqueConstraint("tenant_id", "coupon_id", "consumer_key"),)

    coupon_id: Mapped[str] = mapped_column(String(36))
    consumer_key: Mapped[str] = mapped_column(String(128))
    used: Mapped[int] = mapped_column(Integer, default=0)


class Cart(IdMixin, TenantScoped, Base):
    """A consumer's cart in one storefront: ``items`` is a list of ``{sku_id, quantity}``."""

    __tablename__ = "store_carts"

    storefront_id: Mapped[str | None] = mapped_column(String(36))
    consumer_key: Mapped[str] = mapped_column(String(128))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Order(IdMixin, TenantScoped, Base):
    """An order: from a storefront (channel ``store``) or imported from a platform."""

    __tablename__ = "store_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "channel", "external_id"),
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(_in("fulfilment", FULFILMENT_MODES), name="fulfilment"),
        CheckConstraint("total_fen >= 0 AND discount_fen >= 0", name="amounts"),
        Index("ix_store_orders_created", "tenant_id", "created_at"),
        Index("ix_store_orders_assigned", "tenant_id", "assigned_org_id", "status"),
        Index("ix_store_orders_storefront", "tenant_id", "storefront_id", "created_at"),
    )

    number: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="store")
    external_id: Mapped[str | None] = mapped_column(String(64))
    storefront_id: Mapped[str | None] = mapped_column(String(36))
    storefront_org_id: Mapped[str | None] = mapped_column(String(36))
    sharer_id: Mapped[str | None] = mapped_column(String(36))
    consumer_key: Mapped[str] = mapped_column(String(128))
    buyer_name: Mapped[str] = mapped_column(String(100), default="")
    buyer_phone: Mapped[str] = mapped_column(String(32), default="")
    division_code: Mapped[str | None] = mapped_column(String(6))
    address_line: Mapped[str] = mapped_column(String(300), default="")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    fulfilment: Mapped[str] = mapped_column(String(16), default="delivery")
    status: Mapped[str] = mapped_column(String(20), default="created")
    subtotal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_id: Mapped[str | None] = mapped_column(String(36))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    assigned_org_id: Mapped[str | None] = mapped_column(String(36))
    accepted: Mapped[bool] = mapped_column(default=False)
    declined_org_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    pickup_code: Mapped[str | None] = mapped_column(String(6))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrderLine(IdMixin, TenantScoped, Base):
    """One SKU of an order, with its unit price and its share of the discount."""

    __tablename__ = "store_order_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        Index("ix_store_order_lines_order", "tenant_id", "order_id"),
    )

    order_id: Mapped[str] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(Integer, default=0)
    sku_id: Mapped[str | None] = mapped_column(String(36))
    sku_code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger)


class OrderEvent(IdMixin, TenantScoped, Base):
    """One step of an order's timeline: a state change or an action, by whom."""

    __tablename__ = "store_order_events"
    __table_args__ = (Index("ix_store_order_events_order", "tenant_id", "order_id", "at"),)

    order_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100), default="")
    org_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Payment(IdMixin, TenantScoped, Base):
    """One payment attempt of an order with a provider (simulator, WeChat Pay JSAPI)."""

    __tablename__ = "store_payments"
    __table_args__ = (
        UniqueConstraint("out_trade_no"),
        CheckConstraint(_in("status", PAYMENT_STATUSES), name="status"),
        Index("ix_store_payments_order", "tenant_id", "order_id"),
    )

    order_id: Mapped[str] = mapped_column(String(36))
    provider: Mapped[str] = mapped_column(String(24))
    out_trade_no: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    prepay_id: Mapped[str | None] = mapped_column(String(128))
    transaction_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrderSettings(IdMixin, TenantScoped, Base):
    """The brand's order settings: the stores' service radius and how long stock is held."""

    __tablename__ = "store_order_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("service_radius_km > 0", name="radius"),
        CheckConstraint("reservation_minutes > 0", name="reservation"),
    )

    service_radius_km: Mapped[float] = mapped_column(Float, default=5.0)
    reservation_minutes: Mapped[int] = mapped_column(Integer, default=15)
