"""Importing SKUs from CSV or XLSX (policy: ``docs/imports.md``).

Each row is one SKU, matched by SKU code (a known code updates that SKU). Its product is matched
by name and created when new, in the row's product line; importing the same file twice changes
nothing the second time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bcone.catalog._products import create_product, product_by_name
from bcone.catalog._skus import create_sku, get_sku, update_sku
from bcone.catalog.errors import ProductLineMismatch
from bcone.catalog.models import Sku
from bcone.catalog.schemas import ProductIn, SkuIn, SkuUpdate
from bcone.core.errors import ValidationFailed
from bcone.core.imports import (
    Column,
    ImportMode,
    ImportReport,
    RowOutcome,
    Table,
    TableRow,
    parse_choice,
    read_table,
    run_import,
)

SKU_COLUMNS = (
    Column("sku_code", ("SKU编码", "商品编码", "sku"), required=True),
    Column("name", ("SKU名称", "商品名称", "sku_name"), required=True),
    Column("product", ("产品名称", "产品", "product_name"), required=True),
    Column("line", ("产品线", "品类", "product_line", "category")),
    Column("gtin", ("条码", "商品条码", "barcode", "ean")),
    Column("specification", ("规格", "spec")),
    Column("unit", ("单位",)),
    Column("list_price", ("指导价", "价格", "price"), required=True),
    Column("status", ("状态",)),
)
STATUS_CHOICES = {
    "active": "active",
    "在售": "active",
    "正常": "active",
    "discontinued": "discontinued",
    "停售": "discontinued",
    "下架": "discontinued",
}
_COMPARED = {"created_at", "updated_at"}
_PRICE_DECORATIONS = str.maketrans("", "", "¥￥,，元 ")


def _product_for(row: TableRow, table: Table, session: Session) -> str:
    """The row's product name, after creating the product or checking its line."""
    name = row.get("product")
    if not name:
        raise ValidationFailed("the product name is required", field="product")
    line = row.get("line") if "line" in table.headers else ""
    product = product_by_name(session, name)
    if product is None:
        create_product(ProductIn(name=name, line=line), session=session)
    elif line and product.line and line != product.line:
        raise ProductLineMismatch(f"product {name!r} is in line {product.line!r}, not {line!r}", field="line")
    elif line and not product.line:
        product.line = line
    return name


def _sku_fields(row: TableRow, table: Table) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "sku_code": row.get("sku_code"),
        "name": row.get("name"),
        "list_price": row.get("list_price").translate(_PRICE_DECORATIONS) or None,
    }
    if "gtin" in table.headers:
        fields["gtin"] = row.get("gtin") or None
    for key in ("specification", "unit"):
        if key in table.headers:
            fields[key] = row.get(key)
    if "status" in table.headers:
        fields["status"] = parse_choice(
            row.get("status"), STATUS_CHOICES, field_name="status", default="active"
        )
    return fields


def import_sku_table(table: Table, *, session: Session, mode: ImportMode) -> ImportReport:
    """Create or update one SKU per row (by SKU code), creating products by name as needed."""

    def apply(row: TableRow) -> RowOutcome:
        fields = _sku_fields(row, table)
        existing = session.scalars(select(Sku.id).where(Sku.sku_code == fields["sku_code"])).first()
        before = get_sku(existing, session=session).model_dump(exclude=_COMPARED) if existing else None
        fields["product_name"] = _product_for(row, table, session)
        if existing is None:
            create_sku(SkuIn(**fields), session=session)
            return "created"
        after = update_sku(existing, SkuUpdate(**fields), session=session)
        return "unchanged" if after.model_dump(exclude=_COMPARED) == before else "updated"

    return run_import(
        session=session,
        table=table,
        mode=mode,
        apply=apply,
        field_aliases={"product_id": "product", "product_name": "product"},
    )


def import_skus(
    data: bytes, filename: str, *, session: Session, mode: ImportMode = ImportMode.all_or_nothing
) -> ImportReport:
    """Import SKUs from a CSV/XLSX file; 422 when the file itself is unreadable."""
    return import_sku_table(read_table(data, filename, SKU_COLUMNS), session=session, mode=mode)
