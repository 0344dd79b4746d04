"""Console pages of the catalog: SKU and product lists, their forms, and the SKU import."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from bcone.catalog import service
from bcone.catalog.messages import register as _register_messages
from bcone.catalog.schemas import (
    CatalogStatus,
    ProductIn,
    ProductUpdate,
    SkuIn,
    SkuUpdate,
)
from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.imports import ImportFileInvalid, ImportMode, template_csv
from bcone.core.pagination import PageParams
from bcone.web.deps import ConsolePrincipal
from bcone.web.forms import (
    FormPage,
    field_errors,
    form_values,
    import_mode,
    import_status,
    locale_of,
    read_upload,
    report_rows,
)
from bcone.web.templating import render, render_list

_register_messages()

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(require_roles(*Role))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]
STATUSES: tuple[str, ...] = get_args(CatalogStatus)
SKU_RESULTS = "sku-results"
PRODUCT_RESULTS = "product-results"
PREFIX = "catalog.error."
_PYDANTIC_KEYS = {"missing": "required", "string_too_short": "required", "decimal_parsing": "price"}
_PRICE_ERRORS = ("greater_than_equal", "decimal_max_places", "less_than")


def _pydantic_key(field: str, kind: str) -> str:
    return "price" if kind in _PRICE_ERRORS else _PYDANTIC_KEYS.get(kind, "invalid")


def _field_errors(exc: Exception, locale: str) -> dict[str, str]:
    return field_errors(exc, locale, prefix=PREFIX, pydantic_key=_pydantic_key, form_field=_FORM_FIELD)


_FORM_FIELD = {"product_id": "product_name", "sku_id": "form"}


class SkuForm(BaseModel):
    product_name: str = ""
    sku_code: str = ""
    gtin: str = ""
    name: str = ""
    specification: str = ""
    unit: str = ""
    list_price: str = ""
    status: str = "active"


class ProductForm(BaseModel):
    name: str = ""
    line: str = ""
    description: str = ""
    status: str = "active"


def _sku_payload(form: SkuForm) -> dict[str, Any]:
    return {
        **form.model_dump(),
        "gtin": form.gtin.strip() or None,
        "list_price": form.list_price.strip() or None,
    }


@router.get("/catalog")
def skus_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    line: str | None = None,
    status: str | None = None,
    product_id: str | None = None,
) -> Response:
    """The SKU list: search as you type, filter by product line and status."""
    result = service.list_skus(
        page,
        session=session,
        line=line or None,
        status=status if status in STATUSES else None,
        product_id=product_id or None,
    )
    ctx = {
        "result": result,
        "filters": {"line": line or "", "status": status or "", "product_id": product_id or ""},
        "filtered": bool(page.q or line or status or product_id),
        "lines": service.product_lines(session=session),
        "statuses": STATUSES,
        "can_edit": principal.has_role(Role.marketer),
        "results_target": SKU_RESULTS,
    }
    return render_list(request, "catalog/skus.html", "catalog/_sku_results.html", ctx)


SKU_FORM = FormPage(
    template="catalog/sku_form.html",
    record_name="sku",
    base_url="/catalog/skus",
    messages="catalog",
    errors=_field_errors,
    context={"statuses": STATUSES},
)


@router.get("/catalog/skus/new")
def new_sku_page(request: Request, _: ConsolePrincipal, __: Editor, product: str = "") -> Response:
    """An empty SKU form (``?product=<name>`` pre-fills the product)."""
    return SKU_FORM.show(request, form_values(SkuForm(product_name=product)))


@router.post("/catalog/skus/new")
def create_sku(
    request: Request, _: ConsolePrincipal, __: Editor, session: SessionDep, form: Annotated[SkuForm, Form()]
) -> Response:
    """Create the SKU, or show the form again with the errors next to their fields."""
    return SKU_FORM.submit(
        request, form, lambda: service.create_sku(SkuIn(**_sku_payload(form)), session=session)
    )


@router.get("/catalog/skus/{sku_id}")
def sku_page(request: Request, sku_id: str, _: ConsolePrincipal, __: Editor, session: SessionDep) -> Response:
    """The SKU's form, filled in."""
    sku = service.get_sku(sku_id, session=session)
    form = SkuForm(**sku.model_dump(include=set(SkuForm.model_fields) - {"gtin", "list_price"}))
    form.gtin, form.list_price = sku.gtin or "", str(sku.list_price)
    return SKU_FORM.show(request, form_values(form), record=sku)


