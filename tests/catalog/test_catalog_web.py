"""The catalog's console pages: lists with live search, forms with inline errors, the import report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.catalog.test_catalog_imports import SKU_CSV
from tests.fixtures_iam import ConsoleLogin, MakeUser


def _login(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, role: str = "owner", **kw: str
) -> str:
    return console_login(client, make_user(role, **kw).email)


def _sku_form(csrf: str, **kw: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "product_name": "冰红茶",
        "sku_code": "ICT-500",
        "gtin": "6901234567892",
        "name": "冰红茶 500ml",
        "specification": "500ml×15",
        "unit": "箱",
        "list_price": "45",
        "status": "active",
    }
    form.update(kw)
    return form


def test_empty_catalog_then_product_and_sku_through_forms(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    csrf = _login(client, make_user, console_login)
    empty = client.get("/catalog")
    assert "还没有商品" in empty.text
    assert 'href="/catalog/import"' in empty.text
    created = client.post(
        "/catalog/products/new",
        data={"csrf_token": csrf, "name": "冰红茶", "line": "茶饮", "description": "", "status": "active"},
        follow_redirects=False,
    )
    assert created.status_code == 303
    assert "已创建 冰红茶" in client.get(created.headers["location"]).text
    sku = client.post("/catalog/skus/new", data=_sku_form(csrf), follow_redirects=False)
    assert sku.status_code == 303, sku.text
    page = client.get(sku.headers["location"])
    assert 'value="06901234567892"' in page.text
    assert 'value="45.00"' in page.text
    listed = client.get(
        "/catalog", params={"q": "500ml"}, headers={"HX-Request": "true", "HX-Target": "sku-results"}
    )
    assert "<html" not in listed.text
    assert re.findall(r'data-code="([^"]+)"', listed.text) == ["ICT-500"]
    assert "¥45.00" in listed.text
    products = client.get("/catalog/products")
    assert re.findall(r'data-name="([^"]+)"', products.text) == ["冰红茶"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"gtin": "6901234567891"}, "gtin", "条码无效"),
        ({"list_price": "4.567"}, "list_price", "最多两位小数"),
        ({"list_price": "-1"}, "list_price", "不小于 0"),
        ({"product_name": "不存在的产品"}, "product_name", "找不到该产品"),
        ({"sku_code": ""}, "sku_code", "必填"),
    ],
)
def test_sku_form_errors_show_next_to_their_field(
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    csrf = _login(client, make_user, console_login)
    client.post(
        "/catalog/products/new",
        data={"csrf_token": csrf, "name": "冰红茶", "line": "", "description": "", "status": "active"},
    )
    resp = client.post("/catalog/skus/new", data=_sku_form(csrf, **changes))
    assert resp.status_code == 422
    error = re.search(rf'id="f-{field}-error">.*?<span>(.*?)</span>', resp.text, re.S)
    assert error is not None, resp.text
    assert message in error.group(1)


def test_english_errors_are_the_precise_ones(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    csrf = _login(client, make_user, console_login)
    client.cookies.set("bcone_locale", "en")
    client.post(
        "/catalog/products/new",
        data={"csrf_token": csrf, "name": "冰红茶", "line": "", "description": "", "status": "active"},
    )
    resp = client.post("/catalog/skus/new", data=_sku_form(csrf, gtin="6901234567891"))
    assert "wrong GTIN check digit: 6901234567891 ends in 1, expected 2" in resp.text


def test_import_page_report_and_partner_read_only(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, db: Database, tenant: TenantOut
) -> None:
    csrf = _login(client, make_user, console_login)
    resp = client.post(
        "/catalog/import",
        data={"csrf_token": csrf, "mode": "all_or_nothing"},
        files={"file": ("skus.csv", SKU_CSV.encode("gbk"), "text/csv")},
    )
    assert resp.status_code == 422
    table = resp.text[resp.text.index('id="import-errors"') :]
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td>([^<]*)</td>', table)
    assert rows == [("3", "条码"), ("5", "产品线"), ("6", "指导价")]
    ok = client.post(
        "/catalog/import",
        data={"csrf_token": csrf, "mode": "valid_rows"},
        files={"file": ("skus.csv", SKU_CSV.encode(), "text/csv")},
    )
    assert ok.status_code == 200
    assert re.search(r'id="report-created">2<', ok.text)
    with db.session(tenant_id=tenant.id) as s:
        org = network.create_organization(
            OrganizationIn(kind="distributor", code="D-1", name="经销商", division_code="440305"), session=s
        )
    partner = TestClient(client.app)
    _login(partner, make_user, console_login, role="partner", org_id=org.id)
    listed = partner.get("/catalog")
    assert re.findall(r'data-code="([^"]+)"', listed.text) == ["ICT-500", "OJ-300"]
    assert "/catalog/skus/new" not in listed.text
    assert partner.get("/catalog/import").status_code == 403


def test_every_message_of_the_pages_exists_in_both_languages() -> None:
    import bcone.catalog.web
    from bcone.web.i18n import registered_keys

    root = Path(bcone.catalog.__file__).parent / "templates"
    used = {k for f in root.rglob("*.html") for k in re.findall(r'(?<![\w.])t\("([\w.]+\w)"', f.read_text())}
    used |= {f"catalog.status.{s}" for s in ("active", "discontinued")}
    for locale in ("zh-CN", "en"):
        assert used - registered_keys(locale) == set(), locale
