"""The codes API, the printed URL (scan page and JSON) and the console pages."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from bcone.catalog.schemas import SkuOut
from bcone.codes import service
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import GTIN14
from tests.fixtures_iam import AuthHeaders, ConsoleLogin, MakeUser

JSON = {"Accept": "application/json"}


def _create(client: TestClient, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {"sku_code": "ICT-500", "count": 20, "lot": "L1", "expiry_date": "2027-12-31"}
    body.update(fields)
    resp = client.post("/api/v1/codes/batches", json=body)
    assert resp.status_code == 201, resp.text
    data: dict[str, object] = resp.json()
    return data


def _urls(client: TestClient, batch_id: object) -> list[str]:
    resp = client.get(f"/api/v1/codes/batches/{batch_id}/export", params={"format": "txt"})
    assert resp.status_code == 200, resp.text
    lines: list[str] = resp.text.splitlines()
    return lines


def _path(url: str) -> str:
    """The path and query of a printed URL (the test client talks to the app, not the host)."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_batches_through_the_api(owner_client: TestClient, skus: list[SkuOut]) -> None:
    batch = _create(owner_client, regions=["310000"])
    assert (batch["count"], batch["gtin"], batch["status"]) == (20, GTIN14, "active")
    listed = owner_client.get("/api/v1/codes/batches").json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == batch["id"]
    assert owner_client.get(f"/api/v1/codes/batches/{batch['id']}").json()["lot"] == "L1"
    csv = owner_client.get(f"/api/v1/codes/batches/{batch['id']}/export")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert lines[0] == "serial,url"
    assert len(lines) == 21
    assert lines[1].endswith("?10=L1&17=271231")
    qr = owner_client.get(f"/api/v1/codes/batches/{batch['id']}/qr.zip", params={"format": "png"})
    assert qr.status_code == 200
    assert len(zipfile.ZipFile(io.BytesIO(qr.content)).namelist()) == 20
    voided = owner_client.post(f"/api/v1/codes/batches/{batch['id']}/void", json={"reason": "leak"})
    assert voided.json()["status"] == "voided"
    again = owner_client.post(f"/api/v1/codes/batches/{batch['id']}/void", json={})
    assert (again.status_code, again.json()["code"]) == (409, "code_batch_voided")


def test_bad_requests_are_problems_naming_the_field(owner_client: TestClient, skus: list[SkuOut]) -> None:
    cases = [
        ({"sku_code": "NO-GTIN", "count": 1}, 422, "sku_without_gtin", "sku_id"),
        ({"sku_code": "ICT-500", "count": 0}, 422, "validation_failed", "count"),
        ({"sku_code": "ICT-500", "count": 1, "regions": ["999999"]}, 422, "unknown_division", "regions[0]"),
        ({"sku_code": "NOPE", "count": 1}, 422, "unknown_sku", "sku_code"),
    ]
    for body, status, code, field in cases:
        resp = owner_client.post("/api/v1/codes/batches", json=body)
        assert resp.status_code == status, resp.text
        assert resp.headers["content-type"] == "application/problem+json"
        assert (resp.json()["code"], resp.json()["field"]) == (code, field)
    big = _create(owner_client, count=5000)
    too_many = owner_client.get(f"/api/v1/codes/batches/{big['id']}/qr.zip")
    assert (too_many.status_code, too_many.json()["code"]) == (422, "too_many_qr_codes")
    sample = owner_client.get(f"/api/v1/codes/batches/{big['id']}/qr.zip", params={"sample": 3})
    assert len(zipfile.ZipFile(io.BytesIO(sample.content)).namelist()) == 3
    assert owner_client.get("/api/v1/codes/batches/nope").status_code == 404
    assert (
        owner_client.get("/api/v1/codes/lookup", params={"code": "https://x/01/06901234567893/21/A"}).json()[
            "field"
        ]
        == "gtin"
    )


