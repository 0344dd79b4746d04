"""Tables of the crm domain: accounts and contacts, sales teams, the pipeline, opportunities with
their stage history, iron triangle, contributions and activities, scorecard templates and
assessments, and the stored win-rate models. Every table is tenant-scoped; money is integer fen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin, utcnow
from bcone.core.tenancy import TenantScoped

JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")


class Account(IdMixin, TimestampMixin, TenantScoped, Base):
    """An organisation the brand sells to: an enterprise customer or a network organisation."""

    __tablename__ = "crm_accounts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint("kind IN ('enterprise', 'network')", name="kind"),
        CheckConstraint("tier IS NULL OR tier IN ('A', 'B', 'C')", name="tier"),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="enterprise")
    network_org_id: Mapped[str | None] = mapped_column(String(36), index=True)
    industry: Mapped[str] = mapped_column(String(100), default="")
    owner_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    tier: Mapped[str | None] = mapped_column(String(1))
    notes: Mapped[str] = mapped_column(Text, default="")


class Contact(IdMixin, TimestampMixin, TenantScoped, Base):
    """A person at an account, with the role they play in buying decisions."""

    __tablename__ = "crm_contacts"

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    decision_role: Mapped[str] = mapped_column(String(32))


class SalesTeam(IdMixin, TimestampMixin, TenantScoped, Base):
    """A sales team led by a manager; a manager sees the opportunities of the teams they lead."""

    __tablename__ = "crm_sales_teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    manager_user_id: Mapped[str | None] = mapped_column(String(36), index=True)


class SalesTeamMember(IdMixin, TenantScoped, Base):
    """A salesperson's team (one team per user)."""

    __tablename__ = "crm_sales_team_members"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    team_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_sales_teams.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(36))


class Stage(IdMixin, TenantScoped, Base):
    """One stage of the tenant's pipeline, with the scorecard items required to enter it."""

    __tablename__ = "crm_stages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        CheckConstraint("outcome IN ('open', 'won', 'lost')", name="outcome"),
        CheckConstraint("prior_probability >= 0 AND prior_probability <= 1", name="prior"),
    )

    key: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8), default="open")
    prior_probability: Mapped[float] = mapped_column(Float)
    required_items: Mapped[list[str]] = mapped_column(JSON_TYPE, default=list)


class Opportunity(IdMixin, TimestampMixin, TenantScoped, Base):
    """A deal in the pipeline; ``amount_fen`` in integer fen (CNY)."""

    __tablename__ = "crm_opportunities"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        CheckConstraint("currency = 'CNY'", name="currency"),
        CheckConstraint("grade IN ('strategic', 'key', 'normal')", name="grade"),
        CheckConstraint(
            "forecast_category IN ('pipeline', 'best_case', 'commit', 'closed')", name="forecast_category"
        ),
        CheckConstraint("status IN ('open', 'won', 'lost')", name="status"),
        CheckConstraint(
            "own_estimate IS NULL OR (own_estimate >= 0 AND own_estimate <= 100)", name="estimate"
        ),
        Index("ix_crm_opportunities_tenant_close", "tenant_id", "close_date", "id"),
        Index("ix_crm_opportunities_tenant_owner", "tenant_id", "owner_user_id"),
        Index("ix_crm_opportunities_tenant_status", "tenant_id", "status", "stage_key"),
        # Covers the search's count: the LIKE runs over this index, not the table's rows.
        Index("ix_crm_opportunities_tenant_search", "tenant_id", "search_text", "id"),
    )

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_accounts.id"), index=True)
    account_name: Mapped[str] = mapped_column(String(200))  # copied from the account; kept on rename
    name: Mapped[str] = mapped_column(String(200))
    # lower(name + " " + account_name): search is one LIKE on one column, with no lower() per row
    search_text: Mapped[str] = mapped_column(String(401))
    owner_user_id: Mapped[str] = mapped_column(String(36))
    sales_team_id: Mapped[str | None] = mapped_column(String(36), index=True)
    stage_key: Mapped[str] = mapped_column(String(32))
    max_stage_position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(8), default="open")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    close_date: Mapped[date] = mapped_column(Date)
    grade: Mapped[str] = mapped_column(String(16), default="normal")
    forecast_category: Mapped[str] = mapped_column(String(16), default="pipeline")
    own_estimate: Mapped[int | None] = mapped_column(Integer)  # the salesperson's own %, 0..100
    stage_moves: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StageChange(IdMixin, TenantScoped, Base):
    """One move of an opportunity between stages: who, when, from, to."""

    __tablename__ = "crm_stage_changes"

    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_opportunities.id"), index=True)
    from_stage: Mapped[str | None] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    changed_by: Mapped[str | None] = mapped_column(String(36))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TeamMember(IdMixin, TenantScoped, Base):
    """A member of an opportunity's iron triangle (AR, SR, FR or another role)."""

    __tablename__ = "crm_team_members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "opportunity_id", "user_id", "role"),
        CheckConstraint("role IN ('AR', 'SR', 'FR', 'other')", name="role"),
    )

    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_opportunities.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(200), default="")


class Contribution(IdMixin, TenantScoped, Base):
    """What a team member did for an opportunity, with an integer weight (points)."""

    __tablename__ = "crm_contributions"
    __table_args__ = (CheckConstraint("weight > 0 AND weight <= 100", name="weight"),)

    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_opportunities.id"), index=True)
    user_id: Mapped[str] = mapped_column(String(36))
    what: Mapped[str] = mapped_column(String(500))
    weight: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str | None] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Activity(IdMixin, TenantScoped, Base):
    """A task or a comment on an opportunity's timeline."""

    __tablename__ = "crm_activities"
    __table_args__ = (CheckConstraint("kind IN ('task', 'comment')", name="kind"),)

    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_opportunities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    author_user_id: Mapped[str | None] = mapped_column(String(36))
    assignee_user_id: Mapped[str | None] = mapped_column(String(36))
    due_date: Mapped[date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ScorecardTemplate(IdMixin, TenantScoped, Base):
    """One version of the company-wide relationship scorecard (客情判断标准); never edited."""

    __tablename__ = "crm_scorecard_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON_TYPE)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assessment(IdMixin, TenantScoped, Base):
    """A scorecard filled in for an opportunity at one time; the latest one counts."""

    __tablename__ = "crm_assessments"
    # Leads with tenant_id: every query carries the tenant criterion, and the planner should not
    # prefer the bare tenant index over this one.
    __table_args__ = (
        Index("ix_crm_assessments_opportunity_time", "tenant_id", "opportunity_id", "assessed_at"),
    )

    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_opportunities.id"))
    template_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_scorecard_templates.id"))
    template_version: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict[str, int]] = mapped_column(JSON_TYPE)
    evidence: Mapped[dict[str, str]] = mapped_column(JSON_TYPE)
    assessed_by: Mapped[str | None] = mapped_column(String(36))
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WinModel(IdMixin, TenantScoped, Base):
    """A trained win-rate model: its parameters as JSON (no pickles), its held-out metrics."""

    __tablename__ = "crm_win_models"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # logistic_isotonic | stage_prior
    n_closed: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    trained_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
