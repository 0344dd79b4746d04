"""The traits summary (one row per profile in the warehouse, built by the ``cdp.traits`` job):
a trait rule read from it has exactly the members of the same rule aggregated from the events,
on DuckDB and on ClickHouse (chDB), and it is used only while it matches the events and merges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bcone.cdp._audiences import refresh_traits_summary, traits_summary_fresh
from bcone.cdp.segments import TRAITS_VIEW, compile_members, count_sql, parse_rule
from bcone.core.events import Event
from bcone.core.warehouse import Warehouse, warehouse_from_url
from tests.cdp.test_segments import EVENTS, NOW, RULES, TENANT

TRAIT_RULES: list[dict[str, Any]] = [
    *RULES,
    {"all": [{"trait": "r_score", "op": ">=", "value": 4}, {"trait": "f_score", "op": ">=", "value": 4}]},
    {
        "any": [
            {"trait": "m_score", "op": "=", "value": 5},
            {"trait": "usual_store", "op": "=", "value": "org-a"},
        ]
    },
    {"all": [{"trait": "region", "op": "!=", "value": "330106"}, {"trait": "events", "op": ">", "value": 3}]},
    {"trait": "days_since_first_seen", "op": ">", "value": 100},
    {"trait": "days_since_last_scan", "op": "<=", "value": 60},
    {"not": {"trait": "usual_store", "op": "=", "value": "org-b"}},
    {"all": [{"trait": "orders", "op": "=", "value": 0}, {"event": "code.scanned"}]},
]
MERGED = (["p001", "p002", "p040"], ["p000", "p000", "p041"])


def _load(url: str) -> Warehouse:
    wh = warehouse_from_url(url)
    wh.ensure_schema()
    wh.insert_events(EVENTS)
    return wh


@pytest.fixture
def engines(tmp_path: Any) -> Iterator[list[Warehouse]]:
    duck = _load(f"duckdb:///{tmp_path / 'w.duckdb'}")
    ch = _load(f"chdb:///{tmp_path / 'ch'}")
    yield [duck, ch]
    duck.close()
    ch.close()


def _members(wh: Warehouse, rule: dict[str, Any], *, summary: bool, merged: Any = None) -> set[str]:
    compiled = compile_members(parse_rule(rule), dialect=wh.dialect, now=NOW, merged=merged, summary=summary)
    if summary:
        assert TRAITS_VIEW in compiled.sql or "trait" not in json.dumps(rule)
    return {r[0] for r in wh.query(compiled.sql, compiled.params, tenant_id=TENANT).rows}


def test_trait_rules_from_the_summary_match_the_events_on_both_engines(engines: list[Warehouse]) -> None:
    for merged in (None, MERGED):
        counts: list[list[int]] = []
        for wh in engines:
            assert not traits_summary_fresh(wh, TENANT, merged) or merged is not None
            assert refresh_traits_summary(wh, TENANT, merged) == 80 - (len(MERGED[0]) if merged else 0)
            assert traits_summary_fresh(wh, TENANT, merged)
            row: list[int] = []
            for rule in TRAIT_RULES:
                live = _members(wh, rule, summary=False, merged=merged)
                assert _members(wh, rule, summary=True, merged=merged) == live, (wh.dialect, rule)
                compiled = compile_members(
                    parse_rule(rule), dialect=wh.dialect, now=NOW, merged=merged, summary=True
                )
                sql, params = count_sql(compiled)
                row.append(int(wh.query(sql, params, tenant_id=TENANT).rows[0][0]))
                assert row[-1] == len(live)
            counts.append(row)
        assert counts[0] == counts[1]  # both engines agree


def test_the_summary_is_stale_after_new_events_or_merges(engines: list[Warehouse]) -> None:
    for wh in engines:
        assert refresh_traits_summary(wh, "nobody", None) == 0  # no events: nothing built
        assert not traits_summary_fresh(wh, "nobody", None)
        assert not traits_summary_fresh(wh, TENANT, None)  # never built
        refresh_traits_summary(wh, TENANT, None)
        assert traits_summary_fresh(wh, TENANT, None)
        assert not traits_summary_fresh(wh, TENANT, MERGED)  # a merge since the build
        assert not traits_summary_fresh(wh, "another-tenant", None)
        wh.insert_events(
            [
                Event(
                    event_id="late-1",
                    tenant_id=TENANT,
                    ts=NOW - timedelta(days=400),  # late: not even the latest event
                    type="order.paid",
                    profile_id="p005",
                    amount=100,
                )
            ]
        )
        assert not traits_summary_fresh(wh, TENANT, None)
        refresh_traits_summary(wh, TENANT, None)
        assert traits_summary_fresh(wh, TENANT, None)
