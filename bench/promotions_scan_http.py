"""The scan endpoint end to end over HTTP: ``GET /01/{gtin}/21/{serial}`` under loopback load.

Sets up a brand (SKU, a batch of codes, an active campaign whose red packets every first scan
wins), starts ``bcone serve`` (uvicorn, ``--workers`` processes) on it and drives the printed URLs
from this process over ``--concurrency`` persistent connections, each request a *different*
code (``--repeat`` of them re-scans of a code already scanned: checked again, already
rewarded), with ``Accept: application/json`` as an app sends, an ``openid`` among 1,000
consumers and a device. Every request therefore does the whole scan: authenticity (tag, key,
range), the code's count, its history row and ``code.scanned`` event, the reward decision
(claim, draw, budget), the ledger posting budget → wallet and the ``reward.granted`` event.
After the run it checks the books: rewards paid = postings = budget spent.

    .venv/bin/python bench/promotions_scan_http.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/promotions_scan_http.py --workers 2 --concurrency 32 --seconds 20 --database-url …

Prints a summary, then the figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loadgen import LoadResult, _read_response
from list_endpoint import _free_port, _fresh_schema, _wait_ready
from sqlalchemy import func, select, text

from bcone.catalog import service as catalog
from bcone.catalog.schemas import ProductIn, SkuIn
from bcone.codes import service as codes
from bcone.codes.schemas import BatchIn
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam import service as iam
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec
from bcone.migrate import upgrade_to_head
from bcone.promotions import service as promotions
from bcone.promotions.models import Reward
from bcone.promotions.schemas import CampaignIn

SECRET = "promotions-http-bench-secret-key-0123456789abcdef"
AMOUNT = 100


def _prepare(data_dir: Path, database_url: str | None, codes_needed: int) -> tuple[str, str, list[str]]:
    settings = Settings(
        environment="development", data_dir=data_dir, database_url=database_url, secret_key=SECRET
    )
    db = Database(settings.effective_database_url)
    upgrade_to_head(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="scanbench", name="Scan bench").id
    with db.session(tenant_id=tenant) as s:
        catalog.create_product(ProductIn(name="Tea"), session=s)
        catalog.create_sku(
            SkuIn(product_name="Tea", sku_code="T-1", gtin="6901234567892", name="Tea", list_price="3"),
            session=s,
        )
        batch = codes.create_batch(
            BatchIn(sku_code="T-1", count=codes_needed, lot="B1"), session=s, secret_key=SECRET
        )
        urls = codes.sample_urls(batch.id, codes_needed, session=s, secret_key=SECRET)
        campaign = promotions.create_campaign(
            CampaignIn(
                name="bench",
                budget_fen=codes_needed * AMOUNT,
                prizes=[{"kind": "red_packet", "probability": 1, "amount_fen": AMOUNT}],
            ),
            session=s,
        )
        promotions.change_status(campaign.id, "activate", session=s)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    db.dispose()
    return tenant, campaign.id, [urlsplit(u).path for u in urls]


@contextmanager
def _server(data_dir: Path, database_url: str | None, workers: int) -> Iterator[tuple[int, int]]:
    """``bcone serve`` in child processes; yields (port, pid of the parent process)."""
    port = _free_port()
    env = dict(
        os.environ, BCONE_DATA_DIR=str(data_dir), BCONE_JOBS_MODE="queue", BCONE_ENVIRONMENT="development"
    )
    if database_url:
        env["BCONE_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "bcone.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    try:
        _wait_ready(port)
        yield port, server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _paths(paths: list[str], repeat: float) -> Iterator[str]:
    """Each code once, with every ``1/repeat``-th request a re-scan of an earlier code."""
    every = round(1 / repeat) if repeat > 0 else 0
    done: list[str] = []
    for i, consumer in zip(itertools.count(), itertools.cycle(range(1000))):
        if every and i % every == every - 1 and done:
            path = done[i % len(done)]
        else:
            path = paths[len(done)]
            done.append(path)
        yield f"{path}?openid=o{consumer}&device=d{consumer}"


async def _connection(
    port: int, paths: Iterator[str], deadline: float, result: LoadResult, statuses: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < deadline:
            path = next(paths)
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: keep-alive\r\n"
                "Accept: application/json\r\n\r\n"
            ).encode()
            start = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            elapsed = (time.perf_counter() - start) * 1000
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                result.requests += 1
                result.latencies_ms.append(elapsed)
            else:
                result.errors += 1
    finally:
        writer.close()


async def _load(
    port: int, paths: Iterator[str], concurrency: int, seconds: float
) -> tuple[LoadResult, dict[int, int]]:
    result = LoadResult(0, 0, seconds, [])
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(_connection(port, paths, deadline, result, statuses) for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result, statuses


def _books(data_dir: Path, database_url: str | None, tenant: str, campaign: str) -> dict[str, int]:
    settings = Settings(
        environment="development", data_dir=data_dir, database_url=database_url, secret_key=SECRET
    )
    db = Database(settings.effective_database_url)
    with db.session(tenant_id=tenant, write=False) as s:
        rewards = s.scalar(select(func.count()).select_from(Reward)) or 0
        paid = s.scalar(select(func.coalesce(func.sum(Reward.amount_fen), 0))) or 0
        spec = AccountSpec(kind="campaign_budget", unit="fen", owner_type="campaign", owner_id=campaign)
        account = ledger.find_account(spec, session=s)
        funded = promotions.get_campaign(campaign, session=s).funded_fen
    db.dispose()
    left = account.balance if account else 0
    return {"rewards": int(rewards), "paid_fen": int(paid), "budget_spent_fen": funded - left}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server processes (bcone serve --workers)")
    parser.add_argument("--repeat", type=float, default=0.1, help="share of requests that re-scan a code")
    parser.add_argument("--codes", type=int, default=60_000, help="codes in the batch (enough for the run)")
    parser.add_argument("--database-url", default=None, help="default: embedded SQLite in a temp dir")
    args = parser.parse_args()

    os.environ["BCONE_SECRET_KEY"] = SECRET
    with tempfile.TemporaryDirectory() as tmp, _fresh_schema(args.database_url) as database_url:
        data_dir = Path(tmp) / "bcone-data"
        tenant, campaign, paths = _prepare(data_dir, database_url, args.codes)
        stream = _paths(paths, args.repeat)
        with _server(data_dir, database_url, args.workers) as (port, pid):
            asyncio.run(_load(port, stream, args.concurrency, args.warmup))  # warm-up, not counted
            cpu0, (busy0, all0) = _cpu_seconds(pid), _machine_busy()
            result, statuses = asyncio.run(_load(port, stream, args.concurrency, args.seconds))
            cpu1, (busy1, all1) = _cpu_seconds(pid), _machine_busy()
        books = _books(data_dir, database_url, tenant, campaign)

    backend = "postgresql" if args.database_url else "sqlite"
    exact = books["paid_fen"] == books["budget_spent_fen"] == books["rewards"] * AMOUNT
    server_cpu_ms = (cpu1 - cpu0) * 1000 / max(result.requests, 1)
    machine_busy = (busy1 - busy0) / max(all1 - all0, 1)
    print(
        f"GET /01/{{gtin}}/21/{{serial}} (JSON) on {backend}, {args.concurrency} connections, "
        f"{args.workers} worker(s), {result.seconds:.1f} s: {result.rps:,.0f} scans/s, "
        f"p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms, errors {result.errors}; "
        f"server CPU {server_cpu_ms:.2f} ms per scan, machine busy {machine_busy:.0%}; "
        f"books exact={exact} ({books})"
    )
    print(
        json.dumps(
            {
                "bench": "promotions_scan_http",
                "backend": backend,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "repeat_share": args.repeat,
                "seconds": round(result.seconds, 2),
                "scans": result.requests,
                "errors": result.errors,
                "statuses": statuses,
                "scans_per_s": round(result.rps, 1),
                "p50_ms": round(result.percentile(50), 2),
                "p99_ms": round(result.percentile(99), 2),
                "server_cpu_ms_per_scan": round(server_cpu_ms, 3),
                "machine_busy_share": round(machine_busy, 3),
                "books": books,
                "books_exact": exact,
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
