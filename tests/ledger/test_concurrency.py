"""Concurrency, proven on both databases with real threads and one session per thread.

On PostgreSQL the sessions run under READ COMMITTED: what keeps the budget from being overspent is
the conditional UPDATE (``balance + :delta >= floor``), re-evaluated on the newest committed row.
On SQLite every write session begins IMMEDIATE and the write lock serialises the posts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import func, select, text

from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.ledger import service
from bcone.ledger.errors import InsufficientFunds
from bcone.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from bcone.ledger.schemas import AccountSpec, TransactionOut
from tests.ledger.helpers import balance, fund, open_account

T = TypeVar("T")
THREADS = 20


def _run_together(n: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` for i in range(n) on n threads that start at the same moment."""
    barrier = threading.Barrier(n)

    def _one(i: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(i)
        except BaseException as exc:  # collected and checked by the test
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(_one, range(n)))


def test_postgres_sessions_run_read_committed(db: Database) -> None:
    if db.dialect != "postgresql":
        return
    with db.session() as s:
        assert s.execute(text("SHOW transaction_isolation")).scalar() == "read committed"


def test_twenty_threads_never_overspend_a_budget(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    wallets = [open_account(db, tenant.id, "consumer_wallet", f"p{i}") for i in range(THREADS)]
    fund(db, tenant.id, budget.id, 100 * 88)  # covers exactly 100 red packets of 0.88 yuan

    def ten_posts(i: int) -> tuple[int, int]:
        ok = refused = 0
        for j in range(10):
            try:
                with db.session(tenant_id=tenant.id) as s:
                    service.transfer(
                        session=s,
                        idempotency_key=f"scan:{i}:{j}",
                        from_account_id=budget.id,
                        to_account_id=wallets[i].id,
                        amount=88,
                        kind="scan_reward",
                    )
                ok += 1
            except InsufficientFunds:
                refused += 1
        return ok, refused

    results = _run_together(THREADS, ten_posts)
    assert not [r for r in results if isinstance(r, BaseException)], results
    counts = [r for r in results if isinstance(r, tuple)]
    assert sum(ok for ok, _ in counts) == 100
    assert sum(refused for _, refused in counts) == 100
    assert balance(db, tenant.id, budget.id) == 0
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert service.totals_by_unit(session=s) == {"fen": 0}
        paid = s.scalar(
            select(func.sum(LedgerAccount.balance)).where(LedgerAccount.kind == "consumer_wallet")
        )
        assert paid == 100 * 88
        # Every cached balance equals the sum of its entries, and seq has no gap or duplicate.
        for account_id, bal, count in s.execute(
            select(LedgerAccount.id, LedgerAccount.balance, LedgerAccount.entry_count)
        ):
            total, n, top = s.execute(
                select(
                    func.coalesce(func.sum(LedgerEntry.amount), 0), func.count(), func.max(LedgerEntry.seq)
                ).where(LedgerEntry.account_id == account_id)
            ).one()
            assert (total, n, top or 0) == (bal, count, count)


def test_same_key_from_twenty_threads_posts_once(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, budget.id, 10_000)

    def post(_: int) -> TransactionOut:
        with db.session(tenant_id=tenant.id) as s:
            return service.transfer(
                session=s,
                idempotency_key="scan:code-123",
                from_account_id=budget.id,
                to_account_id=wallet.id,
                amount=500,
                kind="scan_reward",
            )

    results = _run_together(THREADS, post)
    txs = [r for r in results if isinstance(r, TransactionOut)]
    assert len(txs) == THREADS, [r for r in results if isinstance(r, BaseException)]
    assert len({t.id for t in txs}) == 1
    assert sum(t.created for t in txs) == 1
    assert balance(db, tenant.id, wallet.id) == 500
    assert balance(db, tenant.id, budget.id) == 9_500
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(LedgerTransaction.idempotency_key == "scan:code-123")
            )
            == 1
        )


def test_opening_the_same_account_from_twenty_threads_opens_one(db: Database, tenant: TenantOut) -> None:
    spec = AccountSpec(kind="consumer_wallet", owner_type="profile", owner_id="p-race")

    def open_it(_: int) -> str:
        with db.session(tenant_id=tenant.id) as s:
            return service.get_or_open_account(spec, session=s).id

    results = _run_together(THREADS, open_it)
    ids = {r for r in results if isinstance(r, str)}
    assert len(ids) == 1, results


def test_a_waiting_spender_sees_the_committed_balance_and_is_refused(db: Database, tenant: TenantOut) -> None:
    """Two spenders of the same 100 fen, interleaved on purpose: A has debited but not committed
    when B tries. B's conditional UPDATE waits for A's row lock (PostgreSQL) or for the write
    lock (SQLite), then finds the balance A committed, and is refused; a read-then-write check
    would have let both pay."""
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    w1 = open_account(db, tenant.id, "consumer_wallet", "p1")
    w2 = open_account(db, tenant.id, "consumer_wallet", "p2")
    fund(db, tenant.id, budget.id, 100)
    a_posted, b_started = threading.Event(), threading.Event()
    order: list[str] = []

    def spender_a() -> None:
        with db.session(tenant_id=tenant.id) as s:
            service.transfer(
                session=s,
                idempotency_key="a",
                from_account_id=budget.id,
                to_account_id=w1.id,
                amount=100,
                kind="scan_reward",
            )
            a_posted.set()
            assert b_started.wait(10)
            time.sleep(0.3)  # B is now waiting on the lock, not yet answered
            order.append("a commits")

    def spender_b() -> None:
        assert a_posted.wait(10)
        b_started.set()
        try:
            with db.session(tenant_id=tenant.id) as s:
                service.transfer(
                    session=s,
                    idempotency_key="b",
                    from_account_id=budget.id,
                    to_account_id=w2.id,
                    amount=100,
                    kind="scan_reward",
                )
            order.append("b paid")
        except InsufficientFunds:
            order.append("b refused")

    threads = [threading.Thread(target=spender_a), threading.Thread(target=spender_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert order == ["a commits", "b refused"]
    assert (
        balance(db, tenant.id, budget.id),
        balance(db, tenant.id, w1.id),
        balance(db, tenant.id, w2.id),
    ) == (
        0,
        100,
        0,
    )
