"""Tables of the store domain: storefronts, assortments and partner prices, the brand's price
rules, share links and visits, customer bindings, commission rules and commissions.

The orders side (orders, stock, coupons, payments) lives in :mod:`bcone.store.order_models`.

Concurrency rests on unique keys: one storefront per partner (``owner_id``), one binding per
consumer (``store_bindings``: the first valid binding wins, an expired one is taken over by a
conditional ``UPDATE``), one commission per order line and level (accruing twice is a no-op), and
each commission moves to ``settled`` or ``clawed_back`` by a conditional ``UPDATE`` on its status,
with the ledger posting under an idempotency key, so two settlement runs never pay twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin, utcnow
from bcone.core.tenancy import TenantScoped

PARTNER_TYPES = ("distributor", "wholesaler", "store", "shop_assistant", "koc")
STOREFRONT_STATUSES = ("active", "paused")
SALES_CHANNELS = ("store", "tmall", "jd", "douyin")
COMMISSION_STATUSES = ("pending", "settled", "clawed_back", "cancelled")
DEFAULT_BINDING_DAYS = 30
DEFAULT_RETURN_WINDOW_DAYS = 7


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class StoreSettings(TenantScoped, Base):
    """The tenant's cloud-store settings; a tenant without a row uses the defaults."""

    __tablename__ = "store_settings"
    __table_args__ = (
        CheckConstraint("binding_days >= 1", name="binding_days"),
        CheckConstraint("return_window_days >= 0", name="return_window_days"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    binding_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_BINDING_DAYS)
    return_window_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETURN_WINDOW_DAYS)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Storefront(IdMixin, TimestampMixin, TenantScoped, Base):
    """A partner's cloud store: one per organisation (distributor, wholesaler, store) or staff
    member (shop assistant, KOC). ``slug`` is unique across tenants: it is the public address."""

    __tablename__ = "storefronts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "owner_id"),
        UniqueConstraint("slug"),
        CheckConstraint(_in("partner_type", PARTNER_TYPES), name="partner_type"),
        CheckConstraint(_in("status", STOREFRONT_STATUSES), name="status"),
    )

    partner_type: Mapped[str] = mapped_column(String(16))
    # The partner: the organisation's id, or the staff member's id.
    owner_id: Mapped[str] = mapped_column(String(36))
    org_id: Mapped[str | None] = mapped_column(String(36), index=True)
    staff_id: Mapped[str | None] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    slug: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="active")


