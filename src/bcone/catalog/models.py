"""Tables of the catalog: products (a drink, a snack) and their SKUs (a pack size, with a GTIN)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin
from bcone.core.tenancy import TenantScoped

CATALOG_STATUSES = ("active", "discontinued")
_STATUS_CHECK = "status IN ('active', 'discontinued')"


class Product(IdMixin, TimestampMixin, TenantScoped, Base):
    """A product of the brand, e.g. 冰红茶; its SKUs are the sizes and packs it is sold in."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(_STATUS_CHECK, name="status"),
    )

    name: Mapped[str] = mapped_column(String(200))
    line: Mapped[str] = mapped_column(String(100), default="", index=True)  # product line / category
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")


class Sku(IdMixin, TimestampMixin, TenantScoped, Base):
    """A stock-keeping unit: one pack of a product, with its barcode (GTIN) and list price."""

    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku_code"),
        # Stored as 14 digits (core.gs1), so 6901234567892 and 06901234567892 are one barcode.
        UniqueConstraint("tenant_id", "gtin"),
        CheckConstraint(_STATUS_CHECK, name="status"),
        CheckConstraint("list_price_fen >= 0", name="list_price_not_negative"),
    )

    product_id: Mapped[str] = mapped_column(String(36), ForeignKey("products.id"), index=True)
    sku_code: Mapped[str] = mapped_column(String(64))
    gtin: Mapped[str | None] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    specification: Mapped[str] = mapped_column(String(100), default="")  # e.g. 500ml×24
    unit: Mapped[str] = mapped_column(String(20), default="")  # e.g. 箱 (case), 瓶 (bottle)
    list_price_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active")
