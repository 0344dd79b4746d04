"""Products: create, change, read and list; matched by name when SKUs are imported."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bcone.catalog.errors import DuplicateProduct, ProductNotFound, UnknownProduct
from bcone.catalog.models import Product, Sku
from bcone.catalog.schemas import ProductIn, ProductOut, ProductUpdate
from bcone.core.errors import ValidationFailed
from bcone.core.pagination import Page, PageParams, paginate_rows


def product_row(session: Session, product_id: str) -> Product:
    """The product ``product_id`` of the bound tenant; 404 otherwise."""
    product = session.scalars(select(Product).where(Product.id == product_id)).one_or_none()
    if product is None:
        raise ProductNotFound(f"no product {product_id}", field="product_id")
    return product


def product_by_name(session: Session, name: str) -> Product | None:
    return session.scalars(select(Product).where(Product.name == name.strip())).one_or_none()


def find_product(session: Session, *, product_id: str | None, name: str | None) -> Product:
    """The product a SKU names, by id or by name; 422 ``unknown_product`` when there is none."""
    found = None
    if product_id:
        found = session.scalars(select(Product).where(Product.id == product_id)).one_or_none()
    elif name:
        found = product_by_name(session, name)
    if found is None:
        raise UnknownProduct(f"no product {name or product_id} in this catalog", field="product_id")
    return found


def products_out(session: Session, rows: Sequence[Product]) -> list[ProductOut]:
    """Products as contracts, with their SKU counts in one query."""
    counts: dict[str, int] = {}
    if rows:
        stmt = (
            select(Sku.product_id, func.count())
            .where(Sku.product_id.in_([r.id for r in rows]))
            .group_by(Sku.product_id)
        )
        counts = {pid: int(n) for pid, n in session.execute(stmt)}
    return [
        ProductOut(
            id=r.id,
            name=r.name,
            line=r.line,
            description=r.description,
            status=r.status,
            sku_count=counts.get(r.id, 0),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


def _check_name_free(session: Session, name: str, except_id: str | None = None) -> None:
    existing = product_by_name(session, name)
    if existing is not None and existing.id != except_id:
        raise DuplicateProduct(f"there is already a product named {name!r}", field="name")


def create_product(data: ProductIn, *, session: Session) -> ProductOut:
    """Add a product; its name is unique per tenant (imports match products by name)."""
    _check_name_free(session, data.name)
    product = Product(name=data.name, line=data.line, description=data.description, status=data.status)
    session.add(product)
    session.flush()
    return products_out(session, [product])[0]


def update_product(product_id: str, data: ProductUpdate, *, session: Session) -> ProductOut:
    """Change a product; only the fields sent change, and the name stays unique."""
    product = product_row(session, product_id)
    sent = data.model_fields_set
    for name in ("name", "line", "description", "status"):
        if name not in sent:
            continue
        value = getattr(data, name)
        if value is None:
            raise ValidationFailed(f"{name} cannot be empty", field=name)
        if name == "name" and value != product.name:
            _check_name_free(session, value, product.id)
        setattr(product, name, value)
    session.flush()
    return products_out(session, [product])[0]


def get_product(product_id: str, *, session: Session) -> ProductOut:
    """One product; 404 when unknown or another tenant's."""
    return products_out(session, [product_row(session, product_id)])[0]


def list_products(
    params: PageParams, *, session: Session, line: str | None = None, status: str | None = None
) -> Page[ProductOut]:
    """One page of products by line and name; ``q`` searches name, line and description."""
    stmt = select(Product).order_by(Product.line, Product.name, Product.id)
    if params.q:
        q = params.q
        stmt = stmt.where(
            or_(
                Product.name.icontains(q, autoescape=True),
                Product.line.icontains(q, autoescape=True),
                Product.description.icontains(q, autoescape=True),
            )
        )
    if line:
        stmt = stmt.where(Product.line == line)
    if status:
        stmt = stmt.where(Product.status == status)
    rows, total = paginate_rows(session, stmt, params)
    return Page(items=products_out(session, rows), total=total, page=params.page, page_size=params.page_size)


def product_lines(*, session: Session) -> list[str]:
    """The tenant's product lines (categories), for filters."""
    stmt = select(Product.line).where(Product.line != "").distinct().order_by(Product.line)
    return list(session.scalars(stmt))
