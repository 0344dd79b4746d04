"""cloud store tables

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # --- storefronts, pricing, sharing, commissions ---
    op.create_table(
        "store_bindings",
        sa.Column("consumer_key", sa.String(length=128), nullable=False),
        sa.Column("sharer_storefront_id", sa.String(length=36), nullable=False),
        sa.Column("share_link_id", sa.String(length=36), nullable=True),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_bindings")),
        sa.UniqueConstraint(
            "tenant_id", "consumer_key", name=op.f("uq_store_bindings_tenant_id_consumer_key")
        ),
    )
    op.create_index(
        "ix_store_bindings_sharer", "store_bindings", ["tenant_id", "sharer_storefront_id"], unique=False
    )
    op.create_index(op.f("ix_store_bindings_tenant_id"), "store_bindings", ["tenant_id"], unique=False)
    op.create_table(
        "store_commission_rules",
        sa.Column("partner_type", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_value", sa.String(length=100), nullable=False),
        sa.Column("sku_code", sa.String(length=64), nullable=True),
        sa.Column("level1_bp", sa.Integer(), nullable=False),
        sa.Column("level2_bp", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "scope IN ('sku', 'category', 'all')", name=op.f("ck_store_commission_rules_scope")
        ),
        sa.CheckConstraint(
            "level1_bp >= 0 AND level1_bp <= 10000", name=op.f("ck_store_commission_rules_level1")
        ),
        sa.CheckConstraint(
            "level2_bp >= 0 AND level2_bp <= 10000", name=op.f("ck_store_commission_rules_level2")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_commission_rules")),
        sa.UniqueConstraint(
            "tenant_id",
            "partner_type",
            "scope",
            "scope_value",
            name=op.f("uq_store_commission_rules_tenant_id_partner_type_scope_scope_value"),
        ),
    )
    op.create_index(
        op.f("ix_store_commission_rules_tenant_id"), "store_commission_rules", ["tenant_id"], unique=False
    )
    op.create_table(
        "store_commissions",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("beneficiary_storefront_id", sa.String(length=36), nullable=False),
        sa.Column("sharer_storefront_id", sa.String(length=36), nullable=False),
        sa.Column("partner_type", sa.String(length=16), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settle_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clawed_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_id", sa.String(length=36), nullable=True),
        sa.Column("clawback_transaction_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'settled', 'clawed_back', 'cancelled')",
            name=op.f("ck_store_commissions_status"),
        ),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_store_commissions_amount")),
        sa.CheckConstraint("level IN (1, 2)", name=op.f("ck_store_commissions_level")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_commissions")),
        sa.UniqueConstraint(
            "tenant_id",
            "order_id",
            "line_no",
            "level",
            name=op.f("uq_store_commissions_tenant_id_order_id_line_no_level"),
        ),
    )
    op.create_index(
        "ix_store_commissions_beneficiary",
        "store_commissions",
        ["tenant_id", "beneficiary_storefront_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_store_commissions_due", "store_commissions", ["tenant_id", "status", "settle_after"], unique=False
    )
    op.create_index(op.f("ix_store_commissions_order_id"), "store_commissions", ["order_id"], unique=False)
    op.create_index(
        op.f("ix_store_commissions_sharer_storefront_id"),
        "store_commissions",
        ["sharer_storefront_id"],
        unique=False,
    )
    op.create_index(op.f("ix_store_commissions_tenant_id"), "store_commissions", ["tenant_id"], unique=False)
    op.create_table(
        "store_price_rules",
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("sku_code", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("region_prefix", sa.String(length=6), nullable=False),
        sa.Column("floor_fen", sa.BigInteger(), nullable=True),
        sa.Column("ceiling_fen", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "floor_fen IS NULL OR ceiling_fen IS NULL OR floor_fen <= ceiling_fen",
            name=op.f("ck_store_price_rules_band"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_price_rules")),
        sa.UniqueConstraint(
            "tenant_id",
            "sku_id",
            "channel",
            "region_prefix",
            name=op.f("uq_store_price_rules_tenant_id_sku_id_channel_region_prefix"),
        ),
    )
    op.create_index(op.f("ix_store_price_rules_tenant_id"), "store_price_rules", ["tenant_id"], unique=False)
    op.create_table(
        "store_settings",
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("binding_days", sa.Integer(), nullable=False),
        sa.Column("return_window_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("binding_days >= 1", name=op.f("ck_store_settings_binding_days")),
        sa.CheckConstraint("return_window_days >= 0", name=op.f("ck_store_settings_return_window_days")),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_store_settings")),
    )
    op.create_table(
        "store_visits",
        sa.Column("storefront_id", sa.String(length=36), nullable=False),
        sa.Column("share_link_id", sa.String(length=36), nullable=True),
        sa.Column("sharer_storefront_id", sa.String(length=36), nullable=True),
        sa.Column("consumer_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_visits")),
    )
    op.create_index(
        "ix_store_visits_sharer", "store_visits", ["tenant_id", "sharer_storefront_id"], unique=False
    )
    op.create_index(
        "ix_store_visits_storefront",
        "store_visits",
        ["tenant_id", "storefront_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_store_visits_tenant_id"), "store_visits", ["tenant_id"], unique=False)
    op.create_table(
        "storefronts",
        sa.Column("partner_type", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "partner_type IN ('distributor', 'wholesaler', 'store', 'shop_assistant', 'koc')",
            name=op.f("ck_storefronts_partner_type"),
        ),
        sa.CheckConstraint("status IN ('active', 'paused')", name=op.f("ck_storefronts_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefronts")),
        sa.UniqueConstraint("slug", name=op.f("uq_storefronts_slug")),
        sa.UniqueConstraint("tenant_id", "owner_id", name=op.f("uq_storefronts_tenant_id_owner_id")),
    )
    op.create_index(op.f("ix_storefronts_org_id"), "storefronts", ["org_id"], unique=False)
    op.create_index(op.f("ix_storefronts_staff_id"), "storefronts", ["staff_id"], unique=False)
    op.create_index(op.f("ix_storefronts_tenant_id"), "storefronts", ["tenant_id"], unique=False)
    op.create_table(
        "store_share_links",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("storefront_id", sa.String(length=36), nullable=False),
        sa.Column("sharer_storefront_id", sa.String(length=36), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["sharer_storefront_id"],
            ["storefronts.id"],
            name=op.f("fk_store_share_links_sharer_storefront_id_storefronts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["storefront_id"],
            ["storefronts.id"],
            name=op.f("fk_store_share_links_storefront_id_storefronts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_share_links")),
        sa.UniqueConstraint("token", name=op.f("uq_store_share_links_token")),
    )
    op.create_index(
        "ix_store_share_links_sharer",
        "store_share_links",
        ["tenant_id", "sharer_storefront_id"],
        unique=False,
    )
    op.create_index(op.f("ix_store_share_links_tenant_id"), "store_share_links", ["tenant_id"], unique=False)
    op.create_table(
        "storefront_listings",
        sa.Column("storefront_id", sa.String(length=36), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("price_fen IS NULL OR price_fen >= 0", name=op.f("ck_storefront_listings_price")),
        sa.ForeignKeyConstraint(
            ["storefront_id"],
            ["storefronts.id"],
            name=op.f("fk_storefront_listings_storefront_id_storefronts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_listings")),
        sa.UniqueConstraint(
            "storefront_id", "sku_id", name=op.f("uq_storefront_listings_storefront_id_sku_id")
        ),
    )
    op.create_index(
        op.f("ix_storefront_listings_tenant_id"), "storefront_listings", ["tenant_id"], unique=False
    )
    # --- end storefronts, pricing, sharing, commissions ---
    # --- orders, stock, coupons, payments, fulfilment ---
    op.create_table(
        "store_carts",
        sa.Column("storefront_id", sa.String(length=36), nullable=True),
        sa.Column("consumer_key", sa.String(length=128), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_carts")),
    )
    op.create_index(op.f("ix_store_carts_tenant_id"), "store_carts", ["tenant_id"], unique=False)
    op.create_table(
        "store_coupon_uses",
        sa.Column("coupon_id", sa.String(length=36), nullable=False),
        sa.Column("consumer_key", sa.String(length=128), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_coupon_uses")),
        sa.UniqueConstraint(
            "tenant_id",
            "coupon_id",
            "consumer_key",
            name=op.f("uq_store_coupon_uses_tenant_id_coupon_id_consumer_key"),
        ),
    )
    op.create_index(op.f("ix_store_coupon_uses_tenant_id"), "store_coupon_uses", ["tenant_id"], unique=False)
    op.create_table(
        "store_coupons",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("percent_off", sa.Integer(), nullable=False),
        sa.Column("min_spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("max_discount_fen", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("per_consumer_limit", sa.Integer(), nullable=True),
        sa.Column("total_limit", sa.Integer(), nullable=True),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("kind IN ('fixed', 'percent', 'threshold')", name=op.f("ck_store_coupons_kind")),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_store_coupons_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_coupons")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_store_coupons_tenant_id_code")),
    )
    op.create_index(op.f("ix_store_coupons_tenant_id"), "store_coupons", ["tenant_id"], unique=False)
    op.create_table(
        "store_order_events",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_order_events")),
    )
    op.create_index(
        "ix_store_order_events_order", "store_order_events", ["tenant_id", "order_id", "at"], unique=False
    )
    op.create_index(
        op.f("ix_store_order_events_tenant_id"), "store_order_events", ["tenant_id"], unique=False
    )
    op.create_table(
        "store_order_lines",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=True),
        sa.Column("sku_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_store_order_lines_quantity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_order_lines")),
    )
    op.create_index(
        "ix_store_order_lines_order", "store_order_lines", ["tenant_id", "order_id"], unique=False
    )
    op.create_index(op.f("ix_store_order_lines_tenant_id"), "store_order_lines", ["tenant_id"], unique=False)
    op.create_table(
        "store_order_settings",
        sa.Column("service_radius_km", sa.Float(), nullable=False),
        sa.Column("reservation_minutes", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("reservation_minutes > 0", name=op.f("ck_store_order_settings_reservation")),
        sa.CheckConstraint("service_radius_km > 0", name=op.f("ck_store_order_settings_radius")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_order_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_store_order_settings_tenant_id")),
    )
    op.create_index(
        op.f("ix_store_order_settings_tenant_id"), "store_order_settings", ["tenant_id"], unique=False
    )
    op.create_table(
        "store_orders",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("storefront_id", sa.String(length=36), nullable=True),
        sa.Column("storefront_org_id", sa.String(length=36), nullable=True),
        sa.Column("sharer_id", sa.String(length=36), nullable=True),
        sa.Column("consumer_key", sa.String(length=128), nullable=False),
        sa.Column("buyer_name", sa.String(length=100), nullable=False),
        sa.Column("buyer_phone", sa.String(length=32), nullable=False),
        sa.Column("division_code", sa.String(length=6), nullable=True),
        sa.Column("address_line", sa.String(length=300), nullable=False),
        sa.Column("lng", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("subtotal_fen", sa.BigInteger(), nullable=False),
        sa.Column("discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("coupon_id", sa.String(length=36), nullable=True),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("assigned_org_id", sa.String(length=36), nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("declined_org_ids", sa.JSON(), nullable=False),
        sa.Column("pickup_code", sa.String(length=6), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "channel IN ('store', 'tmall', 'jd', 'douyin')", name=op.f("ck_store_orders_channel")
        ),
        sa.CheckConstraint("fulfilment IN ('delivery', 'pickup')", name=op.f("ck_store_orders_fulfilment")),
        sa.CheckConstraint(
            "status IN ('created', 'paid', 'assigned', 'shipped', 'ready_for_pickup', 'completed', 'cancelled', 'refunded')",
            name=op.f("ck_store_orders_status"),
        ),
        sa.CheckConstraint("total_fen >= 0 AND discount_fen >= 0", name=op.f("ck_store_orders_amounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_orders")),
        sa.UniqueConstraint(
            "tenant_id", "channel", "external_id", name=op.f("uq_store_orders_tenant_id_channel_external_id")
        ),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_store_orders_tenant_id_number")),
    )
    op.create_index(
        "ix_store_orders_assigned", "store_orders", ["tenant_id", "assigned_org_id", "status"], unique=False
    )
    op.create_index("ix_store_orders_created", "store_orders", ["tenant_id", "created_at"], unique=False)
    op.create_index(
        "ix_store_orders_storefront",
        "store_orders",
        ["tenant_id", "storefront_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_store_orders_tenant_id"), "store_orders", ["tenant_id"], unique=False)
    op.create_table(
        "store_payments",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("provider", sa.String(length=24), nullable=False),
        sa.Column("out_trade_no", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prepay_id", sa.String(length=128), nullable=True),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'closed', 'refunded')", name=op.f("ck_store_payments_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_payments")),
        sa.UniqueConstraint("out_trade_no", name=op.f("uq_store_payments_out_trade_no")),
    )
    op.create_index("ix_store_payments_order", "store_payments", ["tenant_id", "order_id"], unique=False)
    op.create_index(op.f("ix_store_payments_tenant_id"), "store_payments", ["tenant_id"], unique=False)
    op.create_table(
        "store_stock",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_store_stock_on_hand")),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name=op.f("ck_store_stock_reserved")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_stock")),
        sa.UniqueConstraint(
            "tenant_id", "org_id", "sku_id", name=op.f("uq_store_stock_tenant_id_org_id_sku_id")
        ),
    )
    op.create_index("ix_store_stock_sku", "store_stock", ["tenant_id", "sku_id"], unique=False)
    op.create_index(op.f("ix_store_stock_tenant_id"), "store_stock", ["tenant_id"], unique=False)
    op.create_table(
        "store_stock_movements",
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_stock_movements")),
    )
    op.create_index(
        "ix_store_stock_movements_org",
        "store_stock_movements",
        ["tenant_id", "org_id", "sku_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_store_stock_movements_tenant_id"), "store_stock_movements", ["tenant_id"], unique=False
    )
    op.create_table(
        "store_stock_reservations",
        sa.Column("order_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=36), nullable=False),
        sa.Column("sku_id", sa.String(length=36), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.CheckConstraint(
            "status IN ('held', 'committed', 'released')", name=op.f("ck_store_stock_reservations_status")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_store_stock_reservations_quantity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_stock_reservations")),
    )
    op.create_index(
        "ix_store_stock_reservations_expiry",
        "store_stock_reservations",
        ["status", "expires_at"],
        unique=False,
    )
    op.create_index(
        "ix_store_stock_reservations_order",
        "store_stock_reservations",
        ["tenant_id", "order_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_store_stock_reservations_tenant_id"), "store_stock_reservations", ["tenant_id"], unique=False
    )
    # --- end orders, stock, coupons, payments, fulfilment ---


def downgrade() -> None:
    # --- orders, stock, coupons, payments, fulfilment ---
    op.drop_index(op.f("ix_store_stock_reservations_tenant_id"), table_name="store_stock_reservations")
    op.drop_index("ix_store_stock_reservations_order", table_name="store_stock_reservations")
    op.drop_index("ix_store_stock_reservations_expiry", table_name="store_stock_reservations")
    op.drop_table("store_stock_reservations")
    op.drop_index(op.f("ix_store_stock_movements_tenant_id"), table_name="store_stock_movements")
    op.drop_index("ix_store_stock_movements_org", table_name="store_stock_movements")
    op.drop_table("store_stock_movements")
    op.drop_index(op.f("ix_store_stock_tenant_id"), table_name="store_stock")
    op.drop_index("ix_store_stock_sku", table_name="store_stock")
    op.drop_table("store_stock")
    op.drop_index(op.f("ix_store_payments_tenant_id"), table_name="store_payments")
    op.drop_index("ix_store_payments_order", table_name="store_payments")
    op.drop_table("store_payments")
    op.drop_index(op.f("ix_store_orders_tenant_id"), table_name="store_orders")
    op.drop_index("ix_store_orders_storefront", table_name="store_orders")
    op.drop_index("ix_store_orders_created", table_name="store_orders")
    op.drop_index("ix_store_orders_assigned", table_name="store_orders")
    op.drop_table("store_orders")
    op.drop_index(op.f("ix_store_order_settings_tenant_id"), table_name="store_order_settings")
    op.drop_table("store_order_settings")
    op.drop_index(op.f("ix_store_order_lines_tenant_id"), table_name="store_order_lines")
    op.drop_index("ix_store_order_lines_order", table_name="store_order_lines")
    op.drop_table("store_order_lines")
    op.drop_index(op.f("ix_store_order_events_tenant_id"), table_name="store_order_events")
    op.drop_index("ix_store_order_events_order", table_name="store_order_events")
    op.drop_table("store_order_events")
    op.drop_index(op.f("ix_store_coupons_tenant_id"), table_name="store_coupons")
    op.drop_table("store_coupons")
    op.drop_index(op.f("ix_store_coupon_uses_tenant_id"), table_name="store_coupon_uses")
    op.drop_table("store_coupon_uses")
    op.drop_index(op.f("ix_store_carts_tenant_id"), table_name="store_carts")
    op.drop_table("store_carts")
    # --- end orders, stock, coupons, payments, fulfilment ---
    # --- storefronts, pricing, sharing, commissions ---
    op.drop_index(op.f("ix_storefront_listings_tenant_id"), table_name="storefront_listings")
    op.drop_table("storefront_listings")
    op.drop_index(op.f("ix_store_share_links_tenant_id"), table_name="store_share_links")
    op.drop_index("ix_store_share_links_sharer", table_name="store_share_links")
    op.drop_table("store_share_links")
    op.drop_index(op.f("ix_storefronts_tenant_id"), table_name="storefronts")
    op.drop_index(op.f("ix_storefronts_staff_id"), table_name="storefronts")
    op.drop_index(op.f("ix_storefronts_org_id"), table_name="storefronts")
    op.drop_table("storefronts")
    op.drop_index(op.f("ix_store_visits_tenant_id"), table_name="store_visits")
    op.drop_index("ix_store_visits_storefront", table_name="store_visits")
    op.drop_index("ix_store_visits_sharer", table_name="store_visits")
    op.drop_table("store_visits")
    op.drop_table("store_settings")
    op.drop_index(op.f("ix_store_price_rules_tenant_id"), table_name="store_price_rules")
    op.drop_table("store_price_rules")
    op.drop_index(op.f("ix_store_commissions_tenant_id"), table_name="store_commissions")
    op.drop_index(op.f("ix_store_commissions_sharer_storefront_id"), table_name="store_commissions")
    op.drop_index(op.f("ix_store_commissions_order_id"), table_name="store_commissions")
    op.drop_index("ix_store_commissions_due", table_name="store_commissions")
    op.drop_index("ix_store_commissions_beneficiary", table_name="store_commissions")
    op.drop_table("store_commissions")
    op.drop_index(op.f("ix_store_commission_rules_tenant_id"), table_name="store_commission_rules")
    op.drop_table("store_commission_rules")
    op.drop_index(op.f("ix_store_bindings_tenant_id"), table_name="store_bindings")
    op.drop_index("ix_store_bindings_sharer", table_name="store_bindings")
    op.drop_table("store_bindings")
    # --- end storefronts, pricing, sharing, commissions ---