class StorefrontListing(IdMixin, TimestampMixin, TenantScoped, Base):
    """A SKU of a storefront's assortment with the partner's price (NULL: the list price)."""

    __tablename__ = "storefront_listings"
    __table_args__ = (
        UniqueConstraint("storefront_id", "sku_id"),
        CheckConstraint("price_fen IS NULL OR price_fen >= 0", name="price"),
    )

    storefront_id: Mapped[str] = mapped_column(String(36), ForeignKey("storefronts.id", ondelete="CASCADE"))
    sku_id: Mapped[str] = mapped_column(String(36))
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PriceRule(IdMixin, TenantScoped, Base):
    """The brand's price band for a SKU in a channel ('' = every channel) and a region (a
    division-code prefix, '' = nationwide). The most specific matching rule applies."""

    __tablename__ = "store_price_rules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku_id", "channel", "region_prefix"),
        CheckConstraint("floor_fen IS NULL OR ceiling_fen IS NULL OR floor_fen <= ceiling_fen", name="band"),
    )

    sku_id: Mapped[str] = mapped_column(String(36))
    sku_code: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), default="")
    region_prefix: Mapped[str] = mapped_column(String(6), default="")
    floor_fen: Mapped[int | None] = mapped_column(BigInteger)
    ceiling_fen: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ShareLink(IdMixin, TenantScoped, Base):
    """A shared link to a storefront (optionally one SKU) that carries its sharer."""

    __tablename__ = "store_share_links"
    __table_args__ = (
        UniqueConstraint("token"),
        Index("ix_store_share_links_sharer", "tenant_id", "sharer_storefront_id"),
    )

    token: Mapped[str] = mapped_column(String(64))
    storefront_id: Mapped[str] = mapped_column(String(36), ForeignKey("storefronts.id", ondelete="CASCADE"))
    sharer_storefront_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("storefronts.id", ondelete="CASCADE")
    )
    sku_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StorefrontVisit(IdMixin, TenantScoped, Base):
    """One opening of a storefront page, through a share link or not."""

    __tablename__ = "store_visits"
    __table_args__ = (
        Index("ix_store_visits_storefront", "tenant_id", "storefront_id", "created_at"),
        Index("ix_store_visits_sharer", "tenant_id", "sharer_storefront_id"),
    )

    storefront_id: Mapped[str] = mapped_column(String(36))
    share_link_id: Mapped[str | None] = mapped_column(String(36))
    sharer_storefront_id: Mapped[str | None] = mapped_column(String(36))
    consumer_key: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CustomerBinding(IdMixin, TenantScoped, Base):
    """A consumer bound to a sharer (锁客): one row per consumer, taken over once it expired."""

    __tablename__ = "store_bindings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "consumer_key"),
        Index("ix_store_bindings_sharer", "tenant_id", "sharer_storefront_id"),
    )

    consumer_key: Mapped[str] = mapped_column(String(128))
    sharer_storefront_id: Mapped[str] = mapped_column(String(36))
    share_link_id: Mapped[str | None] = mapped_column(String(36))
    bound_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CommissionRule(IdMixin, TenantScoped, Base):
    """Commission rates (basis points) for level 1 and level 2, by the sharer's partner type ('' =
    any) and a scope: one SKU, one category (product line) or everything ('all')."""

    __tablename__ = "store_commission_rules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "partner_type", "scope", "scope_value"),
        CheckConstraint("scope IN ('sku', 'category', 'all')", name="scope"),
        CheckConstraint("level1_bp >= 0 AND level1_bp <= 10000", name="level1"),
        CheckConstraint("level2_bp >= 0 AND level2_bp <= 10000", name="level2"),
    )

    partner_type: Mapped[str] = mapped_column(String(16), default="")
    scope: Mapped[str] = mapped_column(String(16))
    # The SKU id for scope 'sku', the category for 'category', '' for 'all'.
    scope_value: Mapped[str] = mapped_column(String(100), default="")
    sku_code: Mapped[str | None] = mapped_column(String(64))
    level1_bp: Mapped[int] = mapped_column(Integer)
    level2_bp: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Commission(IdMixin, TenantScoped, Base):
    """What one beneficiary earns on one order line at one level: pending until the order is
    completed and its return window has passed, then settled to the ledger; a refund cancels a
    pending one and claws back a settled one."""

    __tablename__ = "store_commissions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_id", "line_no", "level"),
        CheckConstraint(_in("status", COMMISSION_STATUSES), name="status"),
        CheckConstraint("level IN (1, 2)", name="level"),
        CheckConstraint("amount_fen >= 0", name="amount"),
        Index("ix_store_commissions_beneficiary", "tenant_id", "beneficiary_storefront_id", "status"),
        Index("ix_store_commissions_due", "tenant_id", "status", "settle_after"),
    )

    order_id: Mapped[str] = mapped_column(String(64), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    beneficiary_storefront_id: Mapped[str] = mapped_column(String(36))
    # The level-1 sharer of the order (the same for both levels): sales by sharer.
    sharer_storefront_id: Mapped[str] = mapped_column(String(36), index=True)
    partner_type: Mapped[str] = mapped_column(String(16))
    rate_bp: Mapped[int] = mapped_column(Integer)
    base_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settle_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clawed_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    transaction_id: Mapped[str | None] = mapped_column(String(36))
    clawback_transaction_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# The orders side's tables, so that importing this module (bcone.models does) registers them all.
from bcone.store import order_models as _order_models  # noqa: E402, F401
