"""The segment rule language: validation names the JSON path; the compiled SQL gives the same
members on DuckDB and on ClickHouse (chDB) as a plain Python evaluation of the same rule."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bcone.cdp.errors import InvalidRule
from bcone.cdp.segments import (
    Group,
    Node,
    compile_members,
    contains_sql,
    count_sql,
    page_sql,
    parse_rule,
    traits_sql,
)
from bcone.core.events import Event
from bcone.core.warehouse import Warehouse, warehouse_from_url

TENANT = "t-seg"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
STORES = ("org-a", "org-b", "org-c")
REGIONS = ("330106", "330102", "110105", "440305")
SKUS = ("SKU-1", "SKU-2")
CHANNELS = ("tmall", "jd", "store")


def _events(seed: int = 3, people: int = 80) -> list[Event]:
    rng = random.Random(seed)
    out: list[Event] = []
    for p in range(people):
        pid = f"p{p:03d}"
        for k in range(rng.randrange(1, 9)):
            kind = rng.choice(("order.paid", "order.paid", "code.scanned", "page.viewed"))
            out.append(
                Event(
                    event_id=f"{pid}-{k}",
                    tenant_id=TENANT,
                    ts=NOW - timedelta(days=rng.randrange(0, 200), hours=rng.randrange(24)),
                    type=kind,
                    profile_id=pid,
                    org_id=rng.choice((*STORES, None)),
                    sku=rng.choice(SKUS) if kind == "order.paid" else None,
                    region=rng.choice(REGIONS),
                    amount=rng.randrange(100, 9000) if kind == "order.paid" else None,
                    properties={"channel": rng.choice(CHANNELS)} if kind == "order.paid" else {},
                )
            )
    # another tenant's events never count
    out.append(Event(event_id="x", tenant_id="other", ts=NOW, type="order.paid", profile_id="p000", amount=1))
    return out


EVENTS = _events()


def _load(url: str) -> Warehouse:
    wh = warehouse_from_url(url)
    wh.ensure_schema()
    wh.insert_events(EVENTS)
    return wh


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Warehouse]]:
    duck = _load(f"duckdb:///{tmp_path_factory.mktemp('duck') / 'w.duckdb'}")
    ch = _load(f"chdb:///{tmp_path_factory.mktemp('chdb') / 'ch'}")
    yield [duck, ch]
    duck.close()
    ch.close()


# --- a plain evaluation of the rules, written from the documentation --------------------------


def _python_members(node: Node, tags: dict[str, list[str]]) -> set[str]:
    by_profile: dict[str, list[Event]] = {}
    for e in EVENTS:
        if e.tenant_id == TENANT and e.profile_id:
            by_profile.setdefault(e.profile_id, []).append(e)

    def holds(n: Node, pid: str, evs: list[Event]) -> bool:
        if isinstance(n, Group):
            if n.op == "not":
                return not holds(n.items[0], pid, evs)
            results = [holds(x, pid, evs) for x in n.items]
            return all(results) if n.op == "all" else any(results)
        d = n.__dict__
        if "event" in d:
            hits = [
                e
                for e in evs
                if e.type == d["event"]
                and (d["days"] is None or e.ts >= NOW - timedelta(days=d["days"]))
                and (d["sku"] is None or e.sku == d["sku"])
                and (d["channel"] is None or e.properties.get("channel") == d["channel"])
            ]
            return len(hits) >= d["min_count"]
        if "tag" in d:
            return pid in tags.get(d["tag"], [])
        if "region" in d:
            return any(e.region and e.region.startswith(d["region"]) for e in evs)
        if "store" in d:
            return any(e.org_id == d["store"] for e in evs)
        orders = [e for e in evs if e.type == "order.paid"]
        value: Any
        if d["trait"] == "orders":
            value = len(orders)
        elif d["trait"] == "revenue_fen":
            value = sum(e.amount or 0 for e in orders)
        elif d["trait"] == "days_since_last_seen":
            last = max(e.ts for e in evs)
            value = (NOW - last) // timedelta(days=1)
        elif d["trait"] == "days_since_last_order":
            if not orders:
                return False  # no last order: the comparison fails
            value = (NOW - max(e.ts for e in orders)) // timedelta(days=1)
        else:
            raise AssertionError(d["trait"])
        target = d["value"]
        return {
            ">=": value >= target,
            ">": value > target,
            "<=": value <= target,
            "<": value < target,
            "=": value == target,
            "!=": value != target,
        }[d["op"]]

    return {pid for pid, evs in by_profile.items() if holds(node, pid, evs)}


RULES: list[dict[str, Any]] = [
    {
        "all": [
            {"trait": "revenue_fen", "op": ">=", "value": 5000},
            {"trait": "days_since_last_seen", "op": ">=", "value": 30},
        ]
    },
    {
        "all": [
            {"trait": "orders", "op": ">", "value": 0},
            {"trait": "orders", "op": "<", "value": 3},
            {"store": "org-b"},
        ]
    },
    {
        "any": [
            {"trait": "days_since_last_order", "op": "<=", "value": 20},
            {"not": {"trait": "orders", "op": ">=", "value": 1}},
        ]
    },
    {"event": "order.paid", "min_count": 3, "days": 90},
    {"all": [{"trait": "orders", "op": ">=", "value": 2}, {"region": "33"}]},
    {"any": [{"store": "org-a"}, {"tag": "vip"}]},
    {"not": {"event": "code.scanned"}},
    {
        "all": [
            {"event": "order.paid", "sku": "SKU-1", "channel": "tmall"},
            {"trait": "revenue_fen", "op": "<", "value": 5000},
        ]
    },
    {"trait": "days_since_last_seen", "op": ">=", "value": 30},
    {"trait": "days_since_last_seen", "op": "<", "value": 10},
    {
        "all": [
            {"region": "110105"},
            {"not": {"any": [{"store": "org-b"}, {"trait": "orders", "op": "=", "value": 0}]}},
        ]
    },
]


@pytest.mark.parametrize("rule", RULES, ids=[json.dumps(r, ensure_ascii=False)[:60] for r in RULES])
def test_a_segment_has_the_same_members_on_duckdb_chdb_and_in_python(
    engines: list[Warehouse], rule: dict[str, Any]
) -> None:
    node = parse_rule(rule)
    tags = {"vip": ["p001", "p002", "p050"]}
    expected = _python_members(node, tags)
    for wh in engines:
        compiled = compile_members(node, dialect=wh.dialect, now=NOW, tags=tags)
        got = {r[0] for r in wh.query(compiled.sql, compiled.params, tenant_id=TENANT).rows}
        assert got == expected, wh.dialect
        sql, params = count_sql(compiled)
        assert wh.query(sql, params, tenant_id=TENANT).rows[0][0] == len(expected)
        sql, params = page_sql(compiled, limit=5, offset=0)
        assert [r[0] for r in wh.query(sql, params, tenant_id=TENANT).rows] == sorted(expected)[:5]
        sql, params = contains_sql(compiled, ["p001", "p002"])
        assert {r[0] for r in wh.query(sql, params, tenant_id=TENANT).rows} == expected & {"p001", "p002"}


def test_merged_profiles_count_under_their_survivor(engines: list[Warehouse]) -> None:
    # p001's and p002's events belong to p000 now: p000 has all their orders.
    node = parse_rule({"trait": "orders", "op": ">=", "value": 0})
    for wh in engines:
        compiled = compile_members(
            node, dialect=wh.dialect, now=NOW, merged=(["p001", "p002"], ["p000", "p000"])
        )
        got = {r[0] for r in wh.query(compiled.sql, compiled.params, tenant_id=TENANT).rows}
        assert "p001" not in got
        assert "p002" not in got
        assert "p000" in got
        n = sum(1 for e in EVENTS if e.tenant_id == TENANT and e.profile_id in ("p000", "p001", "p002"))
        second = compile_members(
            parse_rule({"trait": "events", "op": "=", "value": n}),
            dialect=wh.dialect,
            now=NOW,
            merged=(["p001", "p002"], ["p000", "p000"]),
        )
        rows = wh.query(second.sql, second.params, tenant_id=TENANT).rows
        assert ("p000",) in [tuple(r) for r in rows]


def test_consent_keeps_only_the_consented_profiles(engines: list[Warehouse]) -> None:
    node = parse_rule({"event": "order.paid"})
    for wh in engines:
        compiled = compile_members(node, dialect=wh.dialect, now=NOW, consented=["p003", "nobody"])
        got = {r[0] for r in wh.query(compiled.sql, compiled.params, tenant_id=TENANT).rows}
        assert got <= {"p003"}
        compiled = compile_members(node, dialect=wh.dialect, now=NOW, consented=[])
        assert wh.query(compiled.sql, compiled.params, tenant_id=TENANT).rows == []


def test_traits_are_the_same_on_both_engines(engines: list[Warehouse]) -> None:
    results = [wh.query(traits_sql(wh.dialect, False), {}, tenant_id=TENANT).rows for wh in engines]
    assert results[0] == results[1]
    assert len(results[0]) == 80
    by_id = {r[0]: r for r in results[0]}
    mine = [e for e in EVENTS if e.tenant_id == TENANT and e.profile_id == "p010"]
    orders = [e for e in mine if e.type == "order.paid"]
    row = by_id["p010"]
    assert row[3] == len(mine)
    assert row[4] == len(orders)
    assert row[5] == sum(e.amount or 0 for e in orders)
    scores = [r[6] for r in results[0] if r[6] is not None]
    assert set(scores) <= {1, 2, 3, 4, 5}
    assert max(scores) == 5


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"all": [{"tag": "a"}, {"tag": "b"}, {"event": "order.paid", "days": 0}]}, "rule.all[2].days"),
        ({"all": [{"trait": "shoe_size", "op": ">", "value": 1}]}, "rule.all[0].trait"),
        ({"any": []}, "rule.any"),
        ({"not": {"region": "3"}}, "rule.not.region"),
        ({"trait": "orders", "op": "~", "value": 1}, "rule.op"),
        ({"trait": "orders", "op": ">", "value": "3"}, "rule.value"),
        ({"trait": "usual_store", "op": ">", "value": "x"}, "rule.op"),
        ({"event": "order.paid", "channel": "taobao"}, "rule.channel"),
        ({"event": "Order Paid"}, "rule.event"),
        ({"event": "order.paid", "min_count": True}, "rule.min_count"),
        ({"event": "order.paid", "colour": "red"}, "rule.colour"),
        ({"all": [{"weather": "sunny"}]}, "rule.all[0]"),
        ([1, 2], "rule"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_json_path(rule: Any, field: str) -> None:
    with pytest.raises(InvalidRule) as caught:
        parse_rule(rule)
    assert caught.value.field == field
    assert caught.value.status == 422


def test_too_deep_or_too_many_conditions_are_refused() -> None:
    deep: dict[str, Any] = {"tag": "x"}
    for _ in range(10):
        deep = {"not": deep}
    with pytest.raises(InvalidRule):
        parse_rule(deep)
    with pytest.raises(InvalidRule, match="more than 50"):
        parse_rule({"any": [{"tag": f"t{i}"} for i in range(51)]})
