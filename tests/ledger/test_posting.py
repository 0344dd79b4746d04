"""The double-entry core on SQLite and PostgreSQL: accounts, balanced postings, idempotency,
floors, reversals, statements and tenant isolation."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.ledger import service
from bcone.ledger.errors import (
    AccountNotFound,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidPosting,
    TransactionNotFound,
    UnbalancedTransaction,
)
from bcone.ledger.models import LedgerEntry, LedgerTransaction
from bcone.ledger.schemas import AccountSpec, EntryIn, PostingIn
from tests.ledger.helpers import balance, fund, open_account


def _posting(key: str, *entries: tuple[str, int], kind: str = "scan_reward", memo: str = "") -> PostingIn:
    return PostingIn(
        idempotency_key=key,
        kind=kind,
        memo=memo,
        entries=[EntryIn(account_id=a, amount=n) for a, n in entries],
    )


def test_get_or_open_account_is_idempotent_by_kind_unit_and_owner(db: Database, tenant: TenantOut) -> None:
    spec = AccountSpec(kind="consumer_wallet", unit="fen", owner_type="profile", owner_id="p1")
    with db.session(tenant_id=tenant.id) as s:
        first = service.get_or_open_account(spec, session=s)
        again = service.get_or_open_account(spec, session=s)
        points = service.get_or_open_account(spec.model_copy(update={"unit": "points"}), session=s)
        funding = service.funding_account(session=s)
    assert first.id == again.id
    assert points.id != first.id
    assert first.floor == 0
    assert first.balance == 0
    assert funding.floor is None  # the brand's funding may go negative


def test_balanced_posting_moves_money_and_keeps_the_sum_zero(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, budget.id, 10_000)
    with db.session(tenant_id=tenant.id) as s:
        tx = service.post_transaction(_posting("scan:abc", (budget.id, -188), (wallet.id, 188)), session=s)
    assert tx.created
    assert {e.account_id: e.balance_after for e in tx.entries} == {budget.id: 9_812, wallet.id: 188}
    assert balance(db, tenant.id, budget.id) == 9_812
    assert balance(db, tenant.id, wallet.id) == 188
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert service.totals_by_unit(session=s) == {"fen": 0}


def test_replay_returns_the_original_and_other_content_is_a_conflict(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, budget.id, 1_000)
    with db.session(tenant_id=tenant.id) as s:
        first = service.post_transaction(_posting("scan:1", (budget.id, -100), (wallet.id, 100)), session=s)
    with db.session(tenant_id=tenant.id) as s:
        again = service.post_transaction(_posting("scan:1", (wallet.id, 100), (budget.id, -100)), session=s)
    assert again.id == first.id
    assert not again.created
    assert balance(db, tenant.id, wallet.id) == 100  # no second effect
    with db.session(tenant_id=tenant.id) as s, pytest.raises(IdempotencyConflict) as exc:
        service.post_transaction(_posting("scan:1", (budget.id, -200), (wallet.id, 200)), session=s)
    assert exc.value.status == 409
    assert exc.value.field == "idempotency_key"
    assert balance(db, tenant.id, wallet.id) == 100


def test_insufficient_funds_refuses_the_whole_transaction(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    w1 = open_account(db, tenant.id, "consumer_wallet", "p1")
    w2 = open_account(db, tenant.id, "consumer_wallet", "p2")
    fund(db, tenant.id, budget.id, 150)
    # w2 is credited (applied first or not, by id order); the budget cannot pay 200: nothing stays.
    with db.session(tenant_id=tenant.id) as s:
        with pytest.raises(InsufficientFunds) as exc:
            service.post_transaction(
                _posting("scan:too-much", (budget.id, -200), (w1.id, 100), (w2.id, 100)), session=s
            )
        # The caller's unit of work goes on: the savepoint took only the failed posting back.
        assert (
            s.scalar(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(LedgerTransaction.idempotency_key == "scan:too-much")
            )
            == 0
        )
    problem = exc.value.to_problem()
    assert problem["code"] == "insufficient_funds"
    assert problem["account_id"] == budget.id
    assert problem["field"] == "entries.0.amount"
    assert [balance(db, tenant.id, a.id) for a in (budget, w1, w2)] == [150, 0, 0]
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert (
            s.scalar(select(func.count()).select_from(LedgerEntry).where(LedgerEntry.account_id == w1.id))
            == 0
        )


@pytest.mark.parametrize(
    ("entries", "error", "field"),
    [
        ([("budget", -100), ("wallet", 99)], UnbalancedTransaction, "entries"),
        ([("budget", -100), ("points", 100)], UnbalancedTransaction, "entries"),
        ([("budget", -100), ("missing", 100)], InvalidPosting, "entries.1.account_id"),
        ([("budget", 0), ("wallet", 0)], InvalidPosting, "entries.0.amount"),
    ],
)
def test_bad_postings_are_refused_with_the_field(
    db: Database, tenant: TenantOut, entries: list[tuple[str, int]], error: type[Exception], field: str
) -> None:
    accounts = {
        "budget": open_account(db, tenant.id, "campaign_budget", "c1").id,
        "wallet": open_account(db, tenant.id, "consumer_wallet", "p1").id,
        "points": open_account(db, tenant.id, "consumer_wallet", "p1", unit="points").id,
        "missing": "00000000-0000-0000-0000-000000000000",
    }
    fund(db, tenant.id, accounts["budget"], 1_000)
    with db.session(tenant_id=tenant.id) as s, pytest.raises(error) as exc:
        service.post_transaction(_posting("bad", *[(accounts[n], a) for n, a in entries]), session=s)
    assert getattr(exc.value, "field", None) == field
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert service.find_transaction("bad", session=s) is None


def test_multi_unit_transaction_balanced_per_unit(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    points_budget = open_account(db, tenant.id, "campaign_budget", "c1", unit="points")
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    points = open_account(db, tenant.id, "consumer_wallet", "p1", unit="points")
    fund(db, tenant.id, budget.id, 500)
    fund(db, tenant.id, points_budget.id, 50, unit="points")
    with db.session(tenant_id=tenant.id) as s:
        service.post_transaction(
            _posting("scan:x", (budget.id, -100), (wallet.id, 100), (points_budget.id, -10), (points.id, 10)),
            session=s,
        )
        assert service.totals_by_unit(session=s) == {"fen": 0, "points": 0}
    assert balance(db, tenant.id, points.id) == 10


def test_reversal_is_idempotent_and_obeys_floors(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    store = open_account(db, tenant.id, "store_wallet", "s1")
    fund(db, tenant.id, budget.id, 1_000)
    with db.session(tenant_id=tenant.id) as s:
        tx = service.transfer(
            session=s,
            idempotency_key="r1",
            from_account_id=budget.id,
            to_account_id=wallet.id,
            amount=300,
            kind="scan_reward",
        )
    with db.session(tenant_id=tenant.id) as s:
        rev = service.reverse_transaction(tx.id, session=s, memo="fraud")
    with db.session(tenant_id=tenant.id) as s:
        again = service.reverse_transaction(tx.id, session=s)
    assert rev.reverses_id == tx.id
    assert rev.created
    assert again.id == rev.id
    assert not again.created
    assert balance(db, tenant.id, budget.id) == 1_000
    assert balance(db, tenant.id, wallet.id) == 0
    # Spent money cannot be reversed: the wallet would go below 0.
    with db.session(tenant_id=tenant.id) as s:
        tx2 = service.transfer(
            session=s,
            idempotency_key="r2",
            from_account_id=budget.id,
            to_account_id=wallet.id,
            amount=300,
            kind="scan_reward",
        )
        service.transfer(
            session=s,
            idempotency_key="spend",
            from_account_id=wallet.id,
            to_account_id=store.id,
            amount=200,
            kind="purchase",
        )
    with db.session(tenant_id=tenant.id) as s, pytest.raises(InsufficientFunds):
        service.reverse_transaction(tx2.id, session=s)
    with db.session(tenant_id=tenant.id) as s, pytest.raises(TransactionNotFound):
        service.reverse_transaction("00000000-0000-0000-0000-000000000000", session=s)


def test_statement_pages_newest_first_with_running_balance(db: Database, tenant: TenantOut) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, budget.id, 1_000)
    for i, amount in enumerate([100, 50, 25], start=1):
        with db.session(tenant_id=tenant.id) as s:
            service.transfer(
                session=s,
                idempotency_key=f"s{i}",
                from_account_id=budget.id,
                to_account_id=wallet.id,
                amount=amount,
                kind="scan_reward",
                memo=f"scan {i}",
            )
    with db.session(tenant_id=tenant.id, write=False) as s:
        first = service.statement(budget.id, PageParams(page=1, page_size=2), session=s)
        second = service.statement(budget.id, PageParams(page=2, page_size=2), session=s)
    assert first.total == 4
    assert [(x.seq, x.amount, x.balance_after) for x in first.items] == [(4, -25, 825), (3, -50, 850)]
    assert [(x.seq, x.amount, x.balance_after, x.kind) for x in second.items] == [
        (2, -100, 900, "scan_reward"),
        (1, 1_000, 1_000, "budget_topup"),
    ]
    assert first.account.balance == 825


def test_another_tenant_cannot_see_or_use_accounts(
    db: Database, tenant: TenantOut, other_tenant: TenantOut
) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    fund(db, tenant.id, budget.id, 1_000)
    theirs = open_account(db, other_tenant.id, "consumer_wallet", "p1")
    with db.session(tenant_id=other_tenant.id) as s:
        with pytest.raises(AccountNotFound):
            service.get_account(budget.id, session=s)
        with pytest.raises(InvalidPosting):
            service.transfer(
                session=s,
                idempotency_key="steal",
                from_account_id=budget.id,
                to_account_id=theirs.id,
                amount=100,
                kind="x",
            )
        assert service.list_accounts(PageParams(), session=s).total == 1
        assert service.balances_by_kind(session=s)[0].kind == "consumer_wallet"
    # The same idempotency key is free in another tenant.
    fund(db, other_tenant.id, theirs.id, 10, key=f"fund:{budget.id}:1000")
    assert balance(db, tenant.id, budget.id) == 1_000


def test_list_accounts_filters_and_balances_by_kind(db: Database, tenant: TenantOut) -> None:
    for i in range(3):
        w = open_account(db, tenant.id, "consumer_wallet", f"p{i}")
        fund(db, tenant.id, w.id, 100 * (i + 1))
    open_account(db, tenant.id, "store_wallet", "s1")
    with db.session(tenant_id=tenant.id, write=False) as s:
        wallets = service.list_accounts(PageParams(page_size=2), session=s, kind="consumer_wallet")
        owned = service.list_accounts(PageParams(), session=s, owner_id="p1")
        kinds = {(k.kind, k.unit): (k.accounts, k.balance) for k in service.balances_by_kind(session=s)}
    assert wallets.total == 3
    assert len(wallets.items) == 2
    assert [a.owner_id for a in owned.items] == ["p1"]
    assert kinds[("consumer_wallet", "fen")] == (3, 600)
    assert kinds[("funding", "fen")] == (1, -600)
    assert kinds[("store_wallet", "fen")] == (1, 0)
