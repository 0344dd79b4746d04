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
