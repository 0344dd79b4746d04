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
    # Tiering inputs set by the account's team (0..100) and the last score of the tiering job.
    potential: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    strategic_fit: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    tier_score: Mapped[float | None] = mapped_column(Float)


class Contact(IdMixin, TimestampMixin, TenantScoped, Base):
    """A person at an account, with the role they play in buying decisions."""

    __tablename__ = "crm_contacts"
    __table_args__ = (
        CheckConstraint("attitude IN ('supporter', 'neutral', 'opponent', 'unknown')", name="attitude"),
        CheckConstraint(
            "relationship_strength >= 0 AND relationship_strength <= 3", name="relationship_strength"
        ),
    )

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    decision_role: Mapped[str] = mapped_column(String(32))
    # relationship map: whom the contact reports to (same account), their stance towards us, how
    # strong our relationship is (0..3) and which of our salespeople holds it
    reports_to_contact_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("crm_contacts.id"), index=True
    )
    attitude: Mapped[str] = mapped_column(String(10), default="unknown", server_default="unknown")
    relationship_strength: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    owner_user_id: Mapped[str | None] = mapped_column(String(36), index=True)


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
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a won deal undone


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


# --- tiering and growth (migration 0010) ---------------------------------------------------------


class TierModel(IdMixin, TenantScoped, Base):
    """One version of the tenant's tiering model: criteria weights (adding up to 1), the score
    thresholds of tiers A and B, and the service policy of each tier; never edited."""

    __tablename__ = "crm_tier_models"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    version: Mapped[int] = mapped_column(Integer)
    weights: Mapped[dict[str, float]] = mapped_column(JSON_TYPE)
    thresholds: Mapped[dict[str, float]] = mapped_column(JSON_TYPE)
    policies: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TierChange(IdMixin, TenantScoped, Base):
    """One tier assignment of an account by the tiering job (or by hand): the score behind it."""

    __tablename__ = "crm_tier_changes"
    __table_args__ = (Index("ix_crm_tier_changes_account", "tenant_id", "account_id", "changed_at"),)

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_accounts.id"))
    from_tier: Mapped[str | None] = mapped_column(String(1))
    to_tier: Mapped[str] = mapped_column(String(1))
    score: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[int | None] = mapped_column(Integer)
    changed_by: Mapped[str | None] = mapped_column(String(36))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GrowthTask(IdMixin, TenantScoped, Base):
    """A growth task a tier's policy generates for an account in a period, tracked to closure
    with its outcome (open -> done with an outcome, or cancelled)."""

    __tablename__ = "crm_growth_tasks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "account_id", "key", "period"),
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status"),
        CheckConstraint(
            "outcome IS NULL OR outcome IN ('won_growth', 'no_growth', 'lost_ground')", name="outcome"
        ),
        CheckConstraint("growth_fen >= 0", name="growth_not_negative"),
        Index("ix_crm_growth_tasks_status", "tenant_id", "status", "due_date"),
    )

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_accounts.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    period: Mapped[str] = mapped_column(String(10))  # e.g. 2026Q4
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    tier: Mapped[str] = mapped_column(String(1))
    assignee_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    growth_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_by: Mapped[str | None] = mapped_column(String(36))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- leads ---------------------------------------------------------------------------------------


class Lead(IdMixin, TimestampMixin, TenantScoped, Base):
    """A captured lead: from a form, an import or a referral (the referrer is credited), then
    qualified and converted into an account and an opportunity (read-only after that)."""

    __tablename__ = "crm_leads"
    __table_args__ = (
        CheckConstraint("source IN ('form', 'import', 'referral')", name="source"),
        CheckConstraint("status IN ('new', 'qualified', 'disqualified', 'converted')", name="status"),
        CheckConstraint("estimated_fen >= 0", name="estimate_not_negative"),
        Index("ix_crm_leads_status", "tenant_id", "status", "created_at"),
    )

    company: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    need: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10))
    referrer_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    referrer_name: Mapped[str] = mapped_column(String(100), default="")
    owner_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    estimated_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(14), default="new")
    qualification_note: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[str | None] = mapped_column(String(36))
    opportunity_id: Mapped[str | None] = mapped_column(String(36))
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- front/back office collaboration -------------------------------------------------------------


class BackOfficeRequest(IdMixin, TenantScoped, Base):
    """A request of the sales team to the back office (presales, delivery, finance) on an
    opportunity, with a due date and a status."""

    __tablename__ = "crm_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('presales', 'delivery', 'finance')", name="kind"),
        CheckConstraint("status IN ('open', 'accepted', 'done', 'rejected')", name="status"),
        Index("ix_crm_requests_opportunity", "tenant_id", "opportunity_id"),
    )

    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_opportunities.id"))
    kind: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(36))
    assignee_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    response: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Mention(IdMixin, TenantScoped, Base):
    """A user mentioned (@) in a comment on an opportunity."""

    __tablename__ = "crm_mentions"
    __table_args__ = (UniqueConstraint("tenant_id", "activity_id", "user_id"),)

    activity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_activities.id"))
    opportunity_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- bonus allocation ----------------------------------------------------------------------------


