"""crm tiering, growth tasks, leads, bonuses and field visits

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_bonus_policies",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("pool_kind", sa.String(length=8), nullable=False),
        sa.Column("pool_basis_points", sa.Integer(), nullable=False),
        sa.Column("pool_fixed_fen", sa.BigInteger(), nullable=False),
        sa.Column(
            "role_ratios",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("contribution_share", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("pool_kind IN ('percent', 'fixed')", name=op.f("ck_crm_bonus_policies_pool_kind")),
        sa.CheckConstraint(
            "contribution_share >= 0 AND contribution_share <= 1",
            name=op.f("ck_crm_bonus_policies_contribution_share"),
        ),
        sa.CheckConstraint(
            "pool_basis_points >= 0 AND pool_basis_points <= 10000",
            name=op.f("ck_crm_bonus_policies_basis_points"),
        ),
        sa.CheckConstraint("pool_fixed_fen >= 0", name=op.f("ck_crm_bonus_policies_fixed_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_bonus_policies")),
        sa.UniqueConstraint("tenant_id", "version", name=op.f("uq_crm_bonus_policies_tenant_id_version")),
    )
    op.create_index(
        op.f("ix_crm_bonus_policies_tenant_id"), "crm_bonus_policies", ["tenant_id"], unique=False
    )
    op.create_table(
        "crm_leads",
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("need", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("referrer_user_id", sa.String(length=36), nullable=True),
        sa.Column("referrer_name", sa.String(length=100), nullable=False),
        sa.Column("owner_user_id", sa.String(length=36), nullable=True),
        sa.Column("estimated_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("qualification_note", sa.Text(), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("opportunity_id", sa.String(length=36), nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("source IN ('form', 'import', 'referral')", name=op.f("ck_crm_leads_source")),
        sa.CheckConstraint(
            "status IN ('new', 'qualified', 'disqualified', 'converted')", name=op.f("ck_crm_leads_status")
        ),
        sa.CheckConstraint("estimated_fen >= 0", name=op.f("ck_crm_leads_estimate_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_leads")),
    )
    op.create_index(op.f("ix_crm_leads_owner_user_id"), "crm_leads", ["owner_user_id"], unique=False)
    op.create_index(op.f("ix_crm_leads_referrer_user_id"), "crm_leads", ["referrer_user_id"], unique=False)
    op.create_index("ix_crm_leads_status", "crm_leads", ["tenant_id", "status", "created_at"], unique=False)
    op.create_index(op.f("ix_crm_leads_tenant_id"), "crm_leads", ["tenant_id"], unique=False)
    op.create_table(
        "crm_tier_models",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "weights",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "thresholds",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "policies",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tier_models")),
        sa.UniqueConstraint("tenant_id", "version", name=op.f("uq_crm_tier_models_tenant_id_version")),
    )
    op.create_index(op.f("ix_crm_tier_models_tenant_id"), "crm_tier_models", ["tenant_id"], unique=False)
    op.create_table(
        "crm_visit_plans",
        sa.Column("rep_user_id", sa.String(length=36), nullable=False),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("start_lng", sa.Float(), nullable=False),
        sa.Column("start_lat", sa.Float(), nullable=False),
        sa.Column("route_km", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_visit_plans")),
        sa.UniqueConstraint(
            "tenant_id",
            "rep_user_id",
            "plan_date",
            name=op.f("uq_crm_visit_plans_tenant_id_rep_user_id_plan_date"),
        ),
    )
    op.create_index(op.f("ix_crm_visit_plans_tenant_id"), "crm_visit_plans", ["tenant_id"], unique=False)
    op.create_table(
        "crm_growth_tasks",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=1), nullable=False),
        sa.Column("assignee_user_id", sa.String(length=36), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=False),
        sa.Column("growth_fen", sa.BigInteger(), nullable=False),
        sa.Column("closed_by", sa.String(length=36), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('won_growth', 'no_growth', 'lost_ground')",
            name=op.f("ck_crm_growth_tasks_outcome"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'cancelled')", name=op.f("ck_crm_growth_tasks_status")
        ),
        sa.CheckConstraint("growth_fen >= 0", name=op.f("ck_crm_growth_tasks_growth_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["crm_accounts.id"], name=op.f("fk_crm_growth_tasks_account_id_crm_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_growth_tasks")),
        sa.UniqueConstraint(
            "tenant_id",
            "account_id",
            "key",
            "period",
            name=op.f("uq_crm_growth_tasks_tenant_id_account_id_key_period"),
        ),
    )
    op.create_index(op.f("ix_crm_growth_tasks_account_id"), "crm_growth_tasks", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_crm_growth_tasks_assignee_user_id"), "crm_growth_tasks", ["assignee_user_id"], unique=False
    )
    op.create_index(
        "ix_crm_growth_tasks_status", "crm_growth_tasks", ["tenant_id", "status", "due_date"], unique=False
    )
    op.create_index(op.f("ix_crm_growth_tasks_tenant_id"), "crm_growth_tasks", ["tenant_id"], unique=False)
    op.create_table(
        "crm_tier_changes",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("from_tier", sa.String(length=1), nullable=True),
        sa.Column("to_tier", sa.String(length=1), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("changed_by", sa.String(length=36), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["crm_accounts.id"], name=op.f("fk_crm_tier_changes_account_id_crm_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tier_changes")),
    )
    op.create_index(
        "ix_crm_tier_changes_account",
        "crm_tier_changes",
        ["tenant_id", "account_id", "changed_at"],
        unique=False,
    )
    op.create_index(op.f("ix_crm_tier_changes_tenant_id"), "crm_tier_changes", ["tenant_id"], unique=False)
    op.create_table(
        "crm_visits",
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("rep_user_id", sa.String(length=36), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("store_name", sa.String(length=200), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("leg_km", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_lng", sa.Float(), nullable=True),
        sa.Column("check_lat", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'checked_in', 'done', 'skipped')", name=op.f("ck_crm_visits_status")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["crm_accounts.id"], name=op.f("fk_crm_visits_account_id_crm_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["crm_visit_plans.id"], name=op.f("fk_crm_visits_plan_id_crm_visit_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_visits")),
    )
    op.create_index(op.f("ix_crm_visits_org_id"), "crm_visits", ["org_id"], unique=False)
    op.create_index("ix_crm_visits_plan", "crm_visits", ["tenant_id", "plan_id", "sequence"], unique=False)
    op.create_index(
        "ix_crm_visits_rep_date", "crm_visits", ["tenant_id", "rep_user_id", "visit_date"], unique=False
    )
    op.create_index(op.f("ix_crm_visits_tenant_id"), "crm_visits", ["tenant_id"], unique=False)
    op.create_table(
        "crm_bonus_allocations",
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column(
            "roles",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("pool_fen", sa.BigInteger(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("contribution_points", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("clawback_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clawed_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('allocated', 'clawed_back')", name=op.f("ck_crm_bonus_allocations_status")
        ),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_crm_bonus_allocations_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["crm_opportunities.id"],
            name=op.f("fk_crm_bonus_allocations_opportunity_id_crm_opportunities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_bonus_allocations")),
        sa.UniqueConstraint(
            "tenant_id",
            "opportunity_id",
            "user_id",
            name=op.f("uq_crm_bonus_allocations_tenant_id_opportunity_id_user_id"),
        ),
    )
    op.create_index(
        op.f("ix_crm_bonus_allocations_tenant_id"), "crm_bonus_allocations", ["tenant_id"], unique=False
    )
    op.create_index(
        "ix_crm_bonus_allocations_user",
        "crm_bonus_allocations",
        ["tenant_id", "user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "crm_requests",
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=36), nullable=True),
        sa.Column("assignee_user_id", sa.String(length=36), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("kind IN ('presales', 'delivery', 'finance')", name=op.f("ck_crm_requests_kind")),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'done', 'rejected')", name=op.f("ck_crm_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["crm_opportunities.id"],
            name=op.f("fk_crm_requests_opportunity_id_crm_opportunities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_requests")),
    )
    op.create_index(
        op.f("ix_crm_requests_assignee_user_id"), "crm_requests", ["assignee_user_id"], unique=False
    )
    op.create_index(
        "ix_crm_requests_opportunity", "crm_requests", ["tenant_id", "opportunity_id"], unique=False
    )
    op.create_index(op.f("ix_crm_requests_tenant_id"), "crm_requests", ["tenant_id"], unique=False)
    op.create_table(
        "crm_store_audits",
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column(
            "lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "photos",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("audited_by", sa.String(length=36), nullable=True),
        sa.Column("audited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["crm_visits.id"], name=op.f("fk_crm_store_audits_visit_id_crm_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_store_audits")),
    )
    op.create_index(op.f("ix_crm_store_audits_tenant_id"), "crm_store_audits", ["tenant_id"], unique=False)
    op.create_index("ix_crm_store_audits_visit", "crm_store_audits", ["tenant_id", "visit_id"], unique=False)
    op.create_table(
        "crm_visit_orders",
        sa.Column("visit_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column(
            "lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("taken_by", sa.String(length=36), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("total_fen >= 0", name=op.f("ck_crm_visit_orders_total_not_negative")),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["crm_visits.id"], name=op.f("fk_crm_visit_orders_visit_id_crm_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_visit_orders")),
    )
    op.create_index(op.f("ix_crm_visit_orders_tenant_id"), "crm_visit_orders", ["tenant_id"], unique=False)
    op.create_index("ix_crm_visit_orders_visit", "crm_visit_orders", ["tenant_id", "visit_id"], unique=False)
    op.create_table(
        "crm_mentions",
        sa.Column("activity_id", sa.String(length=36), nullable=False),
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["crm_activities.id"], name=op.f("fk_crm_mentions_activity_id_crm_activities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_mentions")),
        sa.UniqueConstraint(
            "tenant_id", "activity_id", "user_id", name=op.f("uq_crm_mentions_tenant_id_activity_id_user_id")
        ),
    )
    op.create_index(op.f("ix_crm_mentions_tenant_id"), "crm_mentions", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_crm_mentions_user_id"), "crm_mentions", ["user_id"], unique=False)
    op.add_column("crm_accounts", sa.Column("potential", sa.Integer(), server_default="50", nullable=False))
    op.add_column(
        "crm_accounts", sa.Column("strategic_fit", sa.Integer(), server_default="50", nullable=False)
    )
    op.add_column("crm_accounts", sa.Column("tier_score", sa.Float(), nullable=True))
    op.add_column("crm_opportunities", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("crm_contacts") as batch:
        batch.add_column(sa.Column("reports_to_contact_id", sa.String(length=36), nullable=True))
        batch.add_column(
            sa.Column("attitude", sa.String(length=10), server_default="unknown", nullable=False)
        )
        batch.add_column(sa.Column("relationship_strength", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("owner_user_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(
            op.f("fk_crm_contacts_reports_to_contact_id_crm_contacts"),
            "crm_contacts",
            ["reports_to_contact_id"],
            ["id"],
        )
        batch.create_check_constraint(
            op.f("ck_crm_contacts_attitude"), "attitude IN ('supporter', 'neutral', 'opponent', 'unknown')"
        )
        batch.create_check_constraint(
            op.f("ck_crm_contacts_relationship_strength"),
            "relationship_strength >= 0 AND relationship_strength <= 3",
        )
        batch.create_index(
            op.f("ix_crm_contacts_reports_to_contact_id"), ["reports_to_contact_id"], unique=False
        )
        batch.create_index(op.f("ix_crm_contacts_owner_user_id"), ["owner_user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("crm_contacts") as batch:
        batch.drop_index(op.f("ix_crm_contacts_owner_user_id"))
        batch.drop_index(op.f("ix_crm_contacts_reports_to_contact_id"))
        batch.drop_constraint(op.f("ck_crm_contacts_relationship_strength"), type_="check")
        batch.drop_constraint(op.f("ck_crm_contacts_attitude"), type_="check")
        batch.drop_constraint(op.f("fk_crm_contacts_reports_to_contact_id_crm_contacts"), type_="foreignkey")
        batch.drop_column("owner_user_id")
        batch.drop_column("relationship_strength")
        batch.drop_column("attitude")
        batch.drop_column("reports_to_contact_id")
    op.drop_column("crm_opportunities", "cancelled_at")
    op.drop_column("crm_accounts", "tier_score")
    op.drop_column("crm_accounts", "strategic_fit")
    op.drop_column("crm_accounts", "potential")
    op.drop_index(op.f("ix_crm_mentions_user_id"), table_name="crm_mentions")
    op.drop_index(op.f("ix_crm_mentions_tenant_id"), table_name="crm_mentions")
    op.drop_table("crm_mentions")
    op.drop_index("ix_crm_visit_orders_visit", table_name="crm_visit_orders")
    op.drop_index(op.f("ix_crm_visit_orders_tenant_id"), table_name="crm_visit_orders")
    op.drop_table("crm_visit_orders")
    op.drop_index("ix_crm_store_audits_visit", table_name="crm_store_audits")
    op.drop_index(op.f("ix_crm_store_audits_tenant_id"), table_name="crm_store_audits")
    op.drop_table("crm_store_audits")
    op.drop_index(op.f("ix_crm_requests_tenant_id"), table_name="crm_requests")
    op.drop_index("ix_crm_requests_opportunity", table_name="crm_requests")
    op.drop_index(op.f("ix_crm_requests_assignee_user_id"), table_name="crm_requests")
    op.drop_table("crm_requests")
    op.drop_index("ix_crm_bonus_allocations_user", table_name="crm_bonus_allocations")
    op.drop_index(op.f("ix_crm_bonus_allocations_tenant_id"), table_name="crm_bonus_allocations")
    op.drop_table("crm_bonus_allocations")
    op.drop_index(op.f("ix_crm_visits_tenant_id"), table_name="crm_visits")
    op.drop_index("ix_crm_visits_rep_date", table_name="crm_visits")
    op.drop_index("ix_crm_visits_plan", table_name="crm_visits")
    op.drop_index(op.f("ix_crm_visits_org_id"), table_name="crm_visits")
    op.drop_table("crm_visits")
    op.drop_index(op.f("ix_crm_tier_changes_tenant_id"), table_name="crm_tier_changes")
    op.drop_index("ix_crm_tier_changes_account", table_name="crm_tier_changes")
    op.drop_table("crm_tier_changes")
    op.drop_index(op.f("ix_crm_growth_tasks_tenant_id"), table_name="crm_growth_tasks")
    op.drop_index("ix_crm_growth_tasks_status", table_name="crm_growth_tasks")
    op.drop_index(op.f("ix_crm_growth_tasks_assignee_user_id"), table_name="crm_growth_tasks")
    op.drop_index(op.f("ix_crm_growth_tasks_account_id"), table_name="crm_growth_tasks")
    op.drop_table("crm_growth_tasks")
    op.drop_index(op.f("ix_crm_visit_plans_tenant_id"), table_name="crm_visit_plans")
    op.drop_table("crm_visit_plans")
    op.drop_index(op.f("ix_crm_tier_models_tenant_id"), table_name="crm_tier_models")
    op.drop_table("crm_tier_models")
    op.drop_index(op.f("ix_crm_leads_tenant_id"), table_name="crm_leads")
    op.drop_index("ix_crm_leads_status", table_name="crm_leads")
    op.drop_index(op.f("ix_crm_leads_referrer_user_id"), table_name="crm_leads")
    op.drop_index(op.f("ix_crm_leads_owner_user_id"), table_name="crm_leads")
    op.drop_table("crm_leads")
    op.drop_index(op.f("ix_crm_bonus_policies_tenant_id"), table_name="crm_bonus_policies")
    op.drop_table("crm_bonus_policies")
