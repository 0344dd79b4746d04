"""The network's console pages: lists, live search, forms with inline errors, imports, scoping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bcone.network.schemas import OrganizationOut
from tests.fixtures_iam import ConsoleLogin, MakeUser
from tests.network.test_imports import ORG_CSV

Network = dict[str, OrganizationOut]
HTMX = {"HX-Request": "true", "HX-Target": "org-results"}


def _login(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, role: str = "owner", **kw: str
) -> str:
    user = make_user(role, **kw)
    return console_login(client, user.email)


def _store_form(csrf: str, **kw: str) -> dict[str, str]:
    form = {
        "csrf_token": csrf,
        "kind": "store",
        "code": "S-WEB",
        "name": "网页新店",
        "parent_id": "D-GD",
        "division_code": "深圳市 南山区",
        "address": "南山大道 100 号",
        "lng": "",
        "lat": "",
        "contact_name": "周杰",
        "contact_phone": "0755 2600 9999",
    }
    form.update(kw)
    return form


def test_anonymous_visitors_are_sent_to_login(client: TestClient) -> None:
    resp = client.get("/network", follow_redirects=False, headers={"Accept": "text/html"})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login?next=%2Fnetwork"


def test_empty_network_invites_to_add_or_import(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    _login(client, make_user, console_login)
    page = client.get("/network")
    assert page.status_code == 200
    assert "还没有渠道组织" in page.text
    assert 'href="/network/organizations/new?kind=distributor"' in page.text
    assert 'href="/network/import"' in page.text


def test_list_search_reloads_only_the_table(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, network: Network
) -> None:
    _login(client, make_user, console_login)
    page = client.get("/network")
    assert page.text.count('<tr id="org-') == 6
    assert 'hx-target="#org-results"' in page.text
    partial = client.get("/network", params={"q": "南山"}, headers=HTMX)
    assert "<html" not in partial.text
    assert re.findall(r'data-code="([^"]+)"', partial.text) == ["S-NS1", "W-SZ"]
    by_region = client.get("/network", params={"division": "北京市", "kind": "store"}, headers=HTMX)
    assert re.findall(r'data-code="([^"]+)"', by_region.text) == ["S-CY1"]
    nothing = client.get("/network", params={"q": "不存在"}, headers=HTMX)
    assert "没有符合条件的组织" in nothing.text
    client.cookies.set("bcone_locale", "en")
    english = client.get("/network", params={"q": "nothing"}, headers=HTMX)
    assert "No organisation matches" in english.text


def test_create_a_store_through_the_form(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, network: Network
) -> None:
    csrf = _login(client, make_user, console_login)
    form = client.get("/network/organizations/new?kind=store")
    for name in (
        "kind",
        "code",
        "name",
        "parent_id",
        "division_code",
        "address",
        "lng",
        "lat",
        "contact_name",
        "contact_phone",
    ):
        assert f'name="{name}"' in form.text
    assert 'id="save"' in form.text
    resp = client.post("/network/organizations/new", data=_store_form(csrf), follow_redirects=False)
    assert resp.status_code == 303, resp.text
    edit = client.get(resp.headers["location"])
    assert "已创建 网页新店" in edit.text
    assert 'value="S-WEB"' in edit.text
    assert 'value="0755-26009999"' in edit.text
    listed = client.get("/network", params={"q": "S-WEB"}, headers=HTMX)
    assert "广东省 深圳市 南山区" in listed.text
    assert "深圳南山二批" not in listed.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"division_code": "999999"}, "division_code", "未知的行政区划代码"),
        ({"division_code": "朝阳区"}, "division_code", "有多个同名区划"),
        ({"parent_id": "S-NS1"}, "parent_id", "上级组织不符合层级"),
        ({"contact_phone": "12345"}, "contact_phone", "电话号码格式不正确"),
        ({"lng": "abc"}, "lng", "请输入数字"),
        ({"lng": "2.35", "lat": "48.85"}, "lng", "经纬度不合理"),
        ({"code": "S-NS1"}, "code", "该编码已被使用"),
    ],
)
def test_form_errors_show_next_to_their_field(
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    network: Network,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    csrf = _login(client, make_user, console_login)
    resp = client.post("/network/organizations/new", data=_store_form(csrf, **changes))
    assert resp.status_code == 422
    error = re.search(rf'id="f-{field}-error">.*?<span>(.*?)</span>', resp.text, re.S)
    assert error is not None, resp.text
    assert message in error.group(1)
    assert 'value="网页新店"' in resp.text  # what was typed is kept


def test_edit_keeps_an_approximate_location_approximate(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, network: Network
) -> None:
    csrf = _login(client, make_user, console_login)
    org = network["S-NS1"]
    page = client.get(f"/network/organizations/{org.id}")
    # The division centre is not shown as if someone had measured it.
    assert re.search(r'<input [^>]*name="lng"[^>]* value="">', page.text)
    form = _store_form(csrf, code="S-NS1", name="南山好又多(改)", parent_id="W-SZ", division_code="440305")
    resp = client.post(f"/network/organizations/{org.id}", data=form, follow_redirects=False)
    assert resp.status_code == 303
    listed = client.get("/api/v1/network/organizations/" + org.id, headers={"X-CSRF-Token": csrf}).json()
    assert (listed["name"], listed["location_approximate"]) == ("南山好又多(改)", True)


def test_partner_sees_its_subtree_and_no_forms(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, network: Network
) -> None:
    _login(client, make_user, console_login, role="partner", org_id=network["W-SZ"].id)
    page = client.get("/network")
    assert re.findall(r'data-code="([^"]+)"', page.text) == ["S-NS1", "W-SZ"]
    assert "/network/organizations/new" not in page.text
    assert client.get("/network/organizations/new").status_code == 403
    assert client.get(f"/network/organizations/{network['S-NS1'].id}").status_code == 403


def test_pickers_suggest_divisions_and_parents(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, network: Network
) -> None:
    _login(client, make_user, console_login)
    divisions = client.get("/network/divisions", params={"division_code": "南山"})
    assert '<option value="440305">广东省 深圳市 南山区</option>' in divisions.text
    parents = client.get(
        "/network/organizations-options", params={"kind": "distributor,wholesaler", "parent_id": "深圳"}
    )
    assert re.findall(r'value="([^"]+)"', parents.text) == ["W-SZ"]


def test_import_page_shows_the_error_report_as_a_table(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    csrf = _login(client, make_user, console_login)
    page = client.get("/network/import")
    assert 'name="file"' in page.text
    assert 'value="all_or_nothing"' in page.text
    resp = client.post(
        "/network/import",
        data={"csrf_token": csrf, "what": "organizations", "mode": "all_or_nothing"},
        files={"file": ("网点.csv", ORG_CSV.encode("gbk"), "text/csv")},
    )
    assert resp.status_code == 422
    table = resp.text[resp.text.index('id="import-errors"') :]
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<td>([^<]*)</td>', table)
    assert rows == [("5", "行政区划代码"), ("6", "联系电话"), ("7", "上级编码")]
    assert "未写入任何数据" in resp.text
    ok = client.post(
        "/network/import",
        data={"csrf_token": csrf, "what": "organizations", "mode": "valid_rows"},
        files={"file": ("网点.csv", ORG_CSV.encode("gbk"), "text/csv")},
    )
    assert ok.status_code == 200
    assert re.search(r'id="report-created">3<', ok.text)
    bad = client.post(
        "/network/import",
        data={"csrf_token": csrf},
        files={"file": ("x.pdf", b"%PDF-1.4", "application/pdf")},
    )
    assert bad.status_code == 422
    assert "x.pdf: not a CSV or XLSX file" in bad.text
    template = client.get("/network/import/template-staff.csv")
    assert template.content.decode("utf-8-sig").startswith("类型,工号,姓名,手机号")


def test_staff_pages(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, network: Network
) -> None:
    csrf = _login(client, make_user, console_login)
    assert "还没有人员" in client.get("/network/staff").text
    form = {
        "csrf_token": csrf,
        "kind": "shop_assistant",
        "name": "李娜",
        "phone": "13700137000",
        "employee_code": "A-1",
        "org_code": "D-GD",
        "assigned_org_codes": "",
        "status": "active",
    }
    refused = client.post("/network/staff/new", data=form)
    assert refused.status_code == 422
    assert 'id="f-org_code-error"' in refused.text
    created = client.post("/network/staff/new", data={**form, "org_code": "S-NS1"}, follow_redirects=False)
    assert created.status_code == 303
    listed = client.get(
        "/network/staff", params={"q": "李"}, headers={"HX-Request": "true", "HX-Target": "staff-results"}
    )
    assert re.findall(r'data-code="([^"]+)"', listed.text) == ["A-1"]
    assert "南山好又多便利店" in listed.text


def test_every_message_of_the_pages_exists_in_both_languages() -> None:
    import bcone.network.web
    from bcone.web.i18n import registered_keys

    root = Path(bcone.network.__file__).parent / "templates"
    core = Path(bcone.core.__file__).parent / "templates"
    used = {
        k
        for f in [*root.rglob("*.html"), *core.rglob("*.html")]
        for k in re.findall(r'(?<![\w.])t\("([\w.]+\w)"', f.read_text())
    }
    used |= {f"network.kind.{k}" for k in ("distributor", "wholesaler", "store")}
    used |= {f"network.status.{s}" for s in ("active", "suspended", "closed")}
    used |= {f"network.staff.kind.{k}" for k in ("sales_rep", "shop_assistant", "koc")}
    used |= {f"import.mode.{m}{h}" for m in ("all_or_nothing", "valid_rows") for h in ("", "_hint")}
    for locale in ("zh-CN", "en"):
        assert used - registered_keys(locale) == set(), locale
