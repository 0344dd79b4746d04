"""analytics NPS surveys and responses

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_nps_surveys",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("follow_up", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("status IN ('active', 'closed')", name=op.f("ck_analytics_nps_surveys_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_nps_surveys")),
    )
    op.create_index(
        op.f("ix_analytics_nps_surveys_tenant_id"), "analytics_nps_surveys", ["tenant_id"], unique=False
    )
    op.create_table(
        "analytics_nps_responses",
        sa.Column("survey_id", sa.String(length=36), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("profile_id", sa.String(length=36), nullable=True),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("serial", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 10", name=op.f("ck_analytics_nps_responses_score")),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["analytics_nps_surveys.id"],
            name=op.f("fk_analytics_nps_responses_survey_id_analytics_nps_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_nps_responses")),
    )
    op.create_index(
        "ix_analytics_nps_responses_survey",
        "analytics_nps_responses",
        ["tenant_id", "survey_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_analytics_nps_responses_tenant_id"), "analytics_nps_responses", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_analytics_nps_responses_tenant_id"), table_name="analytics_nps_responses")
    op.drop_index("ix_analytics_nps_responses_survey", table_name="analytics_nps_responses")
    op.drop_table("analytics_nps_responses")
    op.drop_index(op.f("ix_analytics_nps_surveys_tenant_id"), table_name="analytics_nps_surveys")
    op.drop_table("analytics_nps_surveys")
