"""SKUs: create, change, read, list, look up by code or barcode, and bulk loads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from bcone.catalog._products import find_product
from bcone.catalog.errors import DuplicateGtin, DuplicateSkuCode, InvalidGtin, SkuNotFound
from bcone.catalog.models import Product, Sku
from bcone.catalog.schemas import ProductIn, SkuBulkIn, SkuIn, SkuOut, SkuUpdate
from bcone.core.errors import BconeError, ValidationFailed
from bcone.core.gs1 import normalize_gtin
from bcone.core.ids import new_id
from bcone.core.money import fen_to_yuan, yuan_to_fen
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant

_NOT_NULL_FIELDS = ("sku_code", "name", "specification", "unit", "list_price", "status")


def stored_gtin(value: str | None) -> str | None:
    """``value`` as the 14-digit GTIN bcone stores, None when blank; 422 ``invalid_gtin`` when wrong."""
    if value is None or not value.strip():
        return None
    try:
        return normalize_gtin(value)
    except ValueError as exc:
        raise InvalidGtin(str(exc), field="gtin") from None


def _row(session: Session, sku_id: str) -> Sku:
    sku = session.scalars(select(Sku).where(Sku.id == sku_id)).one_or_none()
    if sku is None:
        raise SkuNotFound(f"no SKU {sku_id}", field="sku_id")
    return sku


def skus_out(session: Session, rows: Sequence[Sku]) -> list[SkuOut]:
    """SKUs as contracts, with their products' names and lines in one query."""
    products: dict[str, tuple[str, str]] = {}
    ids = {r.product_id for r in rows}
    if ids:
        stmt = select(Product.id, Product.name, Product.line).where(Product.id.in_(ids))
        products = {pid: (name, line) for pid, name, line in session.execute(stmt)}
    return [
        SkuOut(
            id=r.id,
            product_id=r.product_id,
            product_name=products[r.product_id][0],
            product_line=products[r.product_id][1],
            sku_code=r.sku_code,
            gtin=r.gtin,
            name=r.name,
            specification=r.specification,
            unit=r.unit,
            list_price=fen_to_yuan(r.list_price_fen),
            list_price_fen=r.list_price_fen,
            status=r.status,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def _check_free(
    session: Session, *, sku_code: str | None, gtin: str | None, except_id: str | None = None
) -> None:
    if sku_code is not None:
        other = session.scalars(select(Sku).where(Sku.sku_code == sku_code)).one_or_none()
        if other is not None and other.id != except_id:
            raise DuplicateSkuCode(f"SKU code {sku_code!r} is already used by {other.name}", field="sku_code")
    if gtin is not None:
        other = session.scalars(select(Sku).where(Sku.gtin == gtin)).one_or_none()
        if other is not None and other.id != except_id:
            raise DuplicateGtin(f"GTIN {gtin} is already used by {other.sku_code} {other.name}", field="gtin")


def create_sku(data: SkuIn, *, session: Session) -> SkuOut:
    """Add a SKU to an existing product.

    The SKU code and the GTIN are unique per tenant; the GTIN's check digit must be right (it is
    stored as 14 digits); the list price is yuan with at most two decimals, stored as fen.
    """
    product = find_product(session, product_id=data.product_id, name=data.product_name)
    gtin = stored_gtin(data.gtin)
    _check_free(session, sku_code=data.sku_code, gtin=gtin)
    sku = Sku(
        product_id=product.id,
        sku_code=data.sku_code,
        gtin=gtin,
        name=data.name,
        specification=data.specification,
        unit=data.unit,
        list_price_fen=yuan_to_fen(data.list_price),
        status=data.status,
    )
    session.add(sku)
    session.flush()
    return skus_out(session, [sku])[0]


def update_sku(sku_id: str, data: SkuUpdate, *, session: Session) -> SkuOut:
    """Change a SKU; only the fields sent change, under the rules of :func:`create_sku`."""
    sku = _row(session, sku_id)
    sent = data.model_fields_set
    for name in _NOT_NULL_FIELDS:
        if name in sent and getattr(data, name) is None:
            raise ValidationFailed(f"{name} cannot be empty", field=name)
    if data.product_id or data.product_name:
        sku.product_id = find_product(session, product_id=data.product_id, name=data.product_name).id
    gtin = stored_gtin(data.gtin) if "gtin" in sent else sku.gtin
    _check_free(session, sku_code=data.sku_code, gtin=gtin, except_id=sku.id)
    sku.gtin = gtin
    if data.list_price is not None:
        sku.list_price_fen = yuan_to_fen(data.list_price)
    for name in ("sku_code", "name", "specification", "unit", "status"):
        if name in sent:
            setattr(sku, name, getattr(data, name))
    session.flush()
    return skus_out(session, [sku])[0]


def get_sku(sku_id: str, *, session: Session) -> SkuOut:
    """One SKU; 404 when unknown or another tenant's."""
    return skus_out(session, [_row(session, sku_id)])[0]


def get_sku_by_code(sku_code: str, *, session: Session) -> SkuOut:
    """The SKU with this code; 404 when there is none."""
    sku = session.scalars(select(Sku).where(Sku.sku_code == sku_code)).one_or_none()
    if sku is None:
        raise SkuNotFound(f"no SKU with code {sku_code!r}", field="sku_code")
    return skus_out(session, [sku])[0]


def get_sku_by_gtin(gtin: str, *, session: Session) -> SkuOut:
    """The SKU carrying this barcode (any GTIN length); 404 when none, 422 when not a GTIN."""
    stored = stored_gtin(gtin)
    sku = session.scalars(select(Sku).where(Sku.gtin == stored)).one_or_none() if stored else None
    if sku is None:
        raise SkuNotFound(f"no SKU with GTIN {gtin!r}", field="gtin")
    return skus_out(session, [sku])[0]


def list_skus(
    params: PageParams,
    *,
    session: Session,
    product_id: str | None = None,
    line: str | None = None,
    status: str | None = None,
) -> Page[SkuOut]:
    """One page of SKUs by code; ``q`` searches code, name, GTIN, specification and product name."""
    stmt = select(Sku).join(Product, Product.id == Sku.product_id).order_by(Sku.sku_code, Sku.id)
    if params.q:
        q = params.q
        stmt = stmt.where(
            or_(
                Sku.sku_code.icontains(q, autoescape=True),
                Sku.name.icontains(q, autoescape=True),
                Sku.gtin.icontains(q, autoescape=True),
                Sku.specification.icontains(q, autoescape=True),
                Product.name.icontains(q, autoescape=True),
            )
        )
    if product_id:
        stmt = stmt.where(Sku.product_id == product_id)
    if line:
        stmt = stmt.where(Product.line == line)
    if status:
        stmt = stmt.where(Sku.status == status)
    rows, total = paginate_rows(session, stmt, params)
    return Page(items=skus_out(session, rows), total=total, page=params.page, page_size=params.page_size)


def create_products_bulk(items: Sequence[ProductIn], *, session: Session) -> int:
    """Insert many new products at once (demo data); a name already used refuses the batch."""
    tenant_id = current_tenant(session)
    taken = set(session.scalars(select(Product.name)))
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        if item.name in taken:
            raise ValidationFailed(
                f"item {index}: product {item.name!r} already exists", field=f"items[{index}].name"
            )
        taken.add(item.name)
        # A Core bulk insert skips the ORM flush hook that stamps tenants.
        rows.append({"id": new_id(), "tenant_id": tenant_id, **item.model_dump()})
    if rows:
        session.execute(insert(Product), rows)
    return len(rows)


def create_skus_bulk(items: Sequence[SkuBulkIn], *, session: Session) -> int:
    """Insert many new SKUs at once (demo data, first loads), creating their products by name.

    The rules of :func:`create_sku` are checked in memory (unique code and GTIN, check digit);
    a new product takes the line of its first SKU. Any bad item refuses the whole batch with a
    422 naming ``items[i].<field>``. Returns how many SKUs were inserted.
    """
    tenant_id = current_tenant(session)
    products = {name: pid for pid, name in session.execute(select(Product.id, Product.name))}
    codes = set(session.scalars(select(Sku.sku_code)))
    gtins = {g for g in session.scalars(select(Sku.gtin)) if g}
    new_products: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            gtin = stored_gtin(item.gtin)
            if item.sku_code in codes:
                raise DuplicateSkuCode(f"SKU code {item.sku_code!r} is already used", field="sku_code")
            if gtin is not None and gtin in gtins:
                raise DuplicateGtin(f"GTIN {gtin} is already used", field="gtin")
        except BconeError as exc:
            raise type(exc)(f"item {index}: {exc.detail}", field=f"items[{index}].{exc.field}") from exc
        if item.product_name not in products:
            products[item.product_name] = new_id()
            new_products.append(
                {
                    "id": products[item.product_name],
                    "tenant_id": tenant_id,
                    "name": item.product_name,
                    "line": item.line,
                }
            )
        codes.add(item.sku_code)
        if gtin is not None:
            gtins.add(gtin)
        values = item.model_dump(exclude={"product_name", "line", "gtin"})
        # A Core bulk insert skips the ORM flush hook that stamps tenants.
        values.update(id=new_id(), tenant_id=tenant_id, product_id=products[item.product_name], gtin=gtin)
        rows.append(values)
    if new_products:
        session.execute(insert(Product), new_products)
    if rows:
        session.execute(insert(Sku), rows)
    return len(rows)
