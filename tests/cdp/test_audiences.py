"""Traits, tags, segments, consent, deletion and the stores' consumers through the HTTP API, on
both databases with the DuckDB warehouse: live counts, membership, CSV export, static snapshots,
consent purposes, partner scoping and masking, and a deletion that leaves nothing personal in the
database or the warehouse files while the sales totals stay."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bcone.cdp.identifiers import identity_key, keyed_hash
from bcone.core.db import Database
from bcone.core.events import flush_outbox
from bcone.core.jobs import run_pending
from bcone.core.settings import Settings, get_settings
from bcone.core.warehouse import open_warehouse
from bcone.iam.schemas import TenantOut
from bcone.models import metadata
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.fixtures_iam import AuthHeaders

BASE = "/api/v1/cdp"
NOW = datetime.now(UTC).replace(microsecond=0)
ALICE_PHONE = "13800138000"


def _ts(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def _order(
    n: int, ids: list[dict[str, str]], days_ago: float, amount: int, org: str, region: str
) -> dict[str, Any]:
    return {
        "event_id": f"o-{n}",
        "type": "order.paid",
        "ts": _ts(days_ago),
        "identities": ids,
        "amount": amount,
        "org_id": org,
        "region": region,
        "sku": "SKU-1",
        "properties": {"order_id": f"T{n}", "channel": "tmall"},
    }


@pytest.fixture
def jobs_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Jobs open the warehouse from the process settings: point them at the test's."""
    monkeypatch.setenv("BCONE_WAREHOUSE_URL", settings.effective_warehouse_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def world(owner_client: TestClient, db: Database, settings: Settings, tenant: TenantOut) -> dict[str, Any]:
    """Alice buys three times at store S1 and scans; Bob bought once at S2, long ago; Carol only
    browsed. Everything is flushed to the warehouse."""
    with db.session(tenant_id=tenant.id) as s:
        dist = network.create_organization(
            OrganizationIn(kind="distributor", code="D1", name="浙江经销商", division_code="330000"),
            session=s,
        )
        s1 = network.create_organization(
            OrganizationIn(
                kind="store", code="S1", name="文三路店", division_code="330106", parent_id=dist.id
            ),
            session=s,
        )
        s2 = network.create_organization(
            OrganizationIn(kind="store", code="S2", name="朝阳店", division_code="110105", parent_id=dist.id),
            session=s,
        )
    alice = [
        {"namespace": "phone", "value": ALICE_PHONE},
        {"namespace": "wechat_openid:wx1", "value": "oAlice"},
    ]
    bob = [{"namespace": "jd_pin", "value": "bob_pin"}]
    carol = [{"namespace": "tmall_ouid", "value": "carol"}]
    events = [
        _order(1, alice, 5, 10_000, s1.id, "330106"),
        _order(2, alice[:1], 15, 20_000, s1.id, "330106"),
        _order(3, alice[1:], 40, 5_000, s1.id, "330106"),
        {
            "event_id": "scan-1",
            "type": "code.scanned",
            "ts": _ts(2),
            "identities": alice[1:],
            "org_id": s1.id,
        },
        _order(4, bob, 100, 3_000, s2.id, "110105"),
        {
            "event_id": "view-1",
            "type": "page.viewed",
            "ts": _ts(1),
            "identities": carol,
            "properties": {"url": "/"},
        },
    ]
    resp = owner_client.post(f"{BASE}/events", json={"events": events})
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"] == 6
    profile = {r["event_id"]: r["profile_id"] for r in resp.json()["results"]}
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
        flush_outbox(db, wh)
    return {
        "alice": profile["o-1"],
        "bob": profile["o-4"],
        "carol": profile["view-1"],
        "s1": s1.id,
        "s2": s2.id,
        "dist": dist.id,
    }


def test_segments_count_list_check_export_and_freeze(
    owner_client: TestClient, world: dict[str, Any], db: Database, settings: Settings
) -> None:
    rule = {"all": [{"event": "order.paid", "min_count": 3, "days": 90}, {"region": "33"}]}
    count = owner_client.post(f"{BASE}/segments/count", json={"rule": rule})
    assert count.status_code == 200, count.text
    assert count.json()["count"] == 1
    bad = owner_client.post(
        f"{BASE}/segments/count", json={"rule": {"all": [{"tag": "x"}, {"event": "order.paid", "days": -1}]}}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert (bad.json()["code"], bad.json()["field"]) == ("invalid_rule", "rule.all[1].days")

    made = owner_client.post(f"{BASE}/segments", json={"name": "复购客", "rule": rule})
    assert made.status_code == 201, made.text
    assert made.json()["member_count"] == 1
    seg = made.json()["id"]
    assert (
        owner_client.post(f"{BASE}/segments", json={"name": "复购客", "rule": rule}).json()["code"]
        == "duplicate_name"
    )
    members = owner_client.get(f"{BASE}/segments/{seg}/members").json()
    assert members["total"] == 1
    assert members["items"] == [{"profile_id": world["alice"]}]
    assert owner_client.get(f"{BASE}/segments/{seg}/members/{world['alice']}").json()["member"] is True
    assert owner_client.get(f"{BASE}/segments/{seg}/members/{world['bob']}").json()["member"] is False
    assert owner_client.get(f"{BASE}/segments/{seg}/members/nobody").status_code == 404
    assert owner_client.get(f"{BASE}/segments/nope/members").status_code == 404

    everyone = owner_client.post(
        f"{BASE}/segments", json={"name": "all buyers", "rule": {"event": "order.paid"}, "kind": "static"}
    ).json()
    assert everyone["kind"] == "static"
    assert everyone["member_count"] == 2
    dynamic = owner_client.post(
        f"{BASE}/segments", json={"name": "buyers", "rule": {"event": "order.paid"}}
    ).json()
    # Carol buys now: the dynamic segment sees her, the frozen one does not.
    owner_client.post(
        f"{BASE}/events",
        json={
            "events": [
                _order(9, [{"namespace": "tmall_ouid", "value": "carol"}], 0, 999, world["s2"], "110105")
            ]
        },
    )
    with open_warehouse(settings) as wh:
        flush_outbox(db, wh)
    assert owner_client.get(f"{BASE}/segments/{dynamic['id']}/members").json()["total"] == 3
    assert owner_client.get(f"{BASE}/segments/{everyone['id']}/members").json()["total"] == 2

    exported = owner_client.get(f"{BASE}/segments/{dynamic['id']}/export.csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert sorted(r["profile_id"] for r in rows) == sorted([world["alice"], world["bob"], world["carol"]])
    assert ALICE_PHONE not in exported.text
    assert "oAlice" not in exported.text
    listed = owner_client.get(f"{BASE}/segments", params={"q": "buy"}).json()
    assert listed["total"] == 2
    assert owner_client.delete(f"{BASE}/segments/{dynamic['id']}").status_code == 204
    assert owner_client.get(f"{BASE}/segments/{dynamic['id']}").status_code == 404


def test_consent_decides_who_is_in_a_marketing_segment(
    owner_client: TestClient, world: dict[str, Any]
) -> None:
    rule = {"event": "order.paid"}
    body = {"name": "短信营销", "rule": rule, "purpose": "marketing_sms"}
    seg = owner_client.post(f"{BASE}/segments", json=body).json()
    assert seg["member_count"] == 0  # nobody consented yet
    granted = owner_client.post(
        f"{BASE}/profiles/{world['alice']}/consents",
        json={"purpose": "marketing_sms", "granted": True, "source": "wechat_miniapp"},
    )
    assert granted.status_code == 201
    assert granted.json()[0]["granted"] is True
    assert (
        owner_client.post(f"{BASE}/segments/count", json={"rule": rule, "purpose": "marketing_sms"}).json()[
            "count"
        ]
        == 1
    )
    assert owner_client.get(f"{BASE}/segments/{seg['id']}/members").json()["total"] == 1
    owner_client.post(
        f"{BASE}/profiles/{world['alice']}/consents",
        json={"purpose": "marketing_sms", "granted": False, "source": "sms_reply_TD"},
    )
    assert owner_client.get(f"{BASE}/segments/{seg['id']}/members").json()["total"] == 0
    history = owner_client.get(f"{BASE}/profiles/{world['alice']}/consents").json()
    assert [h["granted"] for h in history] == [False, True]
    bad = owner_client.post(
        f"{BASE}/profiles/{world['alice']}/consents", json={"purpose": "spam", "granted": True, "source": "x"}
    )
    assert bad.status_code == 422
    assert bad.json()["field"].endswith("purpose")


def test_traits_and_rule_tags_are_refreshed_by_jobs(
    owner_client: TestClient, world: dict[str, Any], db: Database, jobs_env: None
) -> None:
    assert owner_client.get(f"{BASE}/profiles/{world['alice']}/traits").json() is None
    assert owner_client.post(f"{BASE}/traits/refresh").status_code == 202
    made = owner_client.post(
        f"{BASE}/tags",
        json={"name": "高价值", "rule": {"trait": "revenue_fen", "op": ">=", "value": 30_000}},
    )
    assert made.status_code == 201
    assert made.json()["kind"] == "rule"
    assert owner_client.post(f"{BASE}/tags/refresh").status_code == 202
    assert run_pending(db, worker_id="test") == 2
    traits = owner_client.get(f"{BASE}/profiles/{world['alice']}/traits").json()
    assert (traits["orders"], traits["revenue_fen"], traits["events"]) == (3, 35_000, 4)
    assert traits["usual_store"] == world["s1"]
    assert traits["region"] is not None
    # Two buyers: the more recent gets 1 + floor(5 * 1 / 2) = 3, the other 1 (ranked quintiles).
    assert traits["last_scan"] is not None
    assert traits["r_score"] == 3
    assert owner_client.get(f"{BASE}/profiles/{world['bob']}/traits").json()["r_score"] == 1
    assert owner_client.get(f"{BASE}/profiles/{world['carol']}/traits").json()["r_score"] is None
    assert [t["name"] for t in owner_client.get(f"{BASE}/profiles/{world['alice']}/tags").json()] == [
        "高价值"
    ]

    # Manual tags, in bulk; a rule tag cannot be set by hand; unknown profiles change nothing.
    assign = {"tags": ["VIP", "门店会员"], "profile_ids": [world["alice"], world["bob"]]}
    assert owner_client.post(f"{BASE}/tags/assign", json=assign).json()["changed"] == 4
    assert owner_client.post(f"{BASE}/tags/assign", json=assign).json()["changed"] == 0
    refused = owner_client.post(
        f"{BASE}/tags/assign", json={"tags": ["高价值"], "profile_ids": [world["bob"]]}
    )
    assert refused.status_code == 409
    missing = owner_client.post(
        f"{BASE}/tags/assign", json={"tags": ["X"], "profile_ids": [world["bob"], "nobody"]}
    )
    assert missing.status_code == 404
    assert missing.json()["field"] == "profile_ids[1]"
    assert "X" not in [t["name"] for t in owner_client.get(f"{BASE}/tags").json()["items"]]
    owner_client.post(
        f"{BASE}/tags/assign", json={"tags": ["VIP"], "profile_ids": [world["bob"]], "remove": True}
    )
    assert [t["name"] for t in owner_client.get(f"{BASE}/profiles/{world['bob']}/tags").json()] == [
        "门店会员"
    ]
    # Segments use tags and traits.
    rule = {"any": [{"tag": "VIP"}, {"trait": "usual_store", "op": "=", "value": world["s2"]}]}
    assert owner_client.post(f"{BASE}/segments/count", json={"rule": rule}).json()["count"] == 2


def test_a_partner_sees_only_its_own_consumers_masked(
    app: Any, world: dict[str, Any], auth_headers: AuthHeaders, tenant: TenantOut
) -> None:
    with TestClient(app, headers=auth_headers("partner", tenant, org_id=world["s1"])) as partner:
        mine = partner.get(f"{BASE}/stores/{world['s1']}/consumers")
        assert mine.status_code == 200, mine.text
        assert [c["profile_id"] for c in mine.json()["items"]] == [world["alice"]]
        assert mine.json()["items"][0]["orders"] == 3
        assert partner.get(f"{BASE}/stores/{world['s2']}/consumers").status_code == 403
        assert partner.get(f"{BASE}/stores/{world['dist']}/consumers").status_code == 403
        assert partner.get(f"{BASE}/profiles/{world['bob']}").status_code == 404
        seen = partner.get(f"{BASE}/profiles/{world['alice']}")
        assert seen.status_code == 200
        values = {i["value"] for i in seen.json()["identifiers"]}
        assert "oAlice" not in values
        assert "138****8000" not in values
        assert "oA**ce" in values
        assert partner.get(f"{BASE}/segments").status_code == 403
    with TestClient(app, headers=auth_headers("partner", tenant, org_id=world["dist"])) as distributor:
        both = distributor.get(f"{BASE}/stores/{world['dist']}/consumers").json()
        assert {c["profile_id"] for c in both["items"]} == {world["alice"], world["bob"]}
    with TestClient(app, headers=auth_headers("analyst", tenant)) as analyst:
        shown = analyst.get(f"{BASE}/profiles/{world['alice']}").json()
        assert "oAlice" not in str(shown)
    with TestClient(app, headers=auth_headers("marketer", tenant)) as marketer:
        stores = marketer.get(f"{BASE}/profiles/{world['alice']}/stores").json()
        assert [(s["org_id"], s["name"], s["orders"]) for s in stores] == [(world["s1"], "文三路店", 3)]
        assert "oAlice" in str(marketer.get(f"{BASE}/profiles/{world['alice']}").json())


def _database_text(db: Database) -> str:
    """Every row of every table as text: what a search of the database finds."""
    parts: list[str] = []
    with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


_SEARCH_FILES = """
import sys
from pathlib import Path
raw = sys.argv[2].encode()
for p in sorted(Path(sys.argv[1]).rglob("*")):
    if p.is_file() and raw in p.read_bytes():
        print(p)
"""


def _files_containing(root: Path, needle: str) -> list[str]:
    """The files under ``root`` whose bytes contain ``needle``.

    The search runs in a child process: closing any descriptor of a file drops every POSIX lock
    this process holds on it, so reading SQLite's live files here would silently release the
    test database's WAL locks and let another process (a worker) corrupt it.
    """
    found = subprocess.run(
        [sys.executable, "-c", _SEARCH_FILES, str(root), needle], capture_output=True, text=True, check=True
    )
    return found.stdout.splitlines()


def test_deletion_erases_the_person_everywhere_and_keeps_anonymous_totals(
    owner_client: TestClient,
    world: dict[str, Any],
    db: Database,
    settings: Settings,
    tenant: TenantOut,
    jobs_env: None,
) -> None:
    alice = world["alice"]
    owner_client.post(
        f"{BASE}/profiles/{alice}/consents", json={"purpose": "profiling", "granted": True, "source": "app"}
    )
    owner_client.post(f"{BASE}/tags/assign", json={"tags": ["VIP"], "profile_ids": [alice]})
    owner_client.post(
        f"{BASE}/segments", json={"name": "s", "rule": {"event": "order.paid"}, "kind": "static"}
    )
    # One more event of hers still waits in the outbox when the deletion runs.
    owner_client.post(
        f"{BASE}/events",
        json={
            "events": [
                {
                    "event_id": "late",
                    "type": "page.viewed",
                    "ts": _ts(0),
                    "identities": [{"namespace": "phone", "value": ALICE_PHONE}],
                    "properties": {"url": "/x"},
                }
            ]
        },
    )
    access = owner_client.get(f"{BASE}/profiles/{alice}/export")
    assert access.status_code == 200
    mine = access.json()
    assert {i["value"] for i in mine["identifiers"]} == {"138****8000", "oAlice"}
    assert len(mine["events"]) == 5
    assert mine["consents"][0]["purpose"] == "profiling"
    assert [t["name"] for t in mine["tags"]] == ["VIP"]

    phone_hash = keyed_hash(identity_key(settings.secret_key, tenant.id), "phone", ALICE_PHONE)
    with open_warehouse(settings) as wh:
        before = wh.query(
            "SELECT count(*) AS n, sum(amount) AS a FROM tenant_events", tenant_id=tenant.id
        ).rows[0]
    assert phone_hash in _database_text(db)

    asked = owner_client.post(f"{BASE}/profiles/{alice}/deletion")
    assert asked.status_code == 202
    assert asked.json()["status"] == "queued"
    assert run_pending(db, worker_id="test") == 1
    done = owner_client.get(f"{BASE}/deletions/{asked.json()['id']}").json()
    assert done["status"] == "done", done
    receipt = done["receipt"]
    assert receipt["warehouse_events"] == 4
    assert receipt["outbox_events"] == 1
    assert (receipt["identifiers"], receipt["profiles"], receipt["consents"], receipt["tags"]) == (2, 1, 1, 1)
    assert owner_client.get(f"{BASE}/profiles/{alice}").status_code == 404

    # Nothing personal survives: not in any table, not in the database or warehouse files.
    everything = _database_text(db)
    for needle in (ALICE_PHONE, phone_hash, "oAlice", alice, "138****8000"):
        assert needle not in everything, needle
    assert alice not in str(done)
    if db.dialect == "sqlite":
        db_dir = Path(db.engine.url.database or "").parent
        for needle in (ALICE_PHONE, phone_hash, "oAlice"):
            assert _files_containing(db_dir, needle) == [], needle
    # The phone number itself was never stored anywhere: not in the warehouse file either.
    assert _files_containing(settings.data_dir, ALICE_PHONE) == []
    with open_warehouse(settings) as wh:
        for column in ("identities", "profile_id", "properties"):
            found = wh.query(
                f"SELECT count(*) AS n FROM tenant_events WHERE {column} LIKE $a OR {column} LIKE $b",
                {"a": f"%{phone_hash}%", "b": "%oAlice%"},
                tenant_id=tenant.id,
            ).rows[0][0]
            assert found == 0, column
    # The sales totals are still right: her events stay as anonymous copies.
    with open_warehouse(settings) as wh:
        after = wh.query(
            "SELECT count(*) AS n, sum(amount) AS a FROM tenant_events", tenant_id=tenant.id
        ).rows[0]
        anonymous = wh.query(
            "SELECT count(*) AS n FROM tenant_events WHERE profile_id IS NULL AND identities = '[]'",
            tenant_id=tenant.id,
        ).rows[0][0]
    assert after == before
    assert anonymous == 4
    # Bob is untouched.
    assert owner_client.get(f"{BASE}/profiles/{world['bob']}").status_code == 200
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM cdp_identifiers")).scalar_one() == 2


def test_deletion_and_access_need_an_admin(
    app: Any, world: dict[str, Any], auth_headers: AuthHeaders, tenant: TenantOut
) -> None:
    with TestClient(app, headers=auth_headers("marketer", tenant)) as marketer:
        assert marketer.post(f"{BASE}/profiles/{world['alice']}/deletion").status_code == 403
        assert marketer.get(f"{BASE}/profiles/{world['alice']}/export").status_code == 403


def test_traits_are_scheduled_after_each_flush_once_per_tenant(
    world: dict[str, Any], db: Database, tenant: TenantOut, jobs_env: None
) -> None:
    from sqlalchemy import select

    from bcone.cdp._audiences import FLUSH_JOB, TRAITS_JOB, schedule_traits
    from bcone.core.jobs import Job, enqueue
    from bcone.core.periodic import registered_periodic_tasks
    from bcone.core.tenancy import unscoped

    def queued() -> list[tuple[str, str | None]]:
        with db.session() as session:
            rows = unscoped(session).scalars(select(Job).where(Job.status == "queued"))
            return [(j.name, j.tenant_id) for j in rows]

    assert "cdp.schedule_traits" in registered_periodic_tasks()
    schedule_traits(db)  # no flush has finished yet: nothing to do
    assert queued() == []
    with db.session() as session:
        flush_id = enqueue(unscoped(session), FLUSH_JOB, {})
    with db.session() as session:
        job = unscoped(session).get(Job, flush_id)
        assert job is not None
        job.status, job.finished_at = "succeeded", datetime.now(UTC)
    schedule_traits(db)
    schedule_traits(db)  # another worker checks too: still one job for the tenant
    assert queued() == [(TRAITS_JOB, tenant.id)]
    assert run_pending(db, worker_id="test") == 1
    schedule_traits(db)  # the flush is older than the traits job now
    assert queued() == []
