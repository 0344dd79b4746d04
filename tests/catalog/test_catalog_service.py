"""Products and SKUs through the service: GTINs, prices, search, tenants and bulk loads."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bcone.catalog import service
from bcone.catalog.errors import (
    DuplicateGtin,
    DuplicateProduct,
    DuplicateSkuCode,
    InvalidGtin,
    UnknownProduct,
)
from bcone.catalog.schemas import ProductIn, ProductUpdate, SkuBulkIn, SkuIn, SkuUpdate
from bcone.core.db import Database
from bcone.core.errors import NotFound
from bcone.core.gs1 import gtin_check_digit
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut


@pytest.fixture
def s(db: Database, tenant: TenantOut) -> Iterator[Session]:
    with db.session(tenant_id=tenant.id) as session:
        yield session


def _sku(code: str = "ICT-500", **kw: object) -> SkuIn:
    fields: dict[str, object] = {
        "product_name": "冰红茶",
        "sku_code": code,
        "gtin": "6901234567892",
        "name": "冰红茶 500ml",
        "specification": "500ml×15",
        "unit": "箱",
        "list_price": "45.00",
    }
    fields.update(kw)
    return SkuIn.model_validate(fields)


def test_sku_stores_a_14_digit_gtin_and_fen(s: Session) -> None:
    service.create_product(ProductIn(name="冰红茶", line="茶饮"), session=s)
    sku = service.create_sku(_sku(list_price="45.5"), session=s)
    assert (sku.gtin, sku.list_price_fen, sku.list_price) == ("06901234567892", 4550, Decimal("45.50"))
    assert (sku.product_name, sku.product_line) == ("冰红茶", "茶饮")
    assert sku.model_dump(mode="json")["list_price"] == "45.50"
    # Any length of the same barcode finds it.
    assert service.get_sku_by_gtin("06901234567892", session=s).id == sku.id
    assert service.get_sku_by_gtin("6901234567892", session=s).id == sku.id
    assert service.get_sku_by_code("ICT-500", session=s).id == sku.id
    assert service.get_product(sku.product_id, session=s).sku_count == 1


def test_gtin_and_uniqueness_rules(s: Session) -> None:
    service.create_product(ProductIn(name="冰红茶"), session=s)
    service.create_sku(_sku(), session=s)
    with pytest.raises(InvalidGtin, match="expected 2") as err:
        service.create_sku(_sku("X1", gtin="6901234567891"), session=s)
    assert (err.value.status, err.value.field, err.value.code) == (422, "gtin", "invalid_gtin")
    with pytest.raises(InvalidGtin, match="8, 12, 13 or 14 digits"):
        service.create_sku(_sku("X1", gtin="69012345678"), session=s)
    with pytest.raises(DuplicateGtin) as dup:
        service.create_sku(_sku("X1", gtin="06901234567892"), session=s)  # same barcode, padded
    assert (dup.value.status, dup.value.field) == (409, "gtin")
    with pytest.raises(DuplicateSkuCode):
        service.create_sku(_sku(gtin=None), session=s)
    with pytest.raises(UnknownProduct):
        service.create_sku(_sku("X2", gtin=None, product_name="不存在"), session=s)
    with pytest.raises(DuplicateProduct):
        service.create_product(ProductIn(name="冰红茶"), session=s)
    # A SKU without a barcode is fine, and several may lack one.
    service.create_sku(_sku("X3", gtin=None), session=s)
    service.create_sku(_sku("X4", gtin=""), session=s)


@pytest.mark.parametrize("price", ["-1", "1.234", "abc", "100000000"])
def test_prices_are_non_negative_yuan_with_two_decimals(price: str) -> None:
    with pytest.raises(ValidationError) as err:
        _sku(list_price=price)
    assert err.value.errors()[0]["loc"] == ("list_price",)


def test_update_search_filters_and_pagination(s: Session) -> None:
    service.create_product(ProductIn(name="冰红茶", line="茶饮"), session=s)
    service.create_product(ProductIn(name="橙汁", line="果汁", description="鲜榨口味"), session=s)
    service.create_sku(_sku(), session=s)
    service.create_sku(
        _sku("ICT-1L", gtin="6901234567908", name="冰红茶 1L", specification="1L×12"), session=s
    )
    oj = service.create_sku(_sku("OJ-300", gtin=None, product_name="橙汁", name="橙汁 300ml"), session=s)

    def codes(**kw: object) -> list[str]:
        params = PageParams(
            q=kw.pop("q", None), page=int(kw.pop("page", 1)), page_size=int(kw.pop("page_size", 50))
        )
        return [x.sku_code for x in service.list_skus(params, session=s, **kw).items]  # type: ignore[arg-type]

    assert codes() == ["ICT-1L", "ICT-500", "OJ-300"]
    assert codes(q="1L×12") == ["ICT-1L"]
    assert codes(q="橙汁") == ["OJ-300"]  # product name
    assert codes(q="4567908") == ["ICT-1L"]  # barcode
    assert codes(line="茶饮") == ["ICT-1L", "ICT-500"]
    assert codes(page=2, page_size=2) == ["OJ-300"]
    changed = service.update_sku(
        oj.id, SkuUpdate(list_price=Decimal("6.8"), status="discontinued"), session=s
    )
    assert (changed.list_price_fen, changed.status) == (680, "discontinued")
    assert codes(status="discontinued") == ["OJ-300"]
    removed = service.update_sku(oj.id, SkuUpdate(gtin=None), session=s)
    assert removed.gtin is None
    with pytest.raises(InvalidGtin):
        service.update_sku(oj.id, SkuUpdate(gtin="123"), session=s)
    products = service.list_products(PageParams(q="鲜榨"), session=s)
    assert [p.name for p in products.items] == ["橙汁"]
    assert service.product_lines(session=s) == ["果汁", "茶饮"]
    renamed = service.update_product(products.items[0].id, ProductUpdate(name="鲜橙汁"), session=s)
    assert service.get_sku(oj.id, session=s).product_name == renamed.name == "鲜橙汁"


def test_another_tenants_catalog_is_not_found(
    db: Database, tenant: TenantOut, other_tenant: TenantOut
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        product = service.create_product(ProductIn(name="冰红茶"), session=s)
        sku = service.create_sku(_sku(), session=s)
    with db.session(tenant_id=other_tenant.id) as s:
        for call in (
            lambda: service.get_sku(sku.id, session=s),
            lambda: service.get_product(product.id, session=s),
            lambda: service.update_sku(sku.id, SkuUpdate(name="x"), session=s),
            lambda: service.get_sku_by_gtin("6901234567892", session=s),
        ):
            with pytest.raises(NotFound):
                call()
        with pytest.raises(UnknownProduct):
            service.create_sku(_sku(product_name=None, product_id=product.id), session=s)
        # The same codes and barcode are free in another tenant.
        service.create_product(ProductIn(name="冰红茶"), session=s)
        service.create_sku(_sku(), session=s)


def test_bulk_create_for_the_demo(s: Session) -> None:
    assert service.create_products_bulk([ProductIn(name="产品0", line="茶饮")], session=s) == 1
    bodies = [f"690000{i:06d}" for i in range(400)]
    items = [
        SkuBulkIn(
            product_name=f"产品{i % 20}",
            line="果汁" if i % 20 else "其他",
            sku_code=f"SKU-{i:04d}",
            gtin=body + str(gtin_check_digit(body)),
            name=f"SKU {i}",
            list_price_fen=350,
        )
        for i, body in enumerate(bodies)
    ]
    assert service.create_skus_bulk(items, session=s) == 400
    page = service.list_skus(PageParams(page_size=1), session=s)
    assert page.total == 400
    assert (page.items[0].list_price, page.items[0].product_line) == (
        Decimal("3.50"),
        "茶饮",
    )  # 产品0 kept its line
    assert service.list_products(PageParams(), session=s, line="果汁").total == 19
    bad = SkuBulkIn(product_name="产品1", sku_code="NEW-1", gtin="6900000000001", name="x", list_price_fen=1)
    with pytest.raises(InvalidGtin) as err:
        service.create_skus_bulk([bad], session=s)
    assert err.value.field == "items[0].gtin"
