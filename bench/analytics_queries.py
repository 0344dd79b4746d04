"""RFM, weekly retention and a three-step funnel on N synthetic events, on DuckDB and on chDB.

Events are built as Arrow batches (consumers with skewed activity, 180 days, scans, orders with
amounts and a channel property, page views) and loaded into a fresh DuckDB file and a fresh chDB
directory (load time reported, not part of the query figures). Each report runs through
``bcone.analytics.service`` exactly as the API runs it, and the two engines' answers are compared.
The last line is one JSON object.

    .venv/bin/python bench/analytics_queries.py                      # 300,000 events, 30,000 consumers
    .venv/bin/python bench/analytics_queries.py --events 10000000 --consumers 1000000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]

from bcone.analytics import service
from bcone.core.warehouse import EVENT_ARROW_SCHEMA, Warehouse, warehouse_from_url

TENANT = "bench-brand"
DAYS = 180
LAST_DAY = date(2025, 6, 30)
CHUNK = 1_000_000
TYPES = np.array(["code.scanned", "order.paid", "page.viewed"])
TYPE_WEIGHTS = [0.5, 0.35, 0.15]
REGIONS = np.array(["310101", "440305", "110105", "510107", "330106"])
CHANNELS = np.array(
    ['{"channel":"offline"}', '{"channel":"wechat"}', '{"channel":"tmall"}', '{"channel":"jd"}']
)


def batches(events: int, consumers: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    end = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 16, tzinfo=UTC)  # 24:00 in Beijing
    end_us = int(end.timestamp() * 1_000_000)
    span_us = DAYS * 86_400 * 1_000_000
    out = []
    for first in range(0, events, CHUNK):
        n = min(CHUNK, events - first)
        ids = pa.array(np.arange(first, first + n)).cast(pa.string())
        # Skewed activity: a few consumers are very active, most are occasional.
        who = np.minimum((consumers * rng.random(n) ** 1.8).astype(np.int64), consumers - 1)
        profiles = pa.array(np.char.add("c", who.astype(str)))
        kinds = rng.choice(TYPES, size=n, p=TYPE_WEIGHTS)
        ts = end_us - rng.integers(1, span_us, size=n)
        is_order = kinds == "order.paid"
        amount = np.where(is_order, rng.integers(300, 20_000, size=n), 0)
        properties = np.where(is_order, rng.choice(CHANNELS, size=n), "{}")
        store = rng.integers(0, 2_000, size=n)
        out.append(
            pa.table(
                {
                    "event_id": ids,
                    "tenant_id": pa.array(np.full(n, TENANT)),
                    "ts": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
                    "type": pa.array(kinds),
                    "profile_id": profiles,
                    "identities": pa.array(np.full(n, "[]")),
                    "org_id": pa.array(np.char.add("S", store.astype(str))),
                    "sku": pa.nulls(n, pa.string()),
                    "region": pa.array(rng.choice(REGIONS, size=n)),
                    "amount": pa.array(amount, mask=~is_order),
                    "properties": pa.array(properties),
                },
                schema=EVENT_ARROW_SCHEMA,
            )
        )
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = fn()
    return time.perf_counter() - started, answer


def run(wh: Warehouse) -> tuple[dict[str, float], dict[str, Any]]:
    since = LAST_DAY - timedelta(days=DAYS - 1)
    reports = {
        "rfm": lambda: service.rfm(wh, TENANT, since=since, until=LAST_DAY, limit=100),
        "retention_weekly": lambda: service.retention(wh, TENANT, period="week", since=since, until=LAST_DAY),
        "funnel_3_steps": lambda: service.funnel(
            wh,
            TENANT,
            steps=["page.viewed", "code.scanned", "order.paid"],
            window_seconds=7 * 86400,
            since=since,
            until=LAST_DAY,
        ),
        "funnel_3_steps_by_channel": lambda: service.funnel(
            wh,
            TENANT,
            steps=["code.scanned", "order.paid", "order.paid"],
            window_seconds=14 * 86400,
            breakdown="channel",
            since=since,
            until=LAST_DAY,
        ),
    }
    seconds: dict[str, float] = {}
    answers: dict[str, Any] = {}
    for name, fn in reports.items():
        seconds[name], answers[name] = timed(fn)
        print(f"  {name}: {seconds[name]:.2f}s")
    return seconds, answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--consumers", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    build_s, data = timed(lambda: batches(args.events, args.consumers, args.seed))
    print(f"built {args.events} events for {args.consumers} consumers in {build_s:.1f}s")
    result: dict[str, Any] = {
        "bench": "analytics_queries",
        "events": args.events,
        "consumers": args.consumers,
    }
    answers: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bcone-bench-") as tmp:
        for engine, url in (
            ("duckdb", f"duckdb:///{Path(tmp) / 'w.duckdb'}"),
            ("chdb", f"chdb:///{Path(tmp) / 'chdb'}"),
        ):
            wh = warehouse_from_url(url)
            try:
                wh.ensure_schema()
                load_s, _ = timed(lambda wh=wh: [wh.insert_events(batch) for batch in data])  # type: ignore[misc]
                print(f"{engine}: loaded in {load_s:.1f}s")
                seconds, answers[engine] = run(wh)
            finally:
                wh.close()
            result[f"{engine}_load_s"] = round(load_s, 2)
            result.update({f"{engine}_{name}_s": round(s, 3) for name, s in seconds.items()})
    result["same_answers"] = answers["duckdb"] == answers["chdb"]
    result["rfm_customers"] = answers["duckdb"]["rfm"].customers
    print(json.dumps(result))


if __name__ == "__main__":
    main()
