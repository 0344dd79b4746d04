"""Event ingestion through the HTTP API: ``POST /api/v1/cdp/events`` in batches of 500.

The application runs in this process behind FastAPI's ``TestClient`` (no network, no separate
server process), on a fresh SQLite file, with an owner API key. Every request goes through the
whole stack: authentication, per-event validation, identity resolution and the outbox append in
one transaction. The events mimic a brand's mix: page views, paid orders, code scans, store
visits, identifications and shares, each with one to three identifiers of some ``--consumers``
people (openid, unionid, phone, Tmall id, device), so profiles are created, attached and merged.

Prints its figures, then one JSON object on the last line.

    python bench/cdp_ingest.py [--events 20000] [--batch 500] [--consumers 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam import service as iam
from bcone.models import metadata

TYPES = ("page.viewed", "order.paid", "code.scanned", "store.visited", "profile.identified", "share.clicked")


def _identities(rng: random.Random, k: int) -> list[dict[str, str]]:
    own = [
        {"namespace": "wechat_openid:wxbench", "value": f"o{k}"},
        {"namespace": "wechat_unionid:opbench", "value": f"u{k}"},
        {"namespace": "phone", "value": f"139{k:08d}"},
        {"namespace": "tmall_ouid", "value": f"t{k}"},
        {"namespace": "device", "value": f"d{k}"},
    ]
    return rng.sample(own, rng.choice((1, 2, 2, 3)))


def _event(rng: random.Random, n: int, consumers: int, start: datetime) -> dict[str, Any]:
    kind = rng.choice(TYPES)
    event: dict[str, Any] = {
        "event_id": f"bench-{n}",
        "type": kind,
        "ts": (start + timedelta(seconds=n)).isoformat(),
        "identities": _identities(rng, rng.randrange(consumers)),
    }
    if kind == "page.viewed":
        event["properties"] = {"url": f"/p/{n % 50}"}
    elif kind == "order.paid":
        event["amount"] = rng.randrange(100, 100_000)
        event["properties"] = {"order_id": f"O{n}", "channel": "tmall"}
    elif kind == "store.visited":
        event["org_id"] = f"S{n % 200}"
    elif kind == "share.clicked":
        event["properties"] = {"content_id": f"poster-{n % 20}"}
    return event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--consumers", type=int, default=5_000)
    args = parser.parse_args()
    rng = random.Random(3)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    batches = [
        [_event(rng, n, args.consumers, start) for n in range(i, min(i + args.batch, args.events))]
        for i in range(0, args.events, args.batch)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp) / "data")
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        metadata.create_all(db.engine)
        with db.session() as s:
            tenant = iam.create_tenant(session=s, slug="bench", name="Bench")
        with db.session(tenant_id=tenant.id) as s:
            key = iam.create_api_key(session=s, name="bench", role="owner")
        latencies: list[float] = []
        accepted = 0
        with TestClient(
            create_app(settings, db=db), headers={"Authorization": f"Bearer {key.secret}"}
        ) as client:
            started = time.perf_counter()
            cpu = time.process_time()
            for batch in batches:
                t0 = time.perf_counter()
                resp = client.post("/api/v1/cdp/events", json={"events": batch})
                latencies.append(time.perf_counter() - t0)
                resp.raise_for_status()
                accepted += resp.json()["accepted"]
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
        db.dispose()
    rate = accepted / seconds
    figures = {
        "bench": "cdp_ingest",
        "transport": "in-process TestClient",
        "database": "sqlite",
        "events": accepted,
        "batch": args.batch,
        "consumers": args.consumers,
        "seconds": round(seconds, 2),
        "events_per_s": round(rate),
        "batch_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "batch_max_ms": round(max(latencies) * 1000, 1),
        # The process's CPU time (server and client threads): on a machine shared with other
        # runs, events per CPU second is what the code costs, the wall clock what it got.
        "cpu_seconds": round(cpu, 2),
        "events_per_cpu_s": round(accepted / cpu),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    print(f"{accepted:,} events in {seconds:.2f} s: {rate:,.0f} events/s (batches of {args.batch})")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
