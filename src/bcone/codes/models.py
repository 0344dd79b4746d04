"""Tables of the codes domain.

No row per printed code: a batch is a counter range (a batch of 100 million codes is one row) and
its serials are computed from the range and the tenant's key (:mod:`bcone.codes._serials`). A
code gets a row in ``code_states`` only when it is first checked.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin, utcnow
from bcone.core.tenancy import TenantScoped

PACKING_LEVELS = ("unit", "case", "pallet")
BATCH_STATUSES = ("active", "voided")
DEFAULT_WARN_THRESHOLD = 5


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CodeSpace(TimestampMixin, TenantScoped, Base):
    """A tenant's code settings and counter: one row per tenant, locked to allocate ranges."""

    __tablename__ = "code_spaces"
    __table_args__ = (
        CheckConstraint("next_counter >= 0", name="next_counter_not_negative"),
        CheckConstraint("warn_threshold >= 1", name="warn_threshold_positive"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    next_counter: Mapped[int] = mapped_column(BigInteger, default=0)
    current_key_version: Mapped[int] = mapped_column(Integer, default=0)
    resolver_host: Mapped[str | None] = mapped_column(String(253))
    warn_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_WARN_THRESHOLD)
    # The consumer identity of the scan page: a WeChat official account (OAuth), its app secret
    # sealed like the code keys, and the open platform that scopes unionids.
    wechat_appid: Mapped[str | None] = mapped_column(String(32))
    wechat_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    wechat_scope: Mapped[str | None] = mapped_column(String(16))
    wechat_open_platform_id: Mapped[str | None] = mapped_column(String(64))
    # A link the scan page shows: a URL template with {org_id} {sku} {region} {serial}.
    nps_survey_url: Mapped[str | None] = mapped_column(String(500))


class CodeKey(IdMixin, TenantScoped, Base):
    """One version of a tenant's code key, sealed with the app secret (``codes._crypto``)."""

    __tablename__ = "code_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    version: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CodeBatch(IdMixin, TimestampMixin, TenantScoped, Base):
    """Codes commissioned together for one SKU: the counter range ``[range_start, range_end)``."""

    __tablename__ = "code_batches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "range_start"),
        Index("ix_code_batches_gtin", "gtin"),
        CheckConstraint(_in("level", PACKING_LEVELS), name="level"),
        CheckConstraint(_in("status", BATCH_STATUSES), name="status"),
        CheckConstraint("range_end > range_start AND range_start >= 0", name="range"),
    )

    sku_id: Mapped[str] = mapped_column(String(36), index=True)
    sku_code: Mapped[str] = mapped_column(String(64))
    gtin: Mapped[str] = mapped_column(String(14))
    level: Mapped[str] = mapped_column(String(8), default="unit")
    lot: Mapped[str] = mapped_column(String(20), default="")
    production_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_version: Mapped[int] = mapped_column(Integer)
    range_start: Mapped[int] = mapped_column(BigInteger)
    range_end: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8), default="active")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str] = mapped_column(String(500), default="")


class CodeState(IdMixin, TenantScoped, Base):
    """A code that has been checked at least once: how often, and when and where first."""

    __tablename__ = "code_states"
    __table_args__ = (UniqueConstraint("tenant_id", "serial"),)

    serial: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[str] = mapped_column(String(36), ForeignKey("code_batches.id"), index=True)
    check_count: Mapped[int] = mapped_column(Integer, default=1)
    first_checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    first_region: Mapped[str | None] = mapped_column(String(6))
    first_lat: Mapped[float | None] = mapped_column(Float)
    first_lng: Mapped[float | None] = mapped_column(Float)
    last_checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CodeCheck(IdMixin, TenantScoped, Base):
    """One authenticity check of a genuine code (its history; the event goes to the outbox)."""

    __tablename__ = "code_checks"
    __table_args__ = (Index("ix_code_checks_tenant_serial", "tenant_id", "serial"),)

    serial: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[str] = mapped_column(String(36), ForeignKey("code_batches.id"))
    ordinal: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    region: Mapped[str | None] = mapped_column(String(6))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)


# --- Packing, shipping and diversion (EPCIS events) ------------------------------------------

