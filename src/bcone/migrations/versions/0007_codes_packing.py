"""codes_packing tables

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_diversion_exceptions",
        sa.Column("distributor_id", sa.String(length=36), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_diversion_exceptions")),
        sa.UniqueConstraint(
            "tenant_id",
            "distributor_id",
            "division_code",
            name=op.f("uq_code_diversion_exceptions_tenant_id_distributor_id_division_code"),
        ),
    )
    op.create_index(
        op.f("ix_code_diversion_exceptions_tenant_id"),
        "code_diversion_exceptions",
        ["tenant_id"],
        unique=False,
    )
    op.create_table(
        "code_diversion_rules",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("tolerance_km", sa.Integer(), nullable=False),
        sa.CheckConstraint("tolerance_km >= 0", name=op.f("ck_code_diversion_rules_tolerance_not_negative")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_code_diversion_rules")),
    )
    op.create_table(
        "code_events",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parent_serial", sa.String(length=20), nullable=True),
        sa.Column("epc_count", sa.Integer(), nullable=False),
        sa.Column("source_org_id", sa.String(length=36), nullable=True),
        sa.Column("destination_org_id", sa.String(length=36), nullable=True),
        sa.Column("read_point", sa.String(length=6), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "kind IN ('commission', 'aggregate', 'disaggregate', 'ship', 'receive', 'open')",
            name=op.f("ck_code_events_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_events")),
    )
    op.create_index(op.f("ix_code_events_tenant_id"), "code_events", ["tenant_id"], unique=False)
    op.create_index(
        "ix_code_events_tenant_parent", "code_events", ["tenant_id", "parent_serial"], unique=False
    )
    op.create_index("ix_code_events_tenant_time", "code_events", ["tenant_id", "event_time"], unique=False)
    op.create_table(
        "code_diversion_alerts",
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("sku_code", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("distributor_id", sa.String(length=36), nullable=True),
        sa.Column("region", sa.String(length=6), nullable=False),
        sa.Column("province", sa.String(length=6), nullable=False),
        sa.Column("expected_regions", sa.JSON(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["code_batches.id"], name=op.f("fk_code_diversion_alerts_batch_id_code_batches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_diversion_alerts")),
    )
    op.create_index(
        op.f("ix_code_diversion_alerts_distributor_id"),
        "code_diversion_alerts",
        ["distributor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_code_diversion_alerts_tenant_id"), "code_diversion_alerts", ["tenant_id"], unique=False
    )
    op.create_index(
        "ix_code_diversion_alerts_tenant_time",
        "code_diversion_alerts",
        ["tenant_id", "detected_at"],
        unique=False,
    )
    op.create_table(
        "code_event_epcs",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["code_events.id"], name=op.f("fk_code_event_epcs_event_id_code_events")
        ),
        sa.PrimaryKeyConstraint("event_id", "serial", name=op.f("pk_code_event_epcs")),
    )
    op.create_index(op.f("ix_code_event_epcs_tenant_id"), "code_event_epcs", ["tenant_id"], unique=False)
    op.create_index(
        "ix_code_event_epcs_tenant_serial", "code_event_epcs", ["tenant_id", "serial"], unique=False
    )
    op.create_table(
        "code_units",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("parent_serial", sa.String(length=20), nullable=True),
        sa.Column("holder_org_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("commissioned_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'in_transit', 'received')", name=op.f("ck_code_units_status")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["code_batches.id"], name=op.f("fk_code_units_batch_id_code_batches")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "serial", name=op.f("pk_code_units")),
    )
    op.create_index(op.f("ix_code_units_batch_id"), "code_units", ["batch_id"], unique=False)
    op.create_index("ix_code_units_tenant_parent", "code_units", ["tenant_id", "parent_serial"], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index("ix_code_units_tenant_parent", table_name="code_units")
    op.drop_index(op.f("ix_code_units_batch_id"), table_name="code_units")
    op.drop_table("code_units")
    op.drop_index("ix_code_event_epcs_tenant_serial", table_name="code_event_epcs")
    op.drop_index(op.f("ix_code_event_epcs_tenant_id"), table_name="code_event_epcs")
    op.drop_table("code_event_epcs")
    op.drop_index("ix_code_diversion_alerts_tenant_time", table_name="code_diversion_alerts")
    op.drop_index(op.f("ix_code_diversion_alerts_tenant_id"), table_name="code_diversion_alerts")
    op.drop_index(op.f("ix_code_diversion_alerts_distributor_id"), table_name="code_diversion_alerts")
    op.drop_table("code_diversion_alerts")
    op.drop_index("ix_code_events_tenant_time", table_name="code_events")
    op.drop_index("ix_code_events_tenant_parent", table_name="code_events")
    op.drop_index(op.f("ix_code_events_tenant_id"), table_name="code_events")
    op.drop_table("code_events")
    op.drop_table("code_diversion_rules")
    op.drop_index(op.f("ix_code_diversion_exceptions_tenant_id"), table_name="code_diversion_exceptions")
    op.drop_table("code_diversion_exceptions")
    # ### end Alembic commands ###
