"""HTTP API of the catalog: products, SKUs (GTIN, list price in yuan) and SKU file imports.

Every role of the brand and its partners read the catalog; owners, admins and marketers change it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile, status

from bcone.catalog import service
from bcone.catalog.schemas import (
    CatalogStatus,
    ProductIn,
    ProductOut,
    ProductUpdate,
    SkuIn,
    SkuOut,
    SkuUpdate,
)
from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.imports import MAX_IMPORT_BYTES, ImportMode, ImportRejected, ImportReport
from bcone.core.pagination import Page

router = APIRouter(tags=["catalog"])

Reader = Annotated[Principal, Depends(require_roles(*Role))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]


@router.get("/catalog/products")
def list_products(
    _: Reader,
    session: SessionDep,
    page: PageDep,
    line: str | None = None,
    status: CatalogStatus | None = None,
) -> Page[ProductOut]:
    """Products; ``q`` searches name, line and description."""
    return service.list_products(page, session=session, line=line, status=status)


@router.post("/catalog/products", status_code=status.HTTP_201_CREATED)
def create_product(body: ProductIn, _: Editor, session: SessionDep) -> ProductOut:
    """Add a product (owner, admin, marketer); names are unique."""
    return service.create_product(body, session=session)


@router.get("/catalog/products/{product_id}")
def get_product(product_id: str, _: Reader, session: SessionDep) -> ProductOut:
    """One product."""
    return service.get_product(product_id, session=session)


@router.patch("/catalog/products/{product_id}")
def update_product(product_id: str, body: ProductUpdate, _: Editor, session: SessionDep) -> ProductOut:
    """Change a product; only the fields sent change."""
    return service.update_product(product_id, body, session=session)


@router.get("/catalog/skus")
def list_skus(
    _: Reader,
    session: SessionDep,
    page: PageDep,
    product_id: str | None = None,
    line: str | None = None,
    status: CatalogStatus | None = None,
) -> Page[SkuOut]:
    """SKUs; ``q`` searches code, name, GTIN, specification and product name."""
    return service.list_skus(page, session=session, product_id=product_id, line=line, status=status)


@router.post("/catalog/skus", status_code=status.HTTP_201_CREATED)
def create_sku(body: SkuIn, _: Editor, session: SessionDep) -> SkuOut:
    """Add a SKU; the GTIN's check digit is verified and it is stored as 14 digits."""
    return service.create_sku(body, session=session)


@router.post("/catalog/skus/import")
def import_skus(
    _: Editor,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK) or XLSX; the header is row 1")],
    mode: Annotated[
        ImportMode, Form(description="all_or_nothing (default) or valid_rows")
    ] = ImportMode.all_or_nothing,
) -> ImportReport:
    """Create or update SKUs (and their products) from a file; 422 with the report when rejected."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    report = service.import_skus(data, file.filename or "upload", session=session, mode=mode)
    if mode is ImportMode.all_or_nothing and not report.imported:
        raise ImportRejected(report)
    return report


@router.get("/catalog/skus/by-gtin/{gtin}")
def get_sku_by_gtin(gtin: str, _: Reader, session: SessionDep) -> SkuOut:
    """The SKU carrying a barcode (GTIN-8/12/13/14)."""
    return service.get_sku_by_gtin(gtin, session=session)


@router.get("/catalog/skus/{sku_id}")
def get_sku(sku_id: str, _: Reader, session: SessionDep) -> SkuOut:
    """One SKU."""
    return service.get_sku(sku_id, session=session)


@router.patch("/catalog/skus/{sku_id}")
def update_sku(sku_id: str, body: SkuUpdate, _: Editor, session: SessionDep) -> SkuOut:
    """Change a SKU; only the fields sent change (``gtin: null`` removes the barcode)."""
    return service.update_sku(sku_id, body, session=session)
