"""The scan page's survey link (a tenant setting, filled per scan) and the console settings form."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from bcone.codes import service
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from tests.codes.conftest import MakeBatch, TenantSession
from tests.codes.test_packing import make_orgs, serials_of
from tests.fixtures_iam import ConsoleLogin, MakeUser


def test_survey_link_with_the_scan_filled_in(
    db: Database,
    tenant: TenantOut,
    secret: str,
    owner_client: TestClient,
    client: TestClient,
    make_batch: MakeBatch,
    first_urls: Any,
    tenant_session: TenantSession,
) -> None:
    batch = make_batch(count=3)
    paths = [urlsplit(u).path for u in first_urls(batch, 3)]
    nothing = client.get(paths[0], headers={"Accept": "application/json"})
    assert "survey_url" not in nothing.json()
    bad = owner_client.patch("/api/v1/codes/settings", json={"nps_survey_url": "/nps/{survey}/x"})
    assert bad.status_code == 422
    assert bad.json()["field"] == "nps_survey_url"
    bad = owner_client.patch("/api/v1/codes/settings", json={"nps_survey_url": "javascript:alert(1)"})
    assert bad.status_code == 422
    saved = owner_client.patch("/api/v1/codes/settings", json={"nps_survey_url": "/nps/S1"})
    assert saved.json()["nps_survey_url"] == "/nps/S1"
    gd, _, _ = make_orgs(db, tenant)
    serial = serials_of(db, tenant, secret, batch, 2)[1]
    with tenant_session() as s:
        service.commission([serial], session=s, secret_key=secret)
        service.ship([serial], gd, session=s, secret_key=secret)
    answer = client.get(paths[1], params={"region": "440305"}, headers={"Accept": "application/json"}).json()
    link = urlsplit(answer["survey_url"])
    assert link.path == "/nps/S1"
    assert parse_qs(link.query) == {
        "org_id": [gd],
        "sku": ["ICT-500"],
        "region": ["440305"],
        "serial": [serial],
    }
    page = client.get(paths[1])
    assert 'id="survey"' in page.text
    owner_client.patch(
        "/api/v1/codes/settings", json={"nps_survey_url": "https://survey.example/s/{sku}?code={serial}"}
    )
    answer = client.get(paths[2], headers={"Accept": "application/json"}).json()
    assert answer["survey_url"] == f"https://survey.example/s/ICT-500?code={answer['serial']}"
    owner_client.patch("/api/v1/codes/settings", json={"nps_survey_url": ""})
    assert "survey_url" not in client.get(paths[2], headers={"Accept": "application/json"}).json()


def test_console_settings_save_survey_and_wechat(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin
) -> None:
    token = console_login(client, make_user(role="owner").email)
    page = client.get("/codes/settings")
    assert 'name="nps_survey_url"' in page.text
    assert 'name="wechat_appid"' in page.text
    form = {"csrf_token": token, "resolver_host": "id.example.com", "warn_threshold": "5"}
    bad = client.post("/codes/settings", data={**form, "nps_survey_url": "/nps/{nope}"})
    assert bad.status_code == 422
    ok = client.post(
        "/codes/settings",
        data={**form, "nps_survey_url": "/nps/S2", "wechat_appid": "wx0123456789", "wechat_secret": "abc123"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    saved = client.get("/codes/settings")
    assert 'value="/nps/S2"' in saved.text
    assert 'value="wx0123456789"' in saved.text
    assert "abc123" not in saved.text
