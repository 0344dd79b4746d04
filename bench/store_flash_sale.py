"""Flash sale over HTTP: many buyers at once for a few units; units sold must equal the stock.

Builds the same brand as ``store_checkout.py`` with ONE store holding ``--units`` units (and no
other stock anywhere), starts ``bcone serve``, then opens ``--buyers`` connections that each try
to buy one unit at the same moment: checkout (stock held by one conditional update), pay, and the
simulator's signed callback. Refused checkouts answer 409 ``out_of_stock``. Prints units sold
versus stock, refusals, and the time from the start until the last unit was paid, then one JSON
object.

    python bench/store_flash_sale.py [--database-url URL] [--buyers 500] [--units 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from list_endpoint import _fresh_schema, _server
from sqlalchemy import func, select
from store_checkout import _post, _prepare

from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.core.tenancy import unscoped
from bcone.store.order_models import Order, StockLevel


def _code(status: int, answer: bytes) -> str:
    """The problem's ``code`` of a refused request, else its HTTP status."""
    try:
        return str(json.loads(answer).get("code", status))
    except ValueError:
        return f"http_{status}"


async def _buyer(
    n: int,
    port: int,
    slug: str,
    sku: str,
    start: asyncio.Event,
    outcomes: dict[str, int],
    paid_at: list[float],
) -> None:
    host = "127.0.0.1"
    reader, writer = await asyncio.open_connection(host, port)
    try:
        await start.wait()
        key = f"flash-{n}"
        body = json.dumps(
            {
                "consumer_key": key,
                "items": [{"sku_id": sku, "quantity": 1}],
                "address": {
                    "name": "李四",
                    "phone": "13900139000",
                    "division_code": "310101",
                    "lng": 121.4844,
                    "lat": 31.2317,
                },
            }
        ).encode()
        status, answer = await _post(reader, writer, host, f"/api/v1/store/public/{slug}/checkout", body)
        if status != 201:
            code = _code(status, answer)
            outcomes[code] = outcomes.get(code, 0) + 1
            return
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
            code = "pay_" + _code(status, answer)
            outcomes[code] = outcomes.get(code, 0) + 1
            return
        trade = json.loads(answer)["out_trade_no"]
        status, answer = await _post(
            reader, writer, host, f"/api/v1/store/public/{slug}/payments/{trade}/simulate", b""
        )
        state = json.loads(answer)["status"] if status == 200 else "callback_" + _code(status, answer)
        outcomes[state] = outcomes.get(state, 0) + 1
        if state == "assigned":
            paid_at.append(time.perf_counter())
    finally:
        writer.close()


async def _sale(port: int, slug: str, sku: str, buyers: int) -> tuple[dict[str, int], float, float]:
    start = asyncio.Event()
    outcomes: dict[str, int] = {}
    paid_at: list[float] = []
    tasks = [asyncio.create_task(_buyer(n, port, slug, sku, start, outcomes, paid_at)) for n in range(buyers)]
    await asyncio.sleep(1.0)  # every connection open before the sale starts
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    ended = time.perf_counter()
    sold_out = (max(paid_at) - began) if paid_at else float("nan")
    return outcomes, sold_out, ended - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--buyers", type=int, default=500)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="server processes (bcone serve --workers)")
    parser.add_argument("--database-url", default=None, help="default: embedded SQLite in a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, _fresh_schema(args.database_url) as database_url:
        data_dir = Path(tmp) / "bcone-data"
        slug, sku = _prepare(data_dir, database_url, stores=1, units=args.units)
        with _server(data_dir, database_url, args.workers) as port:
            outcomes, sold_out, elapsed = asyncio.run(_sale(port, slug, sku, args.buyers))
        settings = Settings(environment="development", data_dir=data_dir, database_url=database_url)
        db = Database(settings.effective_database_url)
        with db.session(write=False) as s:
            unscoped(s)
            orders = s.scalar(select(func.count()).select_from(Order).where(Order.status == "assigned")) or 0
            on_hand, reserved = s.execute(select(StockLevel.on_hand, StockLevel.reserved)).one()
        db.dispose()

    backend = "postgresql" if args.database_url else "sqlite"
    sold = outcomes.get("assigned", 0)
    print(
        f"flash sale on {backend}: {args.buyers} buyers for {args.units} units, {args.workers} worker(s): "
        f"sold {sold} (orders paid {orders}, stock reserved {reserved} of {on_hand}), refused {outcomes}, "
        f"sold out in {sold_out:.2f} s, all answered in {elapsed:.2f} s"
    )
    print(
        json.dumps(
            {
                "bench": "store_flash_sale",
                "backend": backend,
                "buyers": args.buyers,
                "stock": args.units,
                "units_sold": sold,
                "orders_paid": orders,
                "reserved": reserved,
                "exact": sold == args.units == orders == reserved,
                "outcomes": outcomes,
                "sell_out_s": round(sold_out, 3),
                "all_answered_s": round(elapsed, 3),
                "workers": args.workers,
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
