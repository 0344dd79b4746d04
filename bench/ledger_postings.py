"""Balanced ledger postings per second: sequential, and N threads contending for one budget.

Each posting is one unit of work (its own session and commit), as a scan reward is: a transfer
from one campaign budget to one of ``--wallets`` consumer wallets under a fresh idempotency key.
The contended run funds the budget for only ``--cover`` of the postings, so the conditional
UPDATE refuses the rest; the run checks that exactly that many succeeded and the budget ends at 0.

    .venv/bin/python bench/ledger_postings.py                       # SQLite, small (seconds)
    .venv/bin/python bench/ledger_postings.py --postings 20000 --threads 16
    .venv/bin/python bench/ledger_postings.py --database-url postgresql://postgres@127.0.0.1:5432/test

Prints a human summary, then the figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bcone.core.db import Database
from bcone.core.ids import new_id
from bcone.ledger import service
from bcone.ledger.errors import InsufficientFunds
from bcone.ledger.schemas import AccountSpec
from bcone.models import metadata

AMOUNT = 88  # fen per red packet


def _open(db: Database, tenant: str, wallets: int, budget_fen: int) -> tuple[str, list[str]]:
    with db.session(tenant_id=tenant) as s:
        budget = service.get_or_open_account(
            AccountSpec(kind="campaign_budget", owner_type="campaign", owner_id=new_id()), session=s
        )
        ids = [
            service.get_or_open_account(
                AccountSpec(kind="consumer_wallet", owner_type="profile", owner_id=f"p{i}"), session=s
            ).id
            for i in range(wallets)
        ]
        funding = service.funding_account(session=s)
        service.transfer(
            session=s,
            idempotency_key=f"fund:{budget.id}",
            from_account_id=funding.id,
            to_account_id=budget.id,
            amount=budget_fen,
            kind="budget_topup",
        )
    return budget.id, ids


def _post(db: Database, tenant: str, budget: str, wallet: str, key: str) -> bool:
    try:
        with db.session(tenant_id=tenant) as s:
            service.transfer(
                session=s,
                idempotency_key=key,
                from_account_id=budget,
                to_account_id=wallet,
                amount=AMOUNT,
                kind="scan_reward",
            )
    except InsufficientFunds:
        return False
    return True


def _sequential(db: Database, tenant: str, n: int, wallets: int) -> dict[str, Any]:
    budget, ids = _open(db, tenant, wallets, n * AMOUNT)
    start = time.perf_counter()
    ok = sum(_post(db, tenant, budget, ids[i % wallets], f"seq:{budget}:{i}") for i in range(n))
    seconds = time.perf_counter() - start
    return {
        "postings": n,
        "succeeded": ok,
        "seconds": round(seconds, 3),
        "postings_per_s": round(n / seconds, 1),
    }


def _contended(db: Database, tenant: str, n: int, threads: int, wallets: int, cover: float) -> dict[str, Any]:
    covered = int(n * cover)
    budget, ids = _open(db, tenant, wallets, covered * AMOUNT)
    per_thread = n // threads
    barrier = threading.Barrier(threads)

    def worker(t: int) -> int:
        barrier.wait()
        return sum(
            _post(db, tenant, budget, ids[(t * per_thread + i) % wallets], f"con:{budget}:{t}:{i}")
            for i in range(per_thread)
        )

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        ok = sum(pool.map(worker, range(threads)))
    seconds = time.perf_counter() - start
    attempts = per_thread * threads
    with db.session(tenant_id=tenant, write=False) as s:
        final = service.get_account(budget, session=s).balance
        totals = service.totals_by_unit(session=s)
    return {
        "threads": threads,
        "attempts": attempts,
        "covered": covered,
        "succeeded": ok,
        "refused": attempts - ok,
        "seconds": round(seconds, 3),
        "attempts_per_s": round(attempts / seconds, 1),
        "budget_left_fen": final,
        "exact": ok == min(covered, attempts) and final == max(0, covered - attempts) * AMOUNT,
        "sum_zero": set(totals.values()) <= {0},
    }


def _database(url: str | None, tmp: Path) -> tuple[Database, str | None]:
    if url is None:
        db = Database(f"sqlite:///{tmp / 'ledger-bench.db'}")
        metadata.create_all(db.engine)
        return db, None
    schema = f"bcone_ledger_bench_{new_id()[-8:]}"
    admin = Database(url)
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    db = Database(f"{url}{sep}options=-csearch_path%3D{schema}")
    metadata.create_all(db.engine)
    return db, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--postings", type=int, default=1000, help="postings per run (default 1000)")
    parser.add_argument("--threads", type=int, default=8, help="threads of the contended run (default 8)")
    parser.add_argument("--wallets", type=int, default=100, help="consumer wallets paid (default 100)")
    parser.add_argument(
        "--cover", type=float, default=0.5, help="share of contended postings the budget covers"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, schema = _database(args.database_url, Path(tmp))
        tenant = new_id()
        try:
            sequential = _sequential(db, tenant, args.postings, args.wallets)
            contended = _contended(db, tenant, args.postings, args.threads, args.wallets, args.cover)
        finally:
            if schema is not None:
                with db.engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            db.dispose()
    result = {
        "bench": "ledger_postings",
        "database": db.dialect,
        "sequential": sequential,
        "contended": contended,
    }
    print(
        f"{db.dialect}: sequential {sequential['postings_per_s']} postings/s; "
        f"{contended['threads']} threads on one budget {contended['attempts_per_s']} attempts/s "
        f"({contended['succeeded']} paid, {contended['refused']} refused, exact={contended['exact']})"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
