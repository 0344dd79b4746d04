"""Importing SKUs (and their products) from CSV and XLSX, over the service, the API and the CLI."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bcone.catalog import service
from bcone.catalog.cli import app as catalog_cli
from bcone.catalog.schemas import ProductIn
from bcone.core.db import Database
from bcone.core.imports import ImportMode
from bcone.core.pagination import PageParams
from bcone.core.settings import get_settings
from bcone.iam.schemas import TenantOut
from tests.fixtures_iam import AuthHeaders

SKU_CSV = """SKU编码,SKU名称,产品名称,产品线,条码,规格,单位,指导价,状态
ICT-500,冰红茶 500ml,冰红茶,茶饮,6901234567892,500ml×15,箱,￥45.00,在售
ICT-1L,冰红茶 1L,冰红茶,茶饮,6901234567891,1L×12,箱,52,在售
OJ-300,橙汁 300ml,橙汁,果汁,,300ml×24,箱,"1,036.50",
GT-500,绿茶 500ml,冰红茶,果汁,,500ml×15,箱,40,
MW-550,矿泉水 550ml,矿泉水,饮用水,96385074,550ml×24,箱,-3,
"""
# (row, column, error code): a wrong check digit, a product put in another line, a negative price.
SKU_ERRORS = [
    (3, "条码", "invalid_gtin"),
    (5, "产品线", "product_line_mismatch"),
    (6, "指导价", "greater_than_equal"),
]


def sku_xlsx() -> bytes:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for line in SKU_CSV.replace('"1,036.50"', "1036.5").splitlines():
        cells: list[object] = line.split(",")
        cells = [int(c) if isinstance(c, str) and c.isdigit() and len(c) > 6 else c for c in cells]
        sheet.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


TenantSession = Callable[[], AbstractContextManager[Session]]


@pytest.fixture
def tsession(db: Database, tenant: TenantOut) -> TenantSession:
    """``with tsession() as s:`` - a unit of work of ``tenant``."""
    return lambda: db.session(tenant_id=tenant.id)


@pytest.mark.parametrize(
    ("filename", "data"),
    [("utf8.csv", SKU_CSV.encode()), ("gbk.csv", SKU_CSV.encode("gbk")), ("skus.xlsx", sku_xlsx())],
)
def test_sku_import_in_both_modes(tsession: TenantSession, filename: str, data: bytes) -> None:
    with tsession() as s:
        rejected = service.import_skus(data, filename, session=s)
    assert (rejected.imported, rejected.failed) == (False, 3)
    assert [(e.row, e.column, e.code) for e in rejected.errors] == SKU_ERRORS
    with tsession() as s:
        assert service.list_products(PageParams(), session=s).total == 0  # products rolled back too
        report = service.import_skus(data, filename, session=s, mode=ImportMode.valid_rows)
    assert (report.created, report.failed) == (2, 3)
    with tsession() as s:
        skus = {x.sku_code: x for x in service.list_skus(PageParams(), session=s).items}
        assert set(skus) == {"ICT-500", "OJ-300"}
        assert (skus["ICT-500"].gtin, skus["ICT-500"].list_price_fen) == ("06901234567892", 4500)
        assert (skus["OJ-300"].gtin, skus["OJ-300"].list_price_fen, skus["OJ-300"].product_line) == (
            None,
            103650,
            "果汁",
        )
        assert service.product_lines(session=s) == ["果汁", "茶饮"]
        again = service.import_skus(data, filename, session=s, mode=ImportMode.valid_rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_reimport_updates_by_sku_code_and_fills_an_empty_product_line(tsession: TenantSession) -> None:
    with tsession() as s:
        service.create_product(ProductIn(name="冰红茶"), session=s)
        good = "\n".join(SKU_CSV.splitlines()[:2]) + "\n"
        assert service.import_skus(good.encode(), "a.csv", session=s).created == 1
    with tsession() as s:
        report = service.import_skus(good.replace("￥45.00", "46").encode(), "a.csv", session=s)
        assert report.updated == 1
        sku = service.get_sku_by_code("ICT-500", session=s)
    assert (sku.list_price_fen, sku.product_line) == (4600, "茶饮")


def test_import_endpoint_and_gtin_field_over_http(owner_client: TestClient) -> None:
    rejected = owner_client.post(
        "/api/v1/catalog/skus/import", files={"file": ("skus.csv", SKU_CSV.encode("gbk"))}
    )
    assert rejected.status_code == 422
    assert [(e["row"], e["column"]) for e in rejected.json()["report"]["errors"]] == [
        (r, c) for r, c, _ in SKU_ERRORS
    ]
    ok = owner_client.post(
        "/api/v1/catalog/skus/import", files={"file": ("skus.xlsx", sku_xlsx())}, data={"mode": "valid_rows"}
    )
    assert (ok.status_code, ok.json()["created"]) == (200, 2)
    product_id = owner_client.get("/api/v1/catalog/products", params={"q": "冰红茶"}).json()["items"][0]["id"]
    bad = owner_client.post(
        "/api/v1/catalog/skus",
        json={
            "product_id": product_id,
            "sku_code": "ICT-2L",
            "name": "冰红茶 2L",
            "gtin": "6901234567891",
            "list_price": "9.9",
        },
    )
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (422, "invalid_gtin", "gtin")
    assert bad.json()["detail"].endswith("ends in 1, expected 2")
    created = owner_client.post(
        "/api/v1/catalog/skus",
        json={
            "product_id": product_id,
            "sku_code": "ICT-2L",
            "name": "冰红茶 2L",
            "gtin": "6901234567908",
            "list_price": 9.9,
        },
    )
    assert created.status_code == 201, created.text
    assert (created.json()["list_price"], created.json()["gtin"]) == ("9.90", "06901234567908")
    found = owner_client.get("/api/v1/catalog/skus/by-gtin/6901234567908").json()
    assert found["sku_code"] == "ICT-2L"
    patched = owner_client.patch(f"/api/v1/catalog/skus/{found['id']}", json={"list_price": "10.5"})
    assert patched.json()["list_price"] == "10.50"
    listed = owner_client.get("/api/v1/catalog/skus", params={"line": "茶饮"}).json()
    assert [x["sku_code"] for x in listed["items"]] == ["ICT-2L", "ICT-500"]


def test_partners_read_the_catalog_and_other_tenants_get_404(
    app: FastAPI, owner_client: TestClient, auth_headers: AuthHeaders, other_tenant: TenantOut
) -> None:
    product = owner_client.post("/api/v1/catalog/products", json={"name": "冰红茶", "line": "茶饮"}).json()
    store = owner_client.post(
        "/api/v1/network/organizations",
        json={"kind": "distributor", "code": "D-1", "name": "经销商", "division_code": "440305"},
    ).json()
    with TestClient(app, headers=auth_headers("partner", org_id=store["id"])) as partner:
        assert partner.get(f"/api/v1/catalog/products/{product['id']}").status_code == 200
        assert partner.post("/api/v1/catalog/products", json={"name": "x"}).status_code == 403
    with TestClient(app, headers=auth_headers("owner", other_tenant)) as other:
        assert other.get(f"/api/v1/catalog/products/{product['id']}").status_code == 404
        assert other.patch(f"/api/v1/catalog/products/{product['id']}", json={"name": "y"}).status_code == 404


@pytest.fixture
def cli_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_catalog_import_command(
    cli_db: Database, tenant: TenantOut, tsession: TenantSession, tmp_path: Path
) -> None:
    path = tmp_path / "skus.csv"
    path.write_bytes(SKU_CSV.encode("gbk"))
    result = CliRunner().invoke(catalog_cli, ["import", str(path), "--tenant", tenant.slug])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1] == "nothing was written: 3 of 5 rows are invalid"
    assert lines[2].startswith("row 3, column 条码 (value '6901234567891'): wrong GTIN check digit")
    partial = CliRunner().invoke(
        catalog_cli, ["import", str(path), "--tenant", tenant.slug, "--mode", "valid_rows"]
    )
    assert partial.exit_code == 1
    assert "created: 2" in partial.stdout
    with tsession() as s:
        assert service.list_skus(PageParams(), session=s).total == 2