EVENT_KINDS = ("commission", "aggregate", "disaggregate", "ship", "receive", "open")
UNIT_STATUSES = ("active", "in_transit", "received")


class CodeEvent(IdMixin, TenantScoped, Base):
    """One EPCIS event: its codes are in ``code_event_epcs`` (the parent, if any, in ``parent_serial``)."""

    __tablename__ = "code_events"
    __table_args__ = (
        Index("ix_code_events_tenant_time", "tenant_id", "event_time"),
        Index("ix_code_events_tenant_parent", "tenant_id", "parent_serial"),
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    event_time: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    parent_serial: Mapped[str | None] = mapped_column(String(20))
    epc_count: Mapped[int] = mapped_column(Integer, default=0)
    source_org_id: Mapped[str | None] = mapped_column(String(36))
    destination_org_id: Mapped[str | None] = mapped_column(String(36))
    read_point: Mapped[str | None] = mapped_column(String(6))


class CodeEventEpc(TenantScoped, Base):
    """A code taking part in an event (children of an aggregation, objects of an object event)."""

    __tablename__ = "code_event_epcs"
    __table_args__ = (Index("ix_code_event_epcs_tenant_serial", "tenant_id", "serial"),)

    event_id: Mapped[str] = mapped_column(String(36), ForeignKey("code_events.id"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(20), primary_key=True)


class CodeUnit(TenantScoped, Base):
    """A commissioned code: its current container and, for a top-level item, who holds it.

    The holder of a packed code is its top container's (see ``_packing.whereabouts``).
    """

    __tablename__ = "code_units"
    __table_args__ = (
        Index("ix_code_units_tenant_parent", "tenant_id", "parent_serial"),
        CheckConstraint(_in("status", UNIT_STATUSES), name="status"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    serial: Mapped[str] = mapped_column(String(20), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(36), ForeignKey("code_batches.id"), index=True)
    level: Mapped[str] = mapped_column(String(8), default="unit")
    parent_serial: Mapped[str | None] = mapped_column(String(20))
    holder_org_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(12), default="active")
    commissioned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CodeDiversionRule(TenantScoped, Base):
    """A tenant's diversion settings: tolerance beyond a region, in km (one row per tenant)."""

    __tablename__ = "code_diversion_rules"
    __table_args__ = (CheckConstraint("tolerance_km >= 0", name="tolerance_not_negative"),)

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tolerance_km: Mapped[int] = mapped_column(Integer, default=0)


class CodeDiversionException(IdMixin, TenantScoped, Base):
    """A distributor allowed to sell in a region outside its own (no alert there)."""

    __tablename__ = "code_diversion_exceptions"
    __table_args__ = (UniqueConstraint("tenant_id", "distributor_id", "division_code"),)

    distributor_id: Mapped[str] = mapped_column(String(36))
    division_code: Mapped[str] = mapped_column(String(6))
    note: Mapped[str] = mapped_column(String(200), default="")


class CodeDiversionAlert(IdMixin, TenantScoped, Base):
    """A scan outside the regions its code was shipped to or planned for (窜货)."""

    __tablename__ = "code_diversion_alerts"
    __table_args__ = (
        Index("ix_code_diversion_alerts_tenant_time", "tenant_id", "detected_at"),
        Index(
            "uq_code_diversion_alerts_open_group",
            "tenant_id",
            "group_key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    serial: Mapped[str] = mapped_column(String(20))
    batch_id: Mapped[str] = mapped_column(String(36), ForeignKey("code_batches.id"))
    sku_code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(24))
    org_id: Mapped[str | None] = mapped_column(String(36))
    distributor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    region: Mapped[str] = mapped_column(String(6))
    province: Mapped[str] = mapped_column(String(6))
    expected_regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    distance_km: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Deduplication: one open alert per (distributor, SKU, scan division); later scans of the
    # same group count as occurrences of it. Closing it lets the next scan open a new one.
    group_key: Mapped[str | None] = mapped_column(String(120))
    occurrences: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")


class CodeConsumerOtp(IdMixin, TenantScoped, Base):
    """A one-time code sent to a phone by the development identity adapter (written to the log)."""

    __tablename__ = "code_consumer_otps"
    __table_args__ = (Index("ix_code_consumer_otps_tenant_phone", "tenant_id", "phone_hash"),)

    phone_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
