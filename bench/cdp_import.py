"""File import: ``bcone cdp import FILE`` on N events (JSON lines or CSV), on a fresh database.

Writes ``--events`` events of ``--consumers`` people (the mix of ``bench/cdp_ingest.py``: page
views, paid orders, scans, store visits, identifications and shares, one to three identifiers
each) to a file (not timed), then times :func:`bcone.cdp.service.import_events_file`, the
function behind the command: parsing, per-line validation, identity resolution and the outbox
append, one transaction per batch of 1,000 lines.

Prints its figures, then one JSON object on the last line.

    python bench/cdp_import.py [--events 100000] [--consumers 25000] [--format jsonl|csv]
        [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp_ingest import _event  # type: ignore[import-not-found]

from bcone.cdp import service
from bcone.core.db import Database
from bcone.iam import service as iam
from bcone.models import metadata

SECRET = "bench-secret-key-of-at-least-32-characters"


def _write(path: Path, events: list[dict[str, Any]], fmt: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        if fmt == "jsonl":
            for e in events:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
            return
        namespaces = sorted({i["namespace"] for e in events for i in e["identities"]})
        writer = csv.writer(f)
        writer.writerow(
            ["event_id", "type", "ts", "org_id", "amount", "properties", *(f"id:{ns}" for ns in namespaces)]
        )
        for e in events:
            ids = {i["namespace"]: i["value"] for i in e["identities"]}
            writer.writerow(
                [
                    e["event_id"],
                    e["type"],
                    e["ts"],
                    e.get("org_id", ""),
                    e.get("amount", ""),
                    json.dumps(e["properties"]) if "properties" in e else "",
                    *(ids.get(ns, "") for ns in namespaces),
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--consumers", type=int, default=25_000)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (dropped and recreated)")
    args = parser.parse_args()
    rng = random.Random(3)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    events = [_event(rng, n, args.consumers, start) for n in range(args.events)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"events.{args.format}"
        _write(path, events, args.format)
        size = path.stat().st_size
        db = Database(args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        if args.database_url:
            metadata.drop_all(db.engine)
        metadata.create_all(db.engine)
        with db.session() as s:
            tenant_id = iam.create_tenant(session=s, slug="bench", name="Bench").id
        cpu = time.process_time()
        started = time.perf_counter()
        summary = service.import_events_file(db, path, tenant_id=tenant_id, secret_key=SECRET)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        db.dispose()
    rate = summary.accepted / seconds
    figures = {
        "bench": "cdp_import",
        "format": args.format,
        "database": "postgresql" if args.database_url else "sqlite",
        "events": args.events,
        "consumers": args.consumers,
        "file_mb": round(size / 1e6, 1),
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "events_per_s": round(rate),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    print(f"{summary.accepted:,} events imported in {seconds:.2f} s: {rate:,.0f} events/s ({args.format})")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
