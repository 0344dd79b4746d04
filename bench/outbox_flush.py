"""Outbox flush throughput: N events from a SQLite outbox into DuckDB, then the same into chDB.

Set-up (building the outbox) is not timed. The last line is one JSON object, e.g.
``{"bench": "outbox_flush", "events": 1000000, "duckdb_events_per_s": ..., ...}``.

    .venv/bin/python bench/outbox_flush.py [--events N] [--batch-size N]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bcone.core.db import Database
from bcone.core.events import Event, Identity, append_events, flush_outbox, outbox
from bcone.core.settings import Settings
from bcone.core.tenancy import unscoped
from bcone.core.warehouse import Warehouse, open_warehouse_url

TENANTS = ("brand-a", "brand-b", "brand-c")
TYPES = ("code.scanned", "order.paid", "page.viewed", "reward.granted", "visit.checked_in")
REGIONS = ("310101", "440305", "110105", "510107", "330106")
CHUNK = 50_000


def build_outbox(path: Path, events: int) -> float:
    """Append ``events`` realistic events to a fresh SQLite outbox; returns seconds taken."""
    started = time.perf_counter()
    db = Database(f"sqlite:///{path}")
    outbox.metadata.create_all(db.engine, tables=[outbox])
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for first in range(0, events, CHUNK):
        batch = [_event(i, start) for i in range(first, min(first + CHUNK, events))]
        with db.session() as session:
            append_events(unscoped(session), batch)
    db.dispose()
    return time.perf_counter() - started


def _event(i: int, start: datetime) -> Event:
    kind = TYPES[i % len(TYPES)]
    return Event(
        tenant_id=TENANTS[i % len(TENANTS)],
        ts=start + timedelta(milliseconds=37 * i),
        type=kind,
        profile_id=f"p{i % 50_000}",
        identities=[Identity(namespace="wechat_openid:wx01", value=f"o{i % 50_000:08d}")],
        org_id=f"store-{i % 700}",
        sku=f"sku-{i % 120}",
        region=REGIONS[i % len(REGIONS)],
        amount=(i % 5000) * 10 if kind == "order.paid" else None,
        properties={"channel": "wechat", "seq": i},
    )


def copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def timed_flush(outbox_path: Path, warehouse_url: str, batch_size: int, expected: int) -> float:
    db = Database(f"sqlite:///{outbox_path}")
    try:
        with open_warehouse_url(warehouse_url) as warehouse:
            warehouse.ensure_schema()
            result = flush_outbox(db, warehouse, batch_size=batch_size)
            stored = _count(warehouse)
    finally:
        db.dispose()
    if result.events != expected or stored != expected:
        raise SystemExit(f"{warehouse_url}: moved {result.events}, stored {stored}, expected {expected}")
    print(
        f"{warehouse_url.split(':')[0]:>7}: {result.events:,} events in {result.batches} batches, "
        f"{result.seconds:.2f}s, {result.events_per_second:,.0f} events/s"
    )
    return result.events_per_second


def _count(warehouse: Warehouse) -> int:
    return int(warehouse.query("SELECT count(*) AS n FROM events").rows[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=Settings().outbox_batch_size)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bcone-bench-") as tmp:
        work = Path(tmp)
        built = build_outbox(work / "template.db", args.events)
        print(f"set-up: {args.events:,} events appended to a SQLite outbox in {built:.1f}s (not timed)")
        copy_sqlite(work / "template.db", work / "duckdb.db")
        copy_sqlite(work / "template.db", work / "chdb.db")
        duck = timed_flush(
            work / "duckdb.db", f"duckdb:///{work / 'warehouse.duckdb'}", args.batch_size, args.events
        )
        ch = timed_flush(work / "chdb.db", f"chdb:///{work / 'chdb'}", args.batch_size, args.events)
    print(
        json.dumps(
            {
                "bench": "outbox_flush",
                "events": args.events,
                "duckdb_events_per_s": round(duck),
                "chdb_events_per_s": round(ch),
                "batch_size": args.batch_size,
                "outbox": "sqlite",
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