def test_roles(
    app: object, owner_client: TestClient, auth_headers: AuthHeaders, skus: list[SkuOut], client: TestClient
) -> None:
    batch = _create(owner_client)
    analyst = auth_headers("analyst")
    assert client.get("/api/v1/codes/batches", headers=analyst).status_code == 200
    assert (
        client.post(
            "/api/v1/codes/batches", json={"sku_code": "ICT-500", "count": 1}, headers=analyst
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/codes/batches/{batch['id']}/export", headers=analyst).status_code == 403
    marketer = auth_headers("marketer")
    assert client.post("/api/v1/codes/keys/rotate", headers=marketer).status_code == 403
    assert client.get("/api/v1/codes/batches").status_code == 401


def test_settings_and_rotation(owner_client: TestClient, skus: list[SkuOut]) -> None:
    assert owner_client.get("/api/v1/codes/settings").json()["resolver_host"] == service.DEFAULT_RESOLVER_HOST
    bad = owner_client.patch("/api/v1/codes/settings", json={"resolver_host": "not a host/"})
    assert (bad.status_code, bad.json()["field"]) == (422, "resolver_host")
    changed = owner_client.patch(
        "/api/v1/codes/settings", json={"resolver_host": "qr.acme.cn", "warn_threshold": 3}
    )
    assert changed.json()["warn_threshold"] == 3
    rotated = owner_client.post("/api/v1/codes/keys/rotate")
    assert (rotated.status_code, rotated.json()["version"]) == (201, 1)
    batch = _create(owner_client, count=1)
    assert batch["key_version"] == 1
    assert _urls(owner_client, batch["id"])[0].startswith("https://qr.acme.cn/01/")


def test_the_printed_url_answers_phones_and_apps(
    owner_client: TestClient, client: TestClient, skus: list[SkuOut]
) -> None:
    batch = _create(owner_client)
    url = _urls(owner_client, batch["id"])[0]
    path = _path(url)
    page = client.get(path, params={"lat": 31.2304, "lng": 121.4737}, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-verdict="genuine"' in page.text
    assert "正品" in page.text
    assert "冰红茶 500ml" in page.text
    app_answer = client.get(path, headers=JSON).json()
    assert (app_answer["verdict"], app_answer["check_count"], app_answer["first_region"]) == (
        "checked_before",
        2,
        "310101",
    )
    assert app_answer["product"]["specification"] == "500ml×15"
    english = client.get(path, headers={"Accept-Language": "en"})
    assert "Genuine (checked before)" in english.text
    assert "checked 3 times" in english.text
    for _ in range(3):
        client.get(path, headers=JSON)
    warned = client.get(path, headers={"Accept-Language": "en"})
    assert 'data-verdict="suspicious"' in warned.text
    assert "Possible counterfeit" in warned.text
    serial = path.rsplit("/", 1)[1].split("?")[0]
    forged_path = path.replace(serial, serial[:-3] + ("AAA" if serial[-3:] != "AAA" else "BBB"))
    forged = client.get(forged_path, headers=JSON)
    assert forged.status_code == 404
    assert forged.headers["content-type"] == "application/problem+json"
    assert (forged.json()["code"], forged.json()["verdict"]) == ("code_not_genuine", "forged")
    forged_page = client.get(forged_path, headers={"Accept-Language": "zh-CN"})
    assert forged_page.status_code == 404
    assert "非正品码" in forged_page.text
    wrong_digit = client.get(f"/01/06901234567893/21/{serial}", headers=JSON)
    assert (wrong_digit.status_code, wrong_digit.json()["field"]) == (422, "gtin")
    bad_location = client.get(path, params={"lat": 95, "lng": 0}, headers=JSON)
    assert (bad_location.status_code, bad_location.json()["field"]) == (422, "lat")
    bad_region = client.get(path, params={"region": "999999"}, headers=JSON)
    assert (bad_region.status_code, bad_region.json()["field"]) == (422, "region")
    looked_up = owner_client.get("/api/v1/codes/lookup", params={"code": url}).json()
    assert looked_up["check_count"] == 7
    assert len(looked_up["checks"]) == 7


def test_console_pages(
    app: object,
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    skus: list[SkuOut],
    tenant: TenantOut,
) -> None:
    user = make_user("marketer")
    token = console_login(client, user.email)
    empty = client.get("/codes")
    assert empty.status_code == 200
    assert 'id="batch-form"' in empty.text
    assert 'href="/codes"' in empty.text
    blank = client.post("/codes/batches", data={"sku_code": "", "count": "x", "csrf_token": token})
    assert blank.status_code == 422
    assert 'id="f-sku_code-error"' in blank.text
    assert 'id="f-count-error"' in blank.text
    bad = client.post("/codes/batches", data={"sku_code": "NO-GTIN", "count": "5", "csrf_token": token})
    assert bad.status_code == 422
    assert "field-invalid" in bad.text
    created = client.post(
        "/codes/batches",
        data={"sku_code": "ICT-500", "count": "7", "lot": "L9", "regions": "310000", "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    listing = client.get("/codes")
    assert "L9" in listing.text
    assert 'id="batch-table"' in listing.text
    batches = client.get("/api/v1/codes/batches").json()["items"]
    batch_id = batches[0]["id"]
    url = _urls(client, batch_id)[0]
    client.get(_path(url))
    lookup = client.get("/codes/lookup", params={"code": url})
    assert lookup.status_code == 200
    assert 'id="lookup-count">1<' in lookup.text
    unknown = client.get("/codes/lookup", params={"code": "0" * 20})
    assert unknown.status_code == 422
    assert 'id="code-error"' in unknown.text
    voided = client.post(
        f"/codes/batches/{batch_id}/void",
        data={"reason": "leak", "csrf_token": token},
        follow_redirects=False,
    )
    assert voided.status_code == 303
    assert client.get("/api/v1/codes/batches").json()["items"][0]["status"] == "voided"


def test_console_settings(
    app: object, client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, tenant: TenantOut
) -> None:
    owner = make_user("owner")
    token = console_login(client, owner.email)
    page = client.get("/codes/settings")
    assert page.status_code == 200
    assert 'value="id.bcone.dev"' in page.text
    bad = client.post(
        "/codes/settings", data={"resolver_host": "bad host/", "warn_threshold": "0", "csrf_token": token}
    )
    assert bad.status_code == 422
    assert 'id="f-resolver_host-error"' in bad.text
    assert 'id="f-warn_threshold-error"' in bad.text
    saved = client.post(
        "/codes/settings",
        data={"resolver_host": "qr.acme.cn", "warn_threshold": "9", "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    rotated = client.post("/codes/settings/rotate-key", data={"csrf_token": token}, follow_redirects=False)
    assert rotated.status_code == 303
    current = client.get("/api/v1/codes/settings").json()
    assert (current["resolver_host"], current["warn_threshold"], current["key_versions"]) == (
        "qr.acme.cn",
        9,
        [0, 1],
    )


def test_console_settings_are_for_owners_and_admins(
    app: object, client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, tenant: TenantOut
) -> None:
    marketer = make_user("marketer")
    console_login(client, marketer.email)
    assert client.get("/codes/settings").status_code == 403
    assert 'id="codes-settings"' not in client.get("/codes").text
