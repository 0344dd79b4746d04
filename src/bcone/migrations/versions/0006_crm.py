"""crm tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm_accounts",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("network_org_id", sa.String(length=36), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=False),
        sa.Column("owner_user_id", sa.String(length=36), nullable=True),
        sa.Column("tier", sa.String(length=1), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("kind IN ('enterprise', 'network')", name=op.f("ck_crm_accounts_kind")),
        sa.CheckConstraint("tier IS NULL OR tier IN ('A', 'B', 'C')", name=op.f("ck_crm_accounts_tier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_accounts")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_crm_accounts_tenant_id_name")),
    )
    op.create_index(op.f("ix_crm_accounts_network_org_id"), "crm_accounts", ["network_org_id"], unique=False)
    op.create_index(op.f("ix_crm_accounts_owner_user_id"), "crm_accounts", ["owner_user_id"], unique=False)
    op.create_index(op.f("ix_crm_accounts_tenant_id"), "crm_accounts", ["tenant_id"], unique=False)
    op.create_table(
        "crm_sales_teams",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("manager_user_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sales_teams")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_crm_sales_teams_tenant_id_name")),
    )
    op.create_index(
        op.f("ix_crm_sales_teams_manager_user_id"), "crm_sales_teams", ["manager_user_id"], unique=False
    )
    op.create_index(op.f("ix_crm_sales_teams_tenant_id"), "crm_sales_teams", ["tenant_id"], unique=False)
    op.create_table(
        "crm_scorecard_templates",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_scorecard_templates")),
        sa.UniqueConstraint(
            "tenant_id", "version", name=op.f("uq_crm_scorecard_templates_tenant_id_version")
        ),
    )
    op.create_index(
        op.f("ix_crm_scorecard_templates_tenant_id"), "crm_scorecard_templates", ["tenant_id"], unique=False
    )
    op.create_table(
        "crm_stages",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=50), nullable=False),
        sa.Column("name_en", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("prior_probability", sa.Float(), nullable=False),
        sa.Column(
            "required_items",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("outcome IN ('open', 'won', 'lost')", name=op.f("ck_crm_stages_outcome")),
        sa.CheckConstraint(
            "prior_probability >= 0 AND prior_probability <= 1", name=op.f("ck_crm_stages_prior")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_stages")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_crm_stages_tenant_id_key")),
    )
    op.create_index(op.f("ix_crm_stages_tenant_id"), "crm_stages", ["tenant_id"], unique=False)
    op.create_table(
        "crm_win_models",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("n_closed", sa.Integer(), nullable=False),
        sa.Column(
            "params",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_win_models")),
        sa.UniqueConstraint("tenant_id", "version", name=op.f("uq_crm_win_models_tenant_id_version")),
    )
    op.create_index(op.f("ix_crm_win_models_tenant_id"), "crm_win_models", ["tenant_id"], unique=False)
    op.create_table(
        "crm_contacts",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("decision_role", sa.String(length=32), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["crm_accounts.id"], name=op.f("fk_crm_contacts_account_id_crm_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contacts")),
    )
    op.create_index(op.f("ix_crm_contacts_account_id"), "crm_contacts", ["account_id"], unique=False)
    op.create_index(op.f("ix_crm_contacts_tenant_id"), "crm_contacts", ["tenant_id"], unique=False)
    op.create_table(
        "crm_opportunities",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("account_name", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("search_text", sa.String(length=401), nullable=False),
        sa.Column("owner_user_id", sa.String(length=36), nullable=False),
        sa.Column("sales_team_id", sa.String(length=36), nullable=True),
        sa.Column("stage_key", sa.String(length=32), nullable=False),
        sa.Column("max_stage_position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("forecast_category", sa.String(length=16), nullable=False),
        sa.Column("own_estimate", sa.Integer(), nullable=True),
        sa.Column("stage_moves", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("currency = 'CNY'", name=op.f("ck_crm_opportunities_currency")),
        sa.CheckConstraint(
            "forecast_category IN ('pipeline', 'best_case', 'commit', 'closed')",
            name=op.f("ck_crm_opportunities_forecast_category"),
        ),
        sa.CheckConstraint(
            "grade IN ('strategic', 'key', 'normal')", name=op.f("ck_crm_opportunities_grade")
        ),
        sa.CheckConstraint("status IN ('open', 'won', 'lost')", name=op.f("ck_crm_opportunities_status")),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_crm_opportunities_amount_not_negative")),
        sa.CheckConstraint(
            "own_estimate IS NULL OR (own_estimate >= 0 AND own_estimate <= 100)",
            name=op.f("ck_crm_opportunities_estimate"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["crm_accounts.id"], name=op.f("fk_crm_opportunities_account_id_crm_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_opportunities")),
    )
    op.create_index(
        op.f("ix_crm_opportunities_account_id"), "crm_opportunities", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_crm_opportunities_sales_team_id"), "crm_opportunities", ["sales_team_id"], unique=False
    )
    op.create_index(
        "ix_crm_opportunities_tenant_close",
        "crm_opportunities",
        ["tenant_id", "close_date", "id"],
        unique=False,
    )
    op.create_index(op.f("ix_crm_opportunities_tenant_id"), "crm_opportunities", ["tenant_id"], unique=False)
    op.create_index(
        "ix_crm_opportunities_tenant_owner", "crm_opportunities", ["tenant_id", "owner_user_id"], unique=False
    )
    op.create_index(
        "ix_crm_opportunities_tenant_search",
        "crm_opportunities",
        ["tenant_id", "search_text", "id"],
        unique=False,
    )
    op.create_index(
        "ix_crm_opportunities_tenant_status",
        "crm_opportunities",
        ["tenant_id", "status", "stage_key"],
        unique=False,
    )
    op.create_table(
        "crm_sales_team_members",
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["crm_sales_teams.id"],
            name=op.f("fk_crm_sales_team_members_team_id_crm_sales_teams"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sales_team_members")),
        sa.UniqueConstraint("tenant_id", "user_id", name=op.f("uq_crm_sales_team_members_tenant_id_user_id")),
    )
    op.create_index(
        op.f("ix_crm_sales_team_members_team_id"), "crm_sales_team_members", ["team_id"], unique=False
    )
    op.create_index(
        op.f("ix_crm_sales_team_members_tenant_id"), "crm_sales_team_members", ["tenant_id"], unique=False
    )
    op.create_table(
        "crm_activities",
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_user_id", sa.String(length=36), nullable=True),
        sa.Column("assignee_user_id", sa.String(length=36), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("kind IN ('task', 'comment')", name=op.f("ck_crm_activities_kind")),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["crm_opportunities.id"],
            name=op.f("fk_crm_activities_opportunity_id_crm_opportunities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_activities")),
    )
    op.create_index(
        op.f("ix_crm_activities_opportunity_id"), "crm_activities", ["opportunity_id"], unique=False
    )
    op.create_index(op.f("ix_crm_activities_tenant_id"), "crm_activities", ["tenant_id"], unique=False)
    op.create_table(
        "crm_assessments",
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column(
            "scores",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("assessed_by", sa.String(length=36), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["crm_opportunities.id"],
            name=op.f("fk_crm_assessments_opportunity_id_crm_opportunities"),
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["crm_scorecard_templates.id"],
            name=op.f("fk_crm_assessments_template_id_crm_scorecard_templates"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_assessments")),
    )
    op.create_index(
        "ix_crm_assessments_opportunity_time",
        "crm_assessments",
        ["tenant_id", "opportunity_id", "assessed_at"],
        unique=False,
    )
    op.create_index(op.f("ix_crm_assessments_tenant_id"), "crm_assessments", ["tenant_id"], unique=False)
    op.create_table(
        "crm_contributions",
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("what", sa.String(length=500), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.String(length=36), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("weight > 0 AND weight <= 100", name=op.f("ck_crm_contributions_weight")),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["crm_opportunities.id"],
            name=op.f("fk_crm_contributions_opportunity_id_crm_opportunities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_contributions")),
    )
    op.create_index(
        op.f("ix_crm_contributions_opportunity_id"), "crm_contributions", ["opportunity_id"], unique=False
    )
    op.create_index(op.f("ix_crm_contributions_tenant_id"), "crm_contributions", ["tenant_id"], unique=False)
    op.create_table(
        "crm_stage_changes",
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("from_stage", sa.String(length=32), nullable=True),
        sa.Column("to_stage", sa.String(length=32), nullable=False),
        sa.Column("changed_by", sa.String(length=36), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["crm_opportunities.id"],
            name=op.f("fk_crm_stage_changes_opportunity_id_crm_opportunities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_stage_changes")),
    )
    op.create_index(
        op.f("ix_crm_stage_changes_opportunity_id"), "crm_stage_changes", ["opportunity_id"], unique=False
    )
    op.create_index(op.f("ix_crm_stage_changes_tenant_id"), "crm_stage_changes", ["tenant_id"], unique=False)
    op.create_table(
        "crm_team_members",
        sa.Column("opportunity_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("role IN ('AR', 'SR', 'FR', 'other')", name=op.f("ck_crm_team_members_role")),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["crm_opportunities.id"],
            name=op.f("fk_crm_team_members_opportunity_id_crm_opportunities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_team_members")),
        sa.UniqueConstraint(
            "tenant_id",
            "opportunity_id",
            "user_id",
            "role",
            name=op.f("uq_crm_team_members_tenant_id_opportunity_id_user_id_role"),
        ),
    )
    op.create_index(
        op.f("ix_crm_team_members_opportunity_id"), "crm_team_members", ["opportunity_id"], unique=False
    )
    op.create_index(op.f("ix_crm_team_members_tenant_id"), "crm_team_members", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_crm_team_members_user_id"), "crm_team_members", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_crm_team_members_user_id"), table_name="crm_team_members")
    op.drop_index(op.f("ix_crm_team_members_tenant_id"), table_name="crm_team_members")
    op.drop_index(op.f("ix_crm_team_members_opportunity_id"), table_name="crm_team_members")
    op.drop_table("crm_team_members")
    op.drop_index(op.f("ix_crm_stage_changes_tenant_id"), table_name="crm_stage_changes")
    op.drop_index(op.f("ix_crm_stage_changes_opportunity_id"), table_name="crm_stage_changes")
    op.drop_table("crm_stage_changes")
    op.drop_index(op.f("ix_crm_contributions_tenant_id"), table_name="crm_contributions")
    op.drop_index(op.f("ix_crm_contributions_opportunity_id"), table_name="crm_contributions")
    op.drop_table("crm_contributions")
    op.drop_index(op.f("ix_crm_assessments_tenant_id"), table_name="crm_assessments")
    op.drop_index("ix_crm_assessments_opportunity_time", table_name="crm_assessments")
    op.drop_table("crm_assessments")
    op.drop_index(op.f("ix_crm_activities_tenant_id"), table_name="crm_activities")
    op.drop_index(op.f("ix_crm_activities_opportunity_id"), table_name="crm_activities")
    op.drop_table("crm_activities")
    op.drop_index(op.f("ix_crm_sales_team_members_tenant_id"), table_name="crm_sales_team_members")
    op.drop_index(op.f("ix_crm_sales_team_members_team_id"), table_name="crm_sales_team_members")
    op.drop_table("crm_sales_team_members")
    op.drop_index("ix_crm_opportunities_tenant_status", table_name="crm_opportunities")
    op.drop_index("ix_crm_opportunities_tenant_search", table_name="crm_opportunities")
    op.drop_index("ix_crm_opportunities_tenant_owner", table_name="crm_opportunities")
    op.drop_index(op.f("ix_crm_opportunities_tenant_id"), table_name="crm_opportunities")
    op.drop_index("ix_crm_opportunities_tenant_close", table_name="crm_opportunities")
    op.drop_index(op.f("ix_crm_opportunities_sales_team_id"), table_name="crm_opportunities")
    op.drop_index(op.f("ix_crm_opportunities_account_id"), table_name="crm_opportunities")
    op.drop_table("crm_opportunities")
    op.drop_index(op.f("ix_crm_contacts_tenant_id"), table_name="crm_contacts")
    op.drop_index(op.f("ix_crm_contacts_account_id"), table_name="crm_contacts")
    op.drop_table("crm_contacts")
    op.drop_index(op.f("ix_crm_win_models_tenant_id"), table_name="crm_win_models")
    op.drop_table("crm_win_models")
    op.drop_index(op.f("ix_crm_stages_tenant_id"), table_name="crm_stages")
    op.drop_table("crm_stages")
    op.drop_index(op.f("ix_crm_scorecard_templates_tenant_id"), table_name="crm_scorecard_templates")
    op.drop_table("crm_scorecard_templates")
    op.drop_index(op.f("ix_crm_sales_teams_tenant_id"), table_name="crm_sales_teams")
    op.drop_index(op.f("ix_crm_sales_teams_manager_user_id"), table_name="crm_sales_teams")
    op.drop_table("crm_sales_teams")
    op.drop_index(op.f("ix_crm_accounts_tenant_id"), table_name="crm_accounts")
    op.drop_index(op.f("ix_crm_accounts_owner_user_id"), table_name="crm_accounts")
    op.drop_index(op.f("ix_crm_accounts_network_org_id"), table_name="crm_accounts")
    op.drop_table("crm_accounts")