class BonusPolicy(IdMixin, TenantScoped, Base):
    """One version of the bonus policy: the pool of a won deal (a share of its amount, or a fixed
    sum), the role ratios (adding up to 1) and how much recorded contributions adjust them."""

    __tablename__ = "crm_bonus_policies"
    __table_args__ = (
        UniqueConstraint("tenant_id", "version"),
        CheckConstraint("pool_kind IN ('percent', 'fixed')", name="pool_kind"),
        CheckConstraint("pool_basis_points >= 0 AND pool_basis_points <= 10000", name="basis_points"),
        CheckConstraint("pool_fixed_fen >= 0", name="fixed_not_negative"),
        CheckConstraint("contribution_share >= 0 AND contribution_share <= 1", name="contribution_share"),
    )

    version: Mapped[int] = mapped_column(Integer)
    pool_kind: Mapped[str] = mapped_column(String(8))
    pool_basis_points: Mapped[int] = mapped_column(Integer, default=0)  # 150 = 1.5 % of the amount
    pool_fixed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    role_ratios: Mapped[dict[str, float]] = mapped_column(JSON_TYPE)
    contribution_share: Mapped[float] = mapped_column(Float, default=0.5)
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BonusAllocation(IdMixin, TenantScoped, Base):
    """One person's share of a won deal's bonus pool, posted to the ledger; clawed back (the
    exact reverse) when the deal is cancelled."""

    __tablename__ = "crm_bonus_allocations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "opportunity_id", "user_id"),
        CheckConstraint("status IN ('allocated', 'clawed_back')", name="status"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
        Index("ix_crm_bonus_allocations_user", "tenant_id", "user_id", "created_at"),
    )

    opportunity_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_opportunities.id"))
    user_id: Mapped[str] = mapped_column(String(36))
    roles: Mapped[list[str]] = mapped_column(JSON_TYPE)
    policy_version: Mapped[int] = mapped_column(Integer)
    pool_fen: Mapped[int] = mapped_column(BigInteger)
    share: Mapped[float] = mapped_column(Float)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    contribution_points: Mapped[int] = mapped_column(Integer, default=0)
    transaction_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(12), default="allocated")
    clawback_transaction_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    clawed_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# --- field sales ---------------------------------------------------------------------------------


class VisitPlan(IdMixin, TenantScoped, Base):
    """A rep's route for one day: the stores to visit, in nearest-neighbour order from the start."""

    __tablename__ = "crm_visit_plans"
    __table_args__ = (UniqueConstraint("tenant_id", "rep_user_id", "plan_date"),)

    rep_user_id: Mapped[str] = mapped_column(String(36))
    plan_date: Mapped[date] = mapped_column(Date)
    start_lng: Mapped[float] = mapped_column(Float)
    start_lat: Mapped[float] = mapped_column(Float)
    route_km: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Visit(IdMixin, TenantScoped, Base):
    """One stop of a visit plan: a store (a network organisation), checked in on site."""

    __tablename__ = "crm_visits"
    __table_args__ = (
        CheckConstraint("status IN ('planned', 'checked_in', 'done', 'skipped')", name="status"),
        Index("ix_crm_visits_plan", "tenant_id", "plan_id", "sequence"),
        Index("ix_crm_visits_rep_date", "tenant_id", "rep_user_id", "visit_date"),
    )

    plan_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_visit_plans.id"))
    rep_user_id: Mapped[str] = mapped_column(String(36))
    visit_date: Mapped[date] = mapped_column(Date)
    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_accounts.id"))
    org_id: Mapped[str] = mapped_column(String(36), index=True)
    store_name: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(Integer)
    leg_km: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(12), default="planned")
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    check_lng: Mapped[float | None] = mapped_column(Float)
    check_lat: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)


class StoreAudit(IdMixin, TenantScoped, Base):
    """A store audit form filled in during a visit: per SKU shelf facings, stock and price, and
    photos (uploaded files or URLs)."""

    __tablename__ = "crm_store_audits"
    __table_args__ = (Index("ix_crm_store_audits_visit", "tenant_id", "visit_id"),)

    visit_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_visits.id"))
    org_id: Mapped[str] = mapped_column(String(36))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON_TYPE)
    photos: Mapped[list[str]] = mapped_column(JSON_TYPE)
    note: Mapped[str] = mapped_column(Text, default="")
    audited_by: Mapped[str | None] = mapped_column(String(36))
    audited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VisitOrder(IdMixin, TenantScoped, Base):
    """An order taken during a visit; amounts in fen."""

    __tablename__ = "crm_visit_orders"
    __table_args__ = (
        CheckConstraint("total_fen >= 0", name="total_not_negative"),
        Index("ix_crm_visit_orders_visit", "tenant_id", "visit_id"),
    )

    visit_id: Mapped[str] = mapped_column(String(36), ForeignKey("crm_visits.id"))
    org_id: Mapped[str] = mapped_column(String(36))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON_TYPE)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    taken_by: Mapped[str | None] = mapped_column(String(36))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
