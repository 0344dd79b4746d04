"""The console's segment pages (live count while editing, validation naming the JSON path, empty
states, search, detail with members and export) and the profile page's traits, tags, consent and
deletion, in both languages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.core.events import flush_outbox
from bcone.core.settings import Settings
from bcone.core.warehouse import open_warehouse
from bcone.iam.schemas import TenantOut
from tests.fixtures_iam import ConsoleLogin, MakeUser

TS = "2026-11-20T10:00:00+08:00"


def _buyers(client: TestClient, csrf: str, db: Database, settings: Settings) -> list[str]:
    events = [
        {
            "event_id": f"w{n}",
            "type": "order.paid",
            "ts": TS,
            "amount": 1000 * (n + 1),
            "region": "330106",
            "identities": [{"namespace": "phone", "value": f"1380013800{n}"}],
            "properties": {"order_id": f"T{n}"},
        }
        for n in range(3)
    ]
    resp = client.post("/api/v1/cdp/events", headers={"X-CSRF-Token": csrf}, json={"events": events})
    assert resp.status_code == 200, resp.text
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh)
    return [r["profile_id"] for r in resp.json()["results"]]


def test_segments_page_counts_live_validates_and_saves(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, db: Database, settings: Settings
) -> None:
    csrf = console_login(client, make_user("marketer").email)
    empty = client.get("/cdp/segments")
    assert empty.status_code == 200
    assert "还没有人群" in empty.text
    assert 'href="/cdp/segments"' in empty.text
    profiles = _buyers(client, csrf, db, settings)

    live = client.post(
        "/cdp/segments/preview",
        data={"rule": '{"all": [{"event": "order.paid"}, {"region": "33"}]}', "csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert live.status_code == 200
    assert "<html" not in live.text
    assert "符合条件：3 人" in live.text
    wrong = client.post(
        "/cdp/segments/preview",
        data={"rule": '{"all": [{"event": "order.paid", "days": 0}]}', "csrf_token": csrf},
        headers={"HX-Request": "true"},
    )
    assert "rule.all[0].days" in wrong.text
    broken = client.post("/cdp/segments/preview", data={"rule": "{all", "csrf_token": csrf})
    assert "not JSON" in broken.text
    idle = client.post("/cdp/segments/preview", data={"rule": " ", "csrf_token": csrf})
    assert "输入规则后显示人数" in idle.text

    refused = client.post(
        "/cdp/segments", data={"name": "x", "rule": '{"tag": ""}', "kind": "dynamic", "csrf_token": csrf}
    )
    assert refused.status_code == 422
    assert "rule.tag" in refused.text
    assert 'value="x"' in refused.text  # the form keeps what was typed
    saved = client.post(
        "/cdp/segments",
        data={
            "name": "杭州买家",
            "rule": '{"all": [{"event": "order.paid"}, {"region": "3301"}]}',
            "kind": "dynamic",
            "purpose": "",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    detail = client.get(saved.headers["location"])
    assert "已保存人群" in detail.text
    assert "杭州买家" in detail.text
    assert sorted(re.findall(r'href="/cdp/profiles/([0-9a-f-]+)"', detail.text)) == sorted(profiles)
    assert "/export.csv" in detail.text
    listed = client.get(
        "/cdp/segments", params={"q": "杭州"}, headers={"HX-Request": "true", "HX-Target": "segment-results"}
    )
    assert "杭州买家" in listed.text
    assert "<html" not in listed.text
    assert "没有符合条件的人群" in client.get("/cdp/segments", params={"q": "zzz"}).text
    segment_id = saved.headers["location"].rsplit("/", 1)[1]
    frozen = client.post(
        f"/cdp/segments/{segment_id}/snapshot", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "已固化当前成员" in frozen.text
    assert "静态" in frozen.text
    client.cookies.set("bcone_locale", "en")
    english = client.get("/cdp/segments")
    assert "Segments" in english.text
    assert "Live count" in english.text
    gone = client.post(f"/cdp/segments/{segment_id}/delete", data={"csrf_token": csrf}, follow_redirects=True)
    assert "The segment was deleted." in gone.text


def test_profile_page_shows_traits_tags_consent_and_erases(
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    db: Database,
    settings: Settings,
    tenant: TenantOut,
) -> None:
    csrf = console_login(client, make_user("owner").email)
    profile_id = _buyers(client, csrf, db, settings)[0]
    from bcone.cdp import service

    with open_warehouse(settings) as wh, db.session(tenant_id=tenant.id) as s:
        service.refresh_traits(session=s, warehouse=wh)
    page = client.get(f"/cdp/profiles/{profile_id}")
    assert page.status_code == 200
    assert 'id="trait-orders">1<' in page.text
    assert "¥10.00" in page.text
    assert "没有标签" in page.text
    tagged = client.post(
        f"/cdp/profiles/{profile_id}/tags", data={"name": "VIP", "csrf_token": csrf}, follow_redirects=True
    )
    assert "已添加标签" in tagged.text
    assert "VIP" in tagged.text
    consent = client.post(
        f"/cdp/profiles/{profile_id}/consents",
        data={"purpose": "marketing_sms", "granted": "true", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert "已记录" in consent.text
    assert re.search(r'id="consent-marketing_sms">.*?已同意', consent.text, re.S)
    untagged = client.post(
        f"/cdp/profiles/{profile_id}/tags",
        data={"name": "VIP", "remove": "1", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert "已移除标签" in untagged.text
    assert "导出个人数据" in untagged.text
    erased = client.post(
        f"/cdp/profiles/{profile_id}/deletion", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert "删除请求已提交" in erased.text
    client.cookies.set("bcone_locale", "en")
    other = client.get(f"/cdp/profiles/{_buyers(client, csrf, db, settings)[1]}")
    assert "Traits" in other.text
    assert "Consent" in other.text
    assert "Erase this consumer" in other.text


def test_a_marketer_cannot_erase_from_the_page(
    client: TestClient, make_user: MakeUser, console_login: ConsoleLogin, db: Database, settings: Settings
) -> None:
    csrf = console_login(client, make_user("marketer").email)
    profile_id = _buyers(client, csrf, db, settings)[0]
    page = client.get(f"/cdp/profiles/{profile_id}")
    assert "delete-profile" not in page.text
    assert client.post(f"/cdp/profiles/{profile_id}/deletion", data={"csrf_token": csrf}).status_code == 403
