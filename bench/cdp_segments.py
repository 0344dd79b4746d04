"""Segment counts on the warehouse: N profiles and M events, the same segments on DuckDB and chDB.

Loads M synthetic events of N consumers (orders with channel and SKU, scans, page views, store
visits over 365 days in 34 provinces and 500 stores) into a DuckDB file and into chDB (loading is
not timed), builds the per-profile traits summary as the ``cdp.traits`` job does (timed), then
times the live count of each segment of :data:`SEGMENTS` (compiled by ``bcone.cdp.segments``
exactly as the API does: trait conditions read the fresh summary) on both engines, best of
``--repeat`` runs, and the same trait rules aggregated from the raw events (``*_live``, what
a segment costs while the summary is stale), and checks that all the counts agree.

Prints its figures, then one JSON object on the last line.

    python bench/cdp_segments.py [--profiles 1000000] [--events 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from bcone.cdp._audiences import refresh_traits_summary, traits_summary_fresh
from bcone.cdp.segments import compile_members, count_sql, parse_rule, traits_of
from bcone.core.warehouse import EVENT_ARROW_SCHEMA, Warehouse, warehouse_from_url

TENANT = "bench-tenant"
NOW = datetime(2026, 11, 20, tzinfo=UTC)
TYPES = np.array(["order.paid", "code.scanned", "page.viewed", "store.visited"])
CHANNELS = ['{"channel":"tmall"}', '{"channel":"jd"}', '{"channel":"store"}', "{}"]
SEGMENTS: dict[str, dict[str, Any]] = {
    "repeat_buyers_90d": {"event": "order.paid", "min_count": 3, "days": 90},
    "zhejiang_tmall_buyers": {
        "all": [{"event": "order.paid", "channel": "tmall", "days": 180}, {"region": "33"}]
    },
    "high_value_lapsed": {
        "all": [
            {"trait": "revenue_fen", "op": ">=", "value": 50_000},
            {"trait": "days_since_last_seen", "op": ">=", "value": 60},
        ]
    },
    "store_regulars_or_scanners": {
        "any": [{"store": "store-0042"}, {"event": "code.scanned", "min_count": 2, "days": 30}]
    },
    "rfm_champions": {
        "all": [{"trait": "r_score", "op": ">=", "value": 4}, {"trait": "f_score", "op": ">=", "value": 4}]
    },
}


def _batches(profiles: int, events: int, chunk: int) -> Any:
    rng = np.random.default_rng(7)
    provinces = np.array(
        [
            f"{p:02d}"
            for p in (
                11,
                12,
                13,
                14,
                15,
                21,
                22,
                23,
                31,
                32,
                33,
                34,
                35,
                36,
                37,
                41,
                42,
                43,
                44,
                45,
                46,
                50,
                51,
                52,
                53,
                54,
                61,
                62,
                63,
                64,
                65,
            )
        ]
    )
    start_us = int((NOW - timedelta(days=365)).timestamp() * 1_000_000)
    span_us = 365 * 86_400 * 1_000_000
    for offset in range(0, events, chunk):
        n = min(chunk, events - offset)
        # Most consumers come a few times, some very often (a Zipf tail).
        who = np.where(rng.random(n) < 0.8, rng.integers(0, profiles, n), rng.zipf(1.3, n) % profiles)
        kind = TYPES[rng.choice(4, n, p=[0.35, 0.25, 0.3, 0.1])]
        region = np.char.add(provinces[who % len(provinces)], "0106")
        store = np.char.add("store-", np.char.zfill((who % 500).astype(str), 4))
        table = pa.table(
            {
                "event_id": pa.array(
                    np.char.add("e", np.char.zfill(np.arange(offset, offset + n).astype(str), 10))
                ),
                "tenant_id": pa.array(np.full(n, TENANT)),
                "ts": pa.array(start_us + rng.integers(0, span_us, n), pa.timestamp("us", tz="UTC")),
                "type": pa.array(kind),
                "profile_id": pa.array(np.char.add("p", np.char.zfill(who.astype(str), 8))),
                "identities": pa.array(np.full(n, "[]")),
                "org_id": pa.array(store),
                "sku": pa.array(np.char.add("SKU-", (who % 40).astype(str))),
                "region": pa.array(region),
                "amount": pa.array(np.where(kind == "order.paid", rng.integers(500, 50_000, n), 0)),
                "properties": pa.array(np.array(CHANNELS)[rng.integers(0, 4, n)]),
            }
        )
        yield table.cast(EVENT_ARROW_SCHEMA)


def _time(wh: Warehouse, repeat: int, *, summary: bool, traits_only: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rule in SEGMENTS.items():
        node = parse_rule(rule)
        if traits_only and not traits_of(node):
            continue
        compiled = compile_members(node, dialect=wh.dialect, now=NOW, summary=summary)
        sql, params = count_sql(compiled)
        best = float("inf")
        count = -1
        for _ in range(repeat):
            started = time.perf_counter()
            count = int(wh.query(sql, params, tenant_id=TENANT).rows[0][0])
            best = min(best, time.perf_counter() - started)
        out[name] = {"count": count, "seconds": round(best, 3)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--dir", help="keep the loaded warehouses here and reuse them on the next run")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bcone-segments-") as tmp:
        root = Path(args.dir) if args.dir else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for engine, url in (("duckdb", f"duckdb:///{root / 'w.duckdb'}"), ("chdb", f"chdb:///{root / 'ch'}")):
            wh = warehouse_from_url(url)
            wh.ensure_schema()
            started = time.perf_counter()
            loaded = wh.query("SELECT count(*) AS n FROM tenant_events", tenant_id=TENANT).rows[0][0]
            if loaded != args.events:
                with wh.hold():
                    for batch in _batches(args.profiles, args.events, args.chunk):
                        wh.insert_events(batch)
            load = time.perf_counter() - started
            started = time.perf_counter()
            summary_rows = refresh_traits_summary(wh, TENANT, None)
            summary_seconds = time.perf_counter() - started
            started = time.perf_counter()
            assert traits_summary_fresh(wh, TENANT, None)
            fresh_check = time.perf_counter() - started  # paid by every count of a trait rule
            distinct = wh.query(
                "SELECT count(DISTINCT profile_id) AS n FROM tenant_events", tenant_id=TENANT
            ).rows[0][0]
            results[engine] = {
                "load_seconds": round(load, 1),
                "profiles_with_events": int(distinct),
                "traits_summary_rows": summary_rows,
                "traits_summary_seconds": round(summary_seconds, 2),
                "freshness_check_seconds": round(fresh_check, 3),
                "segments": _time(wh, args.repeat, summary=True),
                "segments_live": _time(wh, args.repeat, summary=False, traits_only=True),
            }
            wh.close()
            print(engine, json.dumps(results[engine], indent=1))
    agree = all(
        results["duckdb"]["segments"][s]["count"] == results["chdb"]["segments"][s]["count"] for s in SEGMENTS
    ) and all(
        results[e]["segments_live"][s]["count"] == results[e]["segments"][s]["count"]
        for e in ("duckdb", "chdb")
        for s in results[e]["segments_live"]
    )
    summary = {
        "bench": "cdp_segments",
        "profiles": args.profiles,
        "events": args.events,
        "engines_agree": agree,
        "duckdb_max_count_seconds": max(v["seconds"] for v in results["duckdb"]["segments"].values()),
        "chdb_max_count_seconds": max(v["seconds"] for v in results["chdb"]["segments"].values()),
        "duckdb": {k: v["seconds"] for k, v in results["duckdb"]["segments"].items()},
        "chdb": {k: v["seconds"] for k, v in results["chdb"]["segments"].items()},
        "duckdb_traits_live": {k: v["seconds"] for k, v in results["duckdb"]["segments_live"].items()},
        "chdb_traits_live": {k: v["seconds"] for k, v in results["chdb"]["segments_live"].items()},
        "duckdb_summary_build_seconds": results["duckdb"]["traits_summary_seconds"],
        "chdb_summary_build_seconds": results["chdb"]["traits_summary_seconds"],
        "duckdb_freshness_check_seconds": results["duckdb"]["freshness_check_seconds"],
        "chdb_freshness_check_seconds": results["chdb"]["freshness_check_seconds"],
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "profiles_with_events": results["duckdb"]["profiles_with_events"],
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
