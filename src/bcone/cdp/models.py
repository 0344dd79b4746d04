"""Tables of the cdp domain: the identity graph (identifiers and links), profiles, merge audit,
and the tenant's CDP settings.

Identifiers and links have integer keys: a full rebuild loads millions of them into numpy arrays,
and a link's ``seq`` orders links by age (an attaching identifier keeps its oldest link).
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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin, utcnow
from bcone.core.tenancy import TenantScoped

BigId = BigInteger().with_variant(Integer, "sqlite")
PROFILE_STATUSES = ("active", "merged")
LINK_STATUSES = ("active", "removed")
AUDIT_KINDS = ("merge", "split", "unlink", "quarantine", "release")
UNKNOWN_EVENT_POLICIES = ("reject", "keep")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Profile(IdMixin, TimestampMixin, TenantScoped, Base):
    """A consumer: one connected component of the identity graph. Merged profiles stay as
    ``status='merged'`` with ``merged_into`` so old events and links still find their consumer."""

    __tablename__ = "cdp_profiles"
    __table_args__ = (CheckConstraint(_in("status", PROFILE_STATUSES), name="status"),)

    status: Mapped[str] = mapped_column(String(16), default="active")
    merged_into: Mapped[str | None] = mapped_column(String(36), index=True)


class Identifier(TenantScoped, Base):
    """One ``(namespace, key)`` of a consumer. ``key`` is the value, or for phones and emails its
    keyed hash; ``display`` is what the console shows (masked for phones and emails)."""

    __tablename__ = "cdp_identifiers"
    __table_args__ = (UniqueConstraint("tenant_id", "namespace", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(128))
    display: Mapped[str] = mapped_column(String(128))
    profile_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("cdp_profiles.id"), index=True)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Link(TenantScoped, Base):
    """Two identifiers seen together (``a_id < b_id``). A removed link (an undone merge) stays,
    so the same pair seen again is not linked again."""

    __tablename__ = "cdp_links"
    __table_args__ = (
        UniqueConstraint("a_id", "b_id"),
        CheckConstraint("a_id < b_id", name="ordered"),
        CheckConstraint(_in("status", LINK_STATUSES), name="status"),
        Index("ix_cdp_links_b_id", "b_id"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    a_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cdp_identifiers.id"))
    b_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cdp_identifiers.id"))
    status: Mapped[str] = mapped_column(String(16), default="active")
    event_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MergeAudit(IdMixin, TenantScoped, Base):
    """What changed a profile and why: ``identifiers`` (JSON) are the ones that caused it."""

    __tablename__ = "cdp_merge_audit"
    __table_args__ = (
        CheckConstraint(_in("kind", AUDIT_KINDS), name="kind"),
        Index("ix_cdp_merge_audit_tenant_at", "tenant_id", "at"),
    )

    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    profile_id: Mapped[str] = mapped_column(String(36), index=True)
    # JSON lists: the other profiles involved, the identifiers (namespace, display) that caused it.
    other_profiles: Mapped[str] = mapped_column(Text, default="[]")
    identifiers: Mapped[str] = mapped_column(Text, default="[]")
    event_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))


class CdpSettings(TenantScoped, Base):
    """The tenant's CDP settings; a tenant without a row uses the defaults."""

    __tablename__ = "cdp_settings"
    __table_args__ = (
        CheckConstraint(_in("unknown_event_types", UNKNOWN_EVENT_POLICIES), name="unknown_event_types"),
        CheckConstraint("quarantine_threshold >= 1", name="threshold"),
    )

    tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # JSON list of namespace bases that only attach (the others join).
    attach_only: Mapped[str] = mapped_column(Text)
    quarantine_threshold: Mapped[int] = mapped_column(Integer)
    unknown_event_types: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# --- traits, tags, segments, consent, deletion (migration 0011) ----------------------------------