@router.post("/catalog/skus/{sku_id}")
def update_sku(
    request: Request,
    sku_id: str,
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
    form: Annotated[SkuForm, Form()],
) -> Response:
    """Save the SKU, or show the form again with the errors next to their fields."""
    sku = service.get_sku(sku_id, session=session)
    return SKU_FORM.submit(
        request,
        form,
        lambda: service.update_sku(sku_id, SkuUpdate(**_sku_payload(form)), session=session),
        record=sku,
    )


@router.get("/catalog/products")
def products_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    line: str | None = None,
) -> Response:
    """The product list with each product's number of SKUs."""
    result = service.list_products(page, session=session, line=line or None)
    ctx = {
        "result": result,
        "filters": {"line": line or ""},
        "filtered": bool(page.q or line),
        "lines": service.product_lines(session=session),
        "can_edit": principal.has_role(Role.marketer),
        "results_target": PRODUCT_RESULTS,
    }
    return render_list(request, "catalog/products.html", "catalog/_product_results.html", ctx)


PRODUCT_FORM = FormPage(
    template="catalog/product_form.html",
    record_name="product",
    base_url="/catalog/products",
    messages="catalog",
    errors=_field_errors,
    context={"statuses": STATUSES},
)


@router.get("/catalog/products/new")
def new_product_page(request: Request, _: ConsolePrincipal, __: Editor) -> Response:
    """An empty product form."""
    return PRODUCT_FORM.show(request, form_values(ProductForm()))


@router.post("/catalog/products/new")
def create_product(
    request: Request,
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
    form: Annotated[ProductForm, Form()],
) -> Response:
    """Create the product, or show the form again with the errors next to their fields."""
    return PRODUCT_FORM.submit(
        request, form, lambda: service.create_product(ProductIn(**form.model_dump()), session=session)
    )


@router.get("/catalog/products/{product_id}")
def product_page(
    request: Request, product_id: str, _: ConsolePrincipal, __: Editor, session: SessionDep
) -> Response:
    """The product's form, filled in."""
    product = service.get_product(product_id, session=session)
    return PRODUCT_FORM.show(
        request,
        form_values(ProductForm(**product.model_dump(include=set(ProductForm.model_fields)))),
        record=product,
    )


@router.post("/catalog/products/{product_id}")
def update_product(
    request: Request,
    product_id: str,
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
    form: Annotated[ProductForm, Form()],
) -> Response:
    """Save the product, or show the form again with the errors next to their fields."""
    product = service.get_product(product_id, session=session)
    return PRODUCT_FORM.submit(
        request,
        form,
        lambda: service.update_product(product_id, ProductUpdate(**form.model_dump()), session=session),
        record=product,
    )


@router.get("/catalog/products-options")
def product_options(request: Request, _: ConsolePrincipal, __: Reader, session: SessionDep) -> Response:
    """``<option>`` suggestions of product names for the SKU form's product picker."""
    typed = (request.query_params.get("q") or request.query_params.get("product_name") or "").strip()
    page = service.list_products(PageParams(q=typed or None, page_size=20), session=session)
    return render(request, "catalog/_product_options.html", {"products": page.items})


def _import_page(request: Request, ctx: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    page = {
        "mode": ImportMode.all_or_nothing.value,
        "report": None,
        "file_error": None,
        "columns": service.SKU_COLUMNS,
    }
    page.update(ctx)
    return render(request, "catalog/import.html", page, status_code=status_code)


@router.get("/catalog/import")
def import_page(request: Request, _: ConsolePrincipal, __: Editor) -> Response:
    """Upload a file of SKUs; the report shows here afterwards."""
    return _import_page(request, {})


@router.get("/catalog/import/template.csv")
def import_template(_: ConsolePrincipal, __: Editor) -> Response:
    """An empty CSV with the Chinese headers, ready to fill in Excel."""
    return Response(
        template_csv(service.SKU_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="bcone-skus.csv"'},
    )


@router.post("/catalog/import")
def import_upload(
    request: Request,
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    mode: Annotated[str, Form()] = ImportMode.all_or_nothing.value,
) -> Response:
    """Run the import and show its report (422 when nothing was written because of bad rows)."""
    chosen = import_mode(mode)
    data = read_upload(file)
    try:
        report = service.import_skus(data, file.filename or "upload", session=session, mode=chosen)
    except ImportFileInvalid as exc:
        return _import_page(request, {"mode": chosen.value, "file_error": exc.detail}, status_code=422)
    rows = report_rows(report, locale_of(request), lambda code: PREFIX + code)
    ctx = {"mode": chosen.value, "report": report, "report_rows": rows}
    return _import_page(request, ctx, status_code=import_status(chosen, report))
