"""Checkout to paid over HTTP, under a loopback load generator (orders/s, p50, p99).

Builds a brand in a fresh database (PostgreSQL schema ``bench_store_<pid>`` when
``--database-url`` is given, else SQLite in a temp dir): a distributor, 20 stores around 上海黄浦,
one SKU with a million units at each store, and a storefront. Starts ``bcone serve`` (uvicorn, the
development payment simulator) in a child process, then ``--concurrency`` buyers each loop over
one order: ``POST /api/v1/store/public/{slug}/checkout`` (prices, nearest store, stock hold),
``POST …/orders/{id}/pay`` (opens the payment) and ``POST …/payments/{trade}/simulate`` (the
signed callback, verified and applied). An order's latency runs from the checkout request to
the paid answer. Prints orders/s, p50 and p99, then one JSON object.

    python bench/store_checkout.py [--database-url URL] [--seconds 20] [--concurrency 16] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from list_endpoint import _fresh_schema, _server
from sqlalchemy import text

from bcone.catalog import service as catalog
from bcone.catalog.schemas import ProductIn, SkuIn
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.iam import service as iam
from bcone.migrate import upgrade_to_head
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from bcone.store import service
from bcone.store.order_schemas import StockAdjustIn
from bcone.store.schemas import StorefrontIn

STORES = 20
UNITS = 1_000_000


def _server_cpu_seconds(port: int) -> float:
    """User + system CPU seconds used so far by the ``bcone serve`` listening on ``port`` and its
    worker processes (from /proc; 0.0 where there is none): what an order costs the app server,
    whatever else the machine is doing."""
    proc = Path("/proc")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    roots: set[int] = set()
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in proc.glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
        if b"serve" in cmdline and b"--port" in cmdline and str(port).encode() in cmdline:
            roots.add(pid)
    total = 0.0
    for pid, seconds in cpu.items():
        p = pid
        while p > 1:
            if p in roots:
                total += seconds
                break
            p = parents.get(p, 0)
    return total


def _prepare(
    data_dir: Path, database_url: str | None, *, stores: int = STORES, units: int = UNITS
) -> tuple[str, str]:
    """The brand, its network, stock and storefront; returns (storefront slug, SKU id)."""
    settings = Settings(environment="development", data_dir=data_dir, database_url=database_url)
    db = Database(settings.effective_database_url)
    upgrade_to_head(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="bench", name="Bench Tea")
    with db.session(tenant_id=tenant.id) as s:
        network.create_organization(
            OrganizationIn(
                kind="distributor",
                code="D-SH",
                name="上海茶饮",
                division_code="310101",
                sales_regions=["310000"],
            ),
            session=s,
        )
        store_ids = []
        for i in range(stores):
            store_ids.append(
                network.create_organization(
                    OrganizationIn(
                        kind="store",
                        code=f"S-{i:03d}",
                        name=f"门店 {i}",
                        parent_code="D-SH",
                        division_code="310101",
                        lng=121.48 + (i % 5) * 0.004,
                        lat=31.23 + (i // 5) * 0.004,
                    ),
                    session=s,
                ).id
            )
        product = catalog.create_product(ProductIn(name="冷泡茶", line="茶饮"), session=s)
        sku = catalog.create_sku(
            SkuIn(product_id=product.id, sku_code="TEA-500", name="冷泡茶 500ml", list_price="59.90"),
            session=s,
        )
        for org_id in store_ids:
            service.adjust_stock(StockAdjustIn(org_id=org_id, sku_id=sku.id, delta=units), session=s)
        front = service.create_storefront(StorefrontIn(org_id=store_ids[0]), session=s)
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    db.dispose()
    return front.slug, sku.id


@dataclass
class Run:
    orders: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, max(0, round(q / 100 * (len(data) - 1))))]


async def _post(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    path: str,
    body: bytes,
    extra: str = "",
) -> tuple[int, bytes]:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    )
    writer.write(head.encode() + body)
    raw = await reader.readuntil(b"\r\n\r\n")
    status = int(raw[9:12])
    length = 0
    for line in raw.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
    return status, (await reader.readexactly(length) if length else b"")


async def _buyer(n: int, host: str, port: int, slug: str, sku: str, deadline: float, run: Run) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.perf_counter() < deadline:
            i += 1
            key = f"bench-{n}-{i}"
            body = json.dumps(
                {
                    "consumer_key": key,
                    "items": [{"sku_id": sku, "quantity": 1}],
                    "address": {
                        "name": "张三",
                        "phone": "13800138000",
                        "division_code": "310101",
                        "line": "南京东路 1 号",
                        "lng": 121.4844,
                        "lat": 31.2317,
                    },
                }
            ).encode()
            start = time.perf_counter()
            status, answer = await _post(reader, writer, host, f"/api/v1/store/public/{slug}/checkout", body)
            if status != 201:
                run.errors += 1
                run.statuses[status] = run.statuses.get(status, 0) + 1
                continue
            order_id = json.loads(answer)["id"]
            status, answer = await _post(
                reader,
                writer,
                host,
                f"/api/v1/store/public/{slug}/orders/{order_id}/pay",
                b"",
                f"X-Consumer-Key: {key}\r\n",
            )
            if status != 200:
                run.errors += 1
                run.statuses[status] = run.statuses.get(status, 0) + 1
                continue
            trade = json.loads(answer)["out_trade_no"]
            status, answer = await _post(
                reader, writer, host, f"/api/v1/store/public/{slug}/payments/{trade}/simulate", b""
            )
            if status != 200 or json.loads(answer)["status"] != "assigned":
                run.errors += 1
                run.statuses[status] = run.statuses.get(status, 0) + 1
                continue
            run.orders += 1
            run.latencies_ms.append((time.perf_counter() - start) * 1000)
    finally:
        writer.close()


async def _load(port: int, slug: str, sku: str, concurrency: int, seconds: float) -> tuple[Run, float]:
    run = Run()
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(
        *(_buyer(n, "127.0.0.1", port, slug, sku, deadline, run) for n in range(concurrency))
    )
    return run, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server processes (bcone serve --workers)")
    parser.add_argument("--database-url", default=None, help="default: embedded SQLite in a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, _fresh_schema(args.database_url) as database_url:
        data_dir = Path(tmp) / "bcone-data"
        slug, sku = _prepare(data_dir, database_url)
        with _server(data_dir, database_url, args.workers) as port:
            asyncio.run(_load(port, slug, sku, args.concurrency, args.warmup))
            cpu_before = _server_cpu_seconds(port)
            run, elapsed = asyncio.run(_load(port, slug, sku, args.concurrency, args.seconds))
            server_cpu = _server_cpu_seconds(port) - cpu_before

    backend = "postgresql" if args.database_url else "sqlite"
    rate = run.orders / elapsed if elapsed else 0.0
    cpu_ms = server_cpu * 1000 / run.orders if run.orders else float("nan")
    load = os.getloadavg()
    print(
        f"checkout -> paid on {backend}, {args.concurrency} buyers, {args.workers} worker(s), {elapsed:.1f} s: "
        f"{rate:,.0f} orders/s, p50 {run.percentile(50):.1f} ms, p99 {run.percentile(99):.1f} ms, "
        f"errors {run.errors} {run.statuses or ''}; app server CPU {cpu_ms:.1f} ms per order, "
        f"load average {load[0]:.1f}"
    )
    print(
        json.dumps(
            {
                "bench": "store_checkout",
                "backend": backend,
                "requests_per_order": 3,
                "stores": STORES,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "seconds": round(elapsed, 2),
                "orders": run.orders,
                "errors": run.errors,
                "orders_per_s": round(rate, 1),
                "p50_ms": round(run.percentile(50), 2),
                "p99_ms": round(run.percentile(99), 2),
                "server_cpu_ms_per_order": round(cpu_ms, 2),
                "load_average_1m": round(load[0], 2),
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
