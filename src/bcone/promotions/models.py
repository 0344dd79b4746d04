"""Tables of the promotions domain: campaigns, rewards (one per code), attempts, counters, blocks.

``promotion_rewards`` is unique on ``(tenant_id, code)``: whatever the number of concurrent scans
of one code, the database lets exactly one claim through. ``promotion_counters`` holds every
counted limit (rate windows, daily spend, per-consumer and per-store counts) as one row per key,
changed only by a conditional upsert, so limits hold under concurrency too.
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

CAMPAIGN_STATUSES = ("draft", "active", "paused", "ended")
REWARD_KINDS = ("random_red_packet", "red_packet", "points", "coupon", "thanks")
OUTCOMES = (
    "granted",
    "thanks",
    "not_genuine",
    "already_rewarded",
    "no_campaign",
    "budget_exhausted",
    "daily_limit",
    "consumer_limit",
    "rate_limited",
    "blocked",
    "no_identity",
)
BLOCK_KINDS = ("identity", "device")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Campaign(IdMixin, TimestampMixin, TenantScoped, Base):
    """A scan-reward campaign: who is eligible, what can be won, and how much may be spent."""

    __tablename__ = "promotion_campaigns"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),
    )

    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Eligibility; an empty list means "any".
    sku_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    gtins: Mapped[list[str]] = mapped_column(JSON, default=list)
    batch_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The prize pool: a JSON list of tiers (see schemas.PrizeTier).
    prizes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    budget_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    budget_points: Mapped[int] = mapped_column(BigInteger, default=0)
    daily_fen: Mapped[int | None] = mapped_column(BigInteger)
    daily_points: Mapped[int | None] = mapped_column(BigInteger)
    per_consumer_limit: Mapped[int | None] = mapped_column(Integer)
    per_store_limit: Mapped[int | None] = mapped_column(Integer)
    store_rebate_fen: Mapped[int] = mapped_column(Integer, default=0)
    rate_limit_scans: Mapped[int | None] = mapped_column(Integer)
    rate_limit_window_s: Mapped[int] = mapped_column(Integer, default=3600)
    # Velocity rules (anti-fraud): scans per identity per minute / per hour, distinct codes per
    # device per China day. None = no rule.
    max_scans_per_minute: Mapped[int | None] = mapped_column(Integer)
    max_scans_per_hour: Mapped[int | None] = mapped_column(Integer)
    max_codes_per_device_day: Mapped[int | None] = mapped_column(Integer)
    # Cluster flag: this many codes of one case scanned by one identity, farther than
    # cluster_km from the store the case was shipped to. None = no flag.
    cluster_min_codes: Mapped[int | None] = mapped_column(Integer)
    cluster_km: Mapped[int | None] = mapped_column(Integer)
    # How much has been moved from the tenant's funding into the campaign's budget accounts.
    funded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    funded_points: Mapped[int] = mapped_column(BigInteger, default=0)


class Reward(IdMixin, TenantScoped, Base):
    """The one draw a code ever gets (a prize or "thanks"), with its ledger postings."""

    __tablename__ = "promotion_rewards"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint(_in("kind", REWARD_KINDS), name="kind"),
        Index("ix_promotion_rewards_campaign", "tenant_id", "campaign_id", "created_at"),
    )

    code: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[str] = mapped_column(String(36))
    gtin: Mapped[str] = mapped_column(String(14))
    batch_id: Mapped[str | None] = mapped_column(String(36))
    openid: Mapped[str | None] = mapped_column(String(128))
    device: Mapped[str | None] = mapped_column(String(128))
    store_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(24))
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    transaction_id: Mapped[str | None] = mapped_column(String(36))
    rebate_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    rebate_transaction_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RewardAttempt(IdMixin, TenantScoped, Base):
    """Every reward decision, granted or refused, with its outcome (a stable reason code)."""

    __tablename__ = "promotion_attempts"
    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        Index("ix_promotion_attempts_campaign", "tenant_id", "campaign_id", "created_at"),
    )

    code: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[str | None] = mapped_column(String(36))
    openid: Mapped[str | None] = mapped_column(String(128))
    device: Mapped[str | None] = mapped_column(String(128))
    store_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(24))
    # The refusal's detail where the outcome alone does not say it (which velocity rule).
    reason: Mapped[str | None] = mapped_column(String(120))
    reward_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PromotionCounter(IdMixin, TenantScoped, Base):
    """One counted quantity (scans in a rate window, fen spent on a day, rewards of a consumer)."""

    __tablename__ = "promotion_counters"
    __table_args__ = (UniqueConstraint("tenant_id", "scope", "key"),)

    scope: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(200))
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class PromotionBlock(IdMixin, TenantScoped, Base):
    """A blocked consumer identity (openid) or device: its scans are never rewarded."""

    __tablename__ = "promotion_blocks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "value"),
        CheckConstraint(_in("kind", BLOCK_KINDS), name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PromotionFlag(IdMixin, TenantScoped, Base):
    """A fraud flag for review (not a refusal): e.g. many codes of one case scanned by one
    identity far from the store the case was shipped to. One row per (kind, identity, subject)."""

    __tablename__ = "promotion_flags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "identity", "subject"),
        Index("ix_promotion_flags_tenant_time", "tenant_id", "last_seen_at"),
    )

    kind: Mapped[str] = mapped_column(String(24))
    campaign_id: Mapped[str | None] = mapped_column(String(36))
    identity: Mapped[str] = mapped_column(String(128))
    # What the flag is about: the case serial of a cluster.
    subject: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[str | None] = mapped_column(String(36))
    count: Mapped[int] = mapped_column(Integer, default=1)
    distance_km: Mapped[float | None] = mapped_column(Float)
    region: Mapped[str | None] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