CONSENT_PURPOSES = ("marketing_sms", "marketing_wechat", "profiling", "analytics", "cross_border")
TAG_KINDS = ("manual", "rule")
TAG_SOURCES = ("manual", "rule")
SEGMENT_KINDS = ("dynamic", "static")
DELETION_STATUSES = ("queued", "done", "failed")


class ProfileTraits(TenantScoped, Base):
    """Computed traits of a profile, refreshed from the warehouse by the job ``cdp.traits``."""

    __tablename__ = "cdp_traits"

    profile_id: Mapped[str] = mapped_column(String(36), ForeignKey("cdp_profiles.id"), primary_key=True)
    first_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    events: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    revenue_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    r_score: Mapped[int | None] = mapped_column(Integer)
    f_score: Mapped[int | None] = mapped_column(Integer)
    m_score: Mapped[int | None] = mapped_column(Integer)
    last_scan: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    usual_store: Mapped[str | None] = mapped_column(String(64), index=True)
    region: Mapped[str | None] = mapped_column(String(6))
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Tag(IdMixin, TimestampMixin, TenantScoped, Base):
    """A label on profiles: set by hand (``manual``) or by a segment rule and its job (``rule``)."""

    __tablename__ = "cdp_tags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(_in("kind", TAG_KINDS), name="kind"),
    )

    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500), default="")
    kind: Mapped[str] = mapped_column(String(16), default="manual")
    rule: Mapped[str | None] = mapped_column(Text)  # JSON segment rule for kind='rule'
    member_count: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProfileTag(TenantScoped, Base):
    __tablename__ = "cdp_profile_tags"
    __table_args__ = (
        CheckConstraint(_in("source", TAG_SOURCES), name="source"),
        Index("ix_cdp_profile_tags_profile_id", "profile_id"),
    )

    tag_id: Mapped[str] = mapped_column(String(36), ForeignKey("cdp_tags.id"), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(36), ForeignKey("cdp_profiles.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Segment(IdMixin, TimestampMixin, TenantScoped, Base):
    """An audience: a JSON rule evaluated on the warehouse (``dynamic``), or the members it had
    when it was frozen (``static``, rows in ``cdp_segment_members``)."""

    __tablename__ = "cdp_segments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(_in("kind", SEGMENT_KINDS), name="kind"),
    )

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")
    rule: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="dynamic")
    # A consent purpose: members without that consent are left out of counts, lists and exports.
    purpose: Mapped[str | None] = mapped_column(String(32))
    member_count: Mapped[int | None] = mapped_column(Integer)
    counted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snapshot_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(200))


class SegmentMember(TenantScoped, Base):
    __tablename__ = "cdp_segment_members"

    segment_id: Mapped[str] = mapped_column(String(36), ForeignKey("cdp_segments.id"), primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class Consent(IdMixin, TenantScoped, Base):
    """One grant or withdrawal of consent for a purpose; the latest per purpose holds."""

    __tablename__ = "cdp_consents"
    __table_args__ = (
        CheckConstraint(_in("purpose", CONSENT_PURPOSES), name="purpose"),
        Index("ix_cdp_consents_profile_purpose", "profile_id", "purpose", "at"),
    )

    profile_id: Mapped[str] = mapped_column(String(36), ForeignKey("cdp_profiles.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(200))


class Deletion(IdMixin, TenantScoped, Base):
    """A PIPL deletion request and its receipt. Once done it holds no personal data: ``subject``
    is a keyed hash of the erased profile's id, ``receipt`` counts what was erased, and
    ``pending_profiles`` (the ids to erase, JSON) is emptied."""

    __tablename__ = "cdp_deletions"
    __table_args__ = (CheckConstraint(_in("status", DELETION_STATUSES), name="status"),)

    subject: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str | None] = mapped_column(String(200))
    receipt: Mapped[str] = mapped_column(Text, default="{}")
    pending_profiles: Mapped[str] = mapped_column(Text, default="[]")
    error: Mapped[str | None] = mapped_column(String(500))
