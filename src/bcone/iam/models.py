"""Tables of the iam domain: tenants, users, console sessions, API keys, failed logins.

Only ``api_keys`` is :class:`~bcone.core.tenancy.TenantScoped`. ``users`` and
``console_sessions`` are read before any tenant is known (a login resolves an email, a cookie
resolves a session) and the platform operator's rows belong to no tenant, so the automatic
filter cannot apply to them; :mod:`bcone.iam.service` scopes them to the bound tenant in one
helper instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin
from bcone.core.tenancy import TenantScoped

TENANT_STATUSES = ("active", "suspended")
USER_STATUSES = ("active", "disabled")


class Tenant(IdMixin, TimestampMixin, Base):
    """A brand running bcone; every business row belongs to one."""

    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")


class User(IdMixin, TimestampMixin, Base):
    """A person who logs in to the console: a tenant's staff or partner, or the platform operator."""

    __tablename__ = "users"
    __table_args__ = (
        # The operator belongs to no tenant and has no tenant role; everyone else has both.
        CheckConstraint(
            "(is_operator AND tenant_id IS NULL AND role IS NULL)"
            " OR (NOT is_operator AND tenant_id IS NOT NULL AND role IS NOT NULL)",
            name="operator_or_tenant_user",
        ),
        # A partner is bound to exactly one organisation of the channel network.
        CheckConstraint(
            "(role = 'partner' AND org_id IS NOT NULL)"
            " OR ((role IS NULL OR role <> 'partner') AND org_id IS NULL)",
            name="partner_org",
        ),
    )

    tenant_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(32))
    org_id: Mapped[str | None] = mapped_column(String(36))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSession(IdMixin, TimestampMixin, Base):
    """A browser login. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"

    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiKey(IdMixin, TimestampMixin, TenantScoped, Base):
    """A machine credential of one tenant. The secret is shown once; only its SHA-256 is stored."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    org_id: Mapped[str | None] = mapped_column(String(36))  # for partner keys, like partner users
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginFailure(IdMixin, Base):
    """One failed password login, kept for the throttle window."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_failed_at", "email", "failed_at"),
        Index("ix_login_failures_client_failed_at", "client", "failed_at"),
    )

    email: Mapped[str] = mapped_column(String(254))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The network address the attempt came from (None when unknown, e.g. a command).
    client: Mapped[str | None] = mapped_column(String(64))
