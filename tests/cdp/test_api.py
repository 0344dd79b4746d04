"""The CDP's HTTP API: ingestion with per-event errors, idempotency, limits, auth; profiles,
search, detail without raw values, audit, unlink, rebuild, settings."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from bcone.core.db import Database
from bcone.core.events import flush_outbox
from bcone.core.jobs import run_pending
from bcone.core.settings import Settings
from bcone.core.warehouse import open_warehouse
from bcone.iam.schemas import TenantOut
from tests.fixtures_iam import AuthHeaders, ConsoleLogin, MakeUser

BASE = "/api/v1/cdp"
TS = "2026-11-20T10:00:00+08:00"


def event(n: int, kind: str = "page.viewed", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": f"ev-{n}",
        "type": kind,
        "ts": TS,
        "identities": [{"namespace": "wechat_openid:wxapp1", "value": f"o-{n}"}],
        "properties": {"url": "/home"},
    }
    body.update(fields)
    return body


def outbox_rows(db: Database) -> list[Any]:
    with db.engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT event_id, type, profile_id, identities, amount FROM outbox ORDER BY seq")
            )
        )


def test_a_batch_accepts_the_valid_events_and_lists_the_others_by_index(
    owner_client: TestClient, db: Database
) -> None:
    batch = [
        event(
            1,
            identities=[
                {"namespace": "phone", "value": "+86 138-0013-8000"},
                {"namespace": "wechat_openid:wxapp1", "value": "o-1"},
            ],
        ),
        event(
            2,
            "order.paid",
            amount=1999,
            properties={"order_id": "T1001", "channel": "tmall"},
            identities=[
                {"namespace": "tmall_ouid", "value": "ouid-1"},
                {"namespace": "phone", "value": "13800138000"},
            ],
        ),
        event(3, "order.paid", amount=19.99, properties={"order_id": "T1002"}),  # money must be integer fen
        event(4, identities=[{"namespace": "weibo_uid", "value": "x"}]),  # unknown namespace
        event(5, identities=[{"namespace": "phone", "value": "12345"}]),  # not a mobile number
        event(6, "store.visited", properties={}),  # needs the store
        event(7, "coupon.redeemed"),  # unknown type, rejected by default
        event(8, ts="2026-11-20T10:00:00"),  # naive time
        event(1, "page.viewed"),  # the same event_id twice in a batch
        event(9, "share.clicked", properties={"content_id": "poster-1"}),
    ]
    resp = owner_client.post(f"{BASE}/events", json={"events": batch})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["accepted"], body["rejected"]) == (3, 7)
    errors = {e["index"]: e for e in body["errors"]}
    assert errors[2]["field"] == "events[2].amount"
    assert errors[3]["code"] == "unknown_namespace"
    assert "weibo_uid" in errors[3]["message"]
    assert errors[3]["field"] == "events[3].identities[0].namespace"
    assert errors[4]["code"] == "invalid_identifier"
    assert errors[4]["field"] == "events[4].identities[0].value"
    assert errors[5]["field"] == "events[5].org_id"
    assert errors[6]["code"] == "unknown_event_type"
    assert errors[6]["field"] == "events[6].type"
    assert errors[7]["field"] == "events[7].ts"
    assert errors[8]["code"] == "duplicate_event_id"
    results = {r["index"]: r["profile_id"] for r in body["results"]}
    assert results[0] == results[1]  # the phone joined the openid and the Tmall buyer
    rows = outbox_rows(db)
    assert [r.event_id for r in rows] == ["ev-1", "ev-2", "ev-9"]
    assert rows[1].amount == 1999
    assert rows[0].profile_id == results[0]
    assert "13800138000" not in repr(rows)  # the outbox holds the keyed hash, never the phone


def test_a_retried_batch_never_doubles(owner_client: TestClient, db: Database) -> None:
    batch = [event(n, identities=[{"namespace": "email", "value": f"U{n}@Example.com"}]) for n in range(5)]
    first = owner_client.post(f"{BASE}/events", json={"events": batch}).json()
    again = owner_client.post(f"{BASE}/events", json={"events": batch}).json()
    assert first["results"] == again["results"]
    assert len(outbox_rows(db)) == 5
    profiles = owner_client.get(f"{BASE}/profiles").json()
    assert profiles["total"] == 5


def test_limits_and_whole_batch_rejections(owner_client: TestClient, db: Database) -> None:
    too_many = owner_client.post(f"{BASE}/events", json={"events": [event(n) for n in range(1001)]})
    assert too_many.status_code == 413
    assert too_many.headers["content-type"] == "application/problem+json"
    assert too_many.json()["code"] == "batch_too_large"
    assert "1000" in too_many.json()["detail"]
    all_bad = owner_client.post(f"{BASE}/events", json={"events": [event(1, ts="yesterday")]})
    assert all_bad.status_code == 422
    assert all_bad.json()["code"] == "events_rejected"
    assert all_bad.json()["field"] == "events[0].ts"
    assert owner_client.post(f"{BASE}/events", json={"items": []}).status_code == 422
    assert outbox_rows(db) == []


def test_unknown_event_types_are_kept_when_the_tenant_says_so(owner_client: TestClient, db: Database) -> None:
    assert (
        owner_client.post(f"{BASE}/events", json={"events": [event(1, "coupon.redeemed")]}).status_code == 422
    )
    put = owner_client.put(f"{BASE}/settings", json={"unknown_event_types": "keep"})
    assert put.status_code == 200
    assert put.json()["unknown_event_types"] == "keep"
    kept = owner_client.post(
        f"{BASE}/events", json={"events": [event(1, "coupon.redeemed", properties={"x": 1})]}
    )
    assert kept.status_code == 200
    assert kept.json()["accepted"] == 1
    bad = owner_client.put(f"{BASE}/settings", json={"attach_only": ["device", "fax"]})
    assert bad.status_code == 422
    assert bad.json()["field"] == "attach_only.1"


def test_who_may_send_events(
    app: FastAPI,
    auth_headers: AuthHeaders,
    tenant: TenantOut,
    make_user: MakeUser,
    console_login: ConsoleLogin,
) -> None:
    batch = {"events": [event(1)]}
    with TestClient(app) as c:
        assert c.post(f"{BASE}/events", json=batch).status_code == 401
        assert c.post(f"{BASE}/events", json=batch, headers=auth_headers("analyst")).status_code == 403
        assert c.post(f"{BASE}/events", json=batch, headers=auth_headers("marketer")).status_code == 200
    marketer = make_user("marketer")
    with TestClient(app) as c:
        token = console_login(c, marketer.email)
        assert c.post(f"{BASE}/events", json={"events": [event(2)]}).status_code == 403  # no CSRF token
        ok = c.post(f"{BASE}/events", json={"events": [event(2)]}, headers={"X-CSRF-Token": token})
        assert ok.status_code == 200
        assert ok.json()["accepted"] == 1
        assert c.post(f"{BASE}/rebuild", headers={"X-CSRF-Token": token}).status_code == 403  # admins only


def test_profiles_search_detail_audit_unlink_and_rebuild(
    owner_client: TestClient,
    db: Database,
    settings: Settings,
    tenant: TenantOut,
    other_tenant: TenantOut,
    auth_headers: AuthHeaders,
) -> None:
    owner_client.post(
        f"{BASE}/events",
        json={
            "events": [
                event(
                    1,
                    identities=[
                        {"namespace": "phone", "value": "13800138000"},
                        {"namespace": "wechat_unionid:op1", "value": "u-1"},
                    ],
                ),
                event(
                    2,
                    "order.paid",
                    amount=2500,
                    properties={"order_id": "JD-1"},
                    identities=[{"namespace": "jd_pin", "value": "pin-1"}],
                ),
            ]
        },
    )
    owner_client.post(
        f"{BASE}/events",
        json={
            "events": [  # a later batch joins the two
                event(
                    3,
                    "profile.identified",
                    properties={"traits": {"city": "上海"}},
                    identities=[
                        {"namespace": "jd_pin", "value": "pin-1"},
                        {"namespace": "wechat_unionid:op1", "value": "u-1"},
                    ],
                ),
            ]
        },
    )
    found = owner_client.get(f"{BASE}/profiles", params={"q": "+86 13800138000"}).json()
    assert found["total"] == 1
    summary = found["items"][0]
    assert summary["identifier_count"] == 3
    assert owner_client.get(f"{BASE}/profiles", params={"q": "pin-1"}).json()["total"] == 1
    assert owner_client.get(f"{BASE}/profiles", params={"q": "13900000000"}).json()["total"] == 0
    # Another tenant cannot find or open it.
    with TestClient(owner_client.app, headers=auth_headers("owner", other_tenant)) as other:
        assert other.get(f"{BASE}/profiles", params={"q": "13800138000"}).json()["total"] == 0
        assert other.get(f"{BASE}/profiles/{summary['id']}").status_code == 404
    detail = owner_client.get(f"{BASE}/profiles/{summary['id']}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    values = {i["namespace"]: i["value"] for i in body["identifiers"]}
    assert values == {"phone": "138****8000", "wechat_unionid:op1": "u-1", "jd_pin": "pin-1"}
    with db.engine.connect() as conn:
        phone_hash = conn.execute(
            text("SELECT key FROM cdp_identifiers WHERE namespace = 'phone'")
        ).scalar_one()
    assert phone_hash not in detail.text
    assert "13800138000" not in detail.text
    assert sorted(e["event_id"] for e in body["recent_events"]) == ["ev-1", "ev-2", "ev-3"]
    assert {e["source"] for e in body["recent_events"]} == {"outbox"}
    merge = [a for a in body["audit"] if a["kind"] == "merge"]
    assert len(merge) == 1
    assert merge[0]["event_id"] == "ev-3"
    # Flushed events come from the warehouse.
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh)
    flushed = owner_client.get(f"{BASE}/profiles/{summary['id']}/events").json()
    assert len(flushed) == 3
    assert {e["source"] for e in flushed} == {"warehouse"}
    # Undo the merge made by ev-3: remove the link between the JD pin and the unionid.
    wrong = next(
        link
        for link in body["links"]
        if {link["a"]["namespace"], link["b"]["namespace"]} == {"jd_pin", "wechat_unionid:op1"}
    )
    undone = owner_client.post(f"{BASE}/links/{wrong['seq']}/unlink", json={"reason": "test"})
    assert undone.status_code == 200, undone.text
    assert len(set(undone.json()["profiles"])) == 2
    assert (
        owner_client.post(f"{BASE}/links/{wrong['seq']}/unlink", json={}).json()["code"]
        == "link_already_removed"
    )
    assert owner_client.post(f"{BASE}/links/999999/unlink", json={}).status_code == 404
    kinds = [a["kind"] for a in owner_client.get(f"{BASE}/audit").json()["items"]]
    assert "unlink" in kinds
    assert "split" in kinds
    assert owner_client.get(f"{BASE}/profiles").json()["total"] == 2
    rebuilt = owner_client.post(f"{BASE}/rebuild").json()
    assert (rebuilt["merges"], rebuilt["splits"], rebuilt["moved_identifiers"], rebuilt["profiles"]) == (
        0,
        0,
        0,
        2,
    )


def test_quarantine_is_visible(owner_client: TestClient) -> None:
    owner_client.put(f"{BASE}/settings", json={"quarantine_threshold": 2})
    batch = [
        event(
            n,
            identities=[
                {"namespace": "phone", "value": "13700000000"},
                {"namespace": "wechat_openid:wxapp1", "value": f"o-{n}"},
            ],
        )
        for n in range(3)
    ]
    owner_client.post(f"{BASE}/events", json={"events": batch})
    held = owner_client.get(f"{BASE}/quarantine").json()
    assert [i["value"] for i in held["items"]] == ["137****0000"]
    assert owner_client.get(f"{BASE}/profiles").json()["total"] == 3


def test_the_rebuild_runs_as_a_background_job(owner_client: TestClient, db: Database) -> None:
    owner_client.post(f"{BASE}/events", json={"events": [event(n) for n in range(3)]})
    queued = owner_client.post(f"{BASE}/rebuild/job")
    assert queued.status_code == 202
    job_id = queued.json()["job_id"]
    assert run_pending(db, worker_id="test") == 1
    job = owner_client.get(f"/api/v1/jobs/{job_id}").json()
    assert job["status"] == "succeeded", job
    assert job["result"]["identifiers"] == 3
    assert job["result"]["moved_identifiers"] == 0
