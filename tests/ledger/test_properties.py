"""Property tests: whatever sequence of postings is tried, the ledger's invariants hold."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.ledger import service
from bcone.ledger.errors import IdempotencyConflict, InsufficientFunds
from bcone.ledger.models import LedgerAccount, LedgerEntry
from bcone.ledger.schemas import AccountSpec, EntryIn, PostingIn

KINDS = ("campaign_budget", "consumer_wallet", "store_wallet", "funding")
_run = itertools.count()

# A posting: (unit, [(account index, amount)]); the last entry balances the others.
postings = st.lists(
    st.tuples(
        st.sampled_from(("fen", "points")),
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(-5_000, 5_000).filter(bool)), min_size=1, max_size=3
        ),
        st.integers(0, 3),
        st.booleans(),  # replay the previous key
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=postings)
def test_balances_sum_to_zero_per_unit_and_never_cross_floors(
    db: Database, tenant: TenantOut, plan: list[tuple[str, list[tuple[int, int]], int, bool]]
) -> None:
    run = next(_run)
    with db.session(tenant_id=tenant.id) as s:
        accounts = {
            (unit, i): service.get_or_open_account(
                AccountSpec(kind=kind, unit=unit, owner_type="prop", owner_id=f"{run}-{i}"), session=s
            ).id
            for unit in ("fen", "points")
            for i, kind in enumerate(KINDS)
        }
    last_key = None
    for n, (unit, moves, balancer, replay) in enumerate(plan):
        entries: dict[str, int] = {}
        for index, amount in moves:
            entries[accounts[(unit, index)]] = entries.get(accounts[(unit, index)], 0) + amount
        rest = -sum(entries.values())
        target = accounts[(unit, balancer)]
        entries[target] = entries.get(target, 0) + rest
        items = [EntryIn(account_id=a, amount=v) for a, v in entries.items() if v]
        if len(items) < 2:
            continue
        key = last_key if (replay and last_key) else f"prop:{run}:{n}"
        try:
            with db.session(tenant_id=tenant.id) as s:
                service.post_transaction(
                    PostingIn(idempotency_key=key, kind="prop", entries=items), session=s
                )
            last_key = key
        except (InsufficientFunds, IdempotencyConflict):  # a replayed key may carry other content
            pass
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert set(service.totals_by_unit(session=s).values()) <= {0}
        for account_id, bal, floor in s.execute(
            select(LedgerAccount.id, LedgerAccount.balance, LedgerAccount.floor)
        ):
            assert floor is None or bal >= floor
            total = s.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.account_id == account_id
                )
            )
            assert total == bal
