"""The consumer pages: list with live search, detail with masked identifiers, events, audit,
unlink from the page, both languages, roles, the nav entry."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bcone.cdp.messages import CDP_MESSAGES
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.fixtures_iam import ConsoleLogin, MakeUser

TS = "2026-11-20T10:00:00+08:00"


def _events(client: TestClient, csrf: str, org_id: str | None = None) -> str:
    first = client.post(
        "/api/v1/cdp/events",
        headers={"X-CSRF-Token": csrf},
        json={
            "events": [
                {
                    "event_id": "w1",
                    "type": "store.visited",
                    "ts": TS,
                    "org_id": org_id or "S-X",
                    "identities": [
                        {"namespace": "phone", "value": "13800138000"},
                        {"namespace": "wechat_openid:wx1", "value": "o-1"},
                    ],
                },
                {
                    "event_id": "w2",
                    "type": "order.paid",
                    "ts": TS,
                    "amount": 12_345,
                    "properties": {"order_id": "A1"},
                    "identities": [{"namespace": "tmall_ouid", "value": "t-1"}],
                },
            ]
        },
    )
    assert first.status_code == 200, first.text
    second = client.post(
        "/api/v1/cdp/events",
        headers={"X-CSRF-Token": csrf},
        json={
            "events": [
                {
                    "event_id": "w3",
                    "type": "profile.identified",
                    "ts": TS,
                    "identities": [
                        {"namespace": "tmall_ouid", "value": "t-1"},
                        {"namespace": "phone", "value": "13800138000"},
                    ],
                }
            ]
        },
    )
    profile_id: str = second.json()["results"][0]["profile_id"]
    return profile_id


def test_profiles_list_search_detail_and_unlink(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, db: Database, tenant: TenantOut
) -> None:
    owner = make_user("owner")
    csrf = console_login(client, owner.email)
    empty = client.get("/cdp/profiles")
    assert empty.status_code == 200
    assert "还没有消费者档案" in empty.text
    assert 'href="/cdp/profiles"' in empty.text  # the nav entry
    with db.session(tenant_id=tenant.id) as s:
        store = network.create_organization(
            OrganizationIn(kind="distributor", code="D-9", name="静安店", division_code="310106"), session=s
        )
    profile_id = _events(client, csrf, store.id)
    page = client.get("/cdp/profiles")
    assert f'href="/cdp/profiles/{profile_id}"' in page.text
    assert "138****8000" in page.text
    found = client.get(
        "/cdp/profiles",
        params={"q": "138 0013 8000"},
        headers={"HX-Request": "true", "HX-Target": "profile-results"},
    )
    assert found.status_code == 200
    assert "<html" not in found.text
    assert profile_id in found.text
    none = client.get("/cdp/profiles", params={"q": "13900000000"})
    assert "没有符合条件的档案" in none.text
    detail = client.get(f"/cdp/profiles/{profile_id}")
    assert detail.status_code == 200
    assert "138****8000" in detail.text
    assert "13800138000" not in detail.text
    assert "静安店" in detail.text
    assert "¥123.45" in detail.text
    assert "支付订单" in detail.text
    assert "合并" in detail.text  # the merge made by w3 is in the audit
    seq = re.findall(r'id="link-(\d+)"', detail.text)[0]
    done = client.post(
        f"/cdp/profiles/{profile_id}/links/{seq}/unlink", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "已解除关联。" in after.text
    assert "已解除" in after.text
    client.cookies.set("bcone_locale", "en")
    english = client.get(f"/cdp/profiles/{profile_id}")
    assert "Identifiers" in english.text
    assert "Merge audit" in english.text


def test_roles_on_the_pages(client: TestClient, make_user: MakeUser, console_login: ConsoleLogin) -> None:
    marketer = make_user("marketer")
    csrf = console_login(client, marketer.email)
    profile_id = _events(client, csrf)
    detail = client.get(f"/cdp/profiles/{profile_id}")
    assert detail.status_code == 200
    assert "/unlink" not in detail.text
    assert (
        client.post(f"/cdp/profiles/{profile_id}/links/1/unlink", data={"csrf_token": csrf}).status_code
        == 403
    )
    analyst = make_user("analyst")
    with TestClient(client.app) as other:
        console_login(other, analyst.email)
        assert other.get("/cdp/profiles").status_code == 403
        assert other.get("/cdp/profiles/nope").status_code == 403


def test_every_message_has_both_languages() -> None:
    for key, (zh, en) in CDP_MESSAGES.items():
        assert zh.strip(), key
        assert en.strip(), key
