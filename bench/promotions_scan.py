"""Scan → reward decision → ledger write, per second, at the service level (no HTTP).

Each scan is one unit of work, as the scan page's: ``codes.check_code`` (authenticity, state,
history, ``code.scanned`` event) then the scan listeners (promotions: block list, campaign,
rate limit, the claim on the code, the draw, daily and consumer limits, the ledger transfer
budget → consumer wallet, ``reward.granted`` event). Two runs on distinct codes:

- sequential: ``--scans`` first scans, one at a time; latency p50/p99 per scan;
- contended: ``--threads`` threads scan ``--scans`` other codes against a budget that covers only
  ``--cover`` of them; checks that exactly that many were paid and the budget ends at 0;
- check only: ``--scans`` more codes checked without the listeners, the baseline of the scan.

    .venv/bin/python bench/promotions_scan.py                      # SQLite, small (seconds)
    .venv/bin/python bench/promotions_scan.py --scans 5000 --threads 8
    .venv/bin/python bench/promotions_scan.py --database-url postgresql://postgres@127.0.0.1:5432/test

Prints a human summary, then the figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text

from bcone.catalog import service as catalog
from bcone.catalog.schemas import ProductIn, SkuIn
from bcone.codes import service as codes
from bcone.codes.schemas import BatchIn, Location
from bcone.core.db import Database
from bcone.core.ids import new_id
from bcone.iam import service as iam
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec
from bcone.models import metadata
from bcone.promotions import service as promotions
from bcone.promotions.schemas import CampaignIn

SECRET = "promotions-bench-secret-key-0123456789abcdef"
AMOUNT = 100  # fen per red packet


def _setup(db: Database, n: int) -> tuple[str, list[tuple[str, str]]]:
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug=f"bench-{new_id()[-8:].lower()}", name="Bench").id
    with db.session(tenant_id=tenant) as s:
        catalog.create_product(ProductIn(name="Tea"), session=s)
        catalog.create_sku(
            SkuIn(product_name="Tea", sku_code="T-1", gtin="6901234567892", name="Tea", list_price="3"),
            session=s,
        )
        batch = codes.create_batch(
            BatchIn(sku_code="T-1", count=3 * n, lot="B1"), session=s, secret_key=SECRET
        )
        urls = codes.sample_urls(batch.id, 3 * n, session=s, secret_key=SECRET)
    pairs = []
    for url in urls:
        parts = urlsplit(url).path.split("/")
        pairs.append((parts[2], parts[4]))
    return tenant, pairs


def _campaign(db: Database, tenant: str, name: str, budget: int) -> str:
    with db.session(tenant_id=tenant) as s:
        data = CampaignIn(
            name=name,
            budget_fen=budget,
            prizes=[{"kind": "red_packet", "probability": 1, "amount_fen": AMOUNT}],  # type: ignore[list-item]
        )
        campaign = promotions.create_campaign(data, session=s)
        promotions.change_status(campaign.id, "activate", session=s)
        return campaign.id


def _end(db: Database, tenant: str, campaign_id: str) -> None:
    with db.session(tenant_id=tenant) as s:
        promotions.change_status(campaign_id, "end", session=s)


def _scan(db: Database, gtin: str, serial: str, openid: str) -> str:
    with db.session(write=True) as s:
        check = codes.check_code(gtin, serial, Location(), session=s, secret_key=SECRET)
        answer = codes.notify_scan_listeners(check, {"openid": openid, "locale": "en"}, session=s)
    reward = answer.get("reward")
    return str(reward["outcome"]) if isinstance(reward, dict) else "none"


def _pct(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1] * 1000, 2) if len(values) > 1 else 0.0


def _sequential(db: Database, tenant: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    campaign = _campaign(db, tenant, "sequential", len(pairs) * AMOUNT)
    latencies = []
    outcomes: Counter[str] = Counter()
    start, cpu = time.perf_counter(), time.process_time()
    for i, (gtin, serial) in enumerate(pairs):
        t0 = time.perf_counter()
        outcomes[_scan(db, gtin, serial, f"o{i % 1000}")] += 1
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    _end(db, tenant, campaign)
    return {
        "scans": len(pairs),
        "app_cpu_ms_per_scan": round(cpu * 1000 / len(pairs), 3),
        "outcomes": dict(outcomes),
        "seconds": round(seconds, 3),
        "scans_per_s": round(len(pairs) / seconds, 1),
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
    }


def _check_only(db: Database, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """The baseline: the same scans without the listeners (authenticity check alone)."""
    latencies = []
    start, cpu = time.perf_counter(), time.process_time()
    for gtin, serial in pairs:
        t0 = time.perf_counter()
        with db.session(write=True) as s:
            codes.check_code(gtin, serial, Location(), session=s, secret_key=SECRET)
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return {
        "scans": len(pairs),
        "app_cpu_ms_per_scan": round(cpu * 1000 / len(pairs), 3),
        "seconds": round(seconds, 3),
        "scans_per_s": round(len(pairs) / seconds, 1),
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
    }


def _contended(
    db: Database, tenant: str, pairs: list[tuple[str, str]], threads: int, cover: float
) -> dict[str, Any]:
    covered = int(len(pairs) * cover)
    campaign = _campaign(db, tenant, "contended", covered * AMOUNT)
    barrier = threading.Barrier(threads)

    def worker(t: int) -> tuple[Counter[str], list[float]]:
        barrier.wait()
        seen: Counter[str] = Counter()
        lat = []
        for i in range(t, len(pairs), threads):
            t0 = time.perf_counter()
            seen[_scan(db, *pairs[i], f"o{i % 1000}")] += 1
            lat.append(time.perf_counter() - t0)
        return seen, lat

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(worker, range(threads)))
    seconds = time.perf_counter() - start
    outcomes: Counter[str] = sum((r[0] for r in results), Counter())
    latencies = [x for r in results for x in r[1]]
    with db.session(tenant_id=tenant, write=False) as s:
        spec = AccountSpec(kind="campaign_budget", unit="fen", owner_type="campaign", owner_id=campaign)
        account = ledger.find_account(spec, session=s)
        left = account.balance if account else -1
    return {
        "threads": threads,
        "scans": len(pairs),
        "covered": covered,
        "outcomes": dict(outcomes),
        "seconds": round(seconds, 3),
        "scans_per_s": round(len(pairs) / seconds, 1),
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
        "budget_left_fen": left,
        "exact": outcomes["granted"] == covered and left == 0,
    }


def _database(url: str | None, tmp: Path) -> tuple[Database, str | None]:
    if url is None:
        db = Database(f"sqlite:///{tmp / 'promotions-bench.db'}")
        metadata.create_all(db.engine)
        return db, None
    schema = f"bcone_promotions_bench_{new_id()[-8:]}"
    admin = Database(url)
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    db = Database(f"{url}{sep}options=-csearch_path%3D{schema}")
    metadata.create_all(db.engine)
    return db, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--scans", type=int, default=500, help="scans per run (default 500)")
    parser.add_argument("--threads", type=int, default=4, help="threads of the contended run (default 4)")
    parser.add_argument("--cover", type=float, default=0.5, help="share of contended scans the budget pays")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, schema = _database(args.database_url, Path(tmp))
        try:
            tenant, pairs = _setup(db, args.scans)
            sequential = _sequential(db, tenant, pairs[: args.scans])
            contended = _contended(db, tenant, pairs[args.scans : 2 * args.scans], args.threads, args.cover)
            baseline = _check_only(db, pairs[2 * args.scans :])
        finally:
            if schema is not None:
                with db.engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            db.dispose()
    result = {
        "bench": "promotions_scan",
        "level": "service (codes.check_code + scan listeners, one unit of work per scan; no HTTP)",
        "database": db.dialect,
        "sequential": sequential,
        "contended": contended,
        "check_only": baseline,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(
        f"{db.dialect}: sequential {sequential['scans_per_s']} scans/s (p50 {sequential['p50_ms']} ms, "
        f"p99 {sequential['p99_ms']} ms); {contended['threads']} threads {contended['scans_per_s']} scans/s "
        f"(p50 {contended['p50_ms']} ms, p99 {contended['p99_ms']} ms, exact={contended['exact']}); "
        f"check alone {baseline['scans_per_s']} scans/s (p50 {baseline['p50_ms']} ms); application CPU per "
        f"scan {sequential['app_cpu_ms_per_scan']} ms (check alone {baseline['app_cpu_ms_per_scan']} ms), "
        f"load {result['load_average_1m']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
