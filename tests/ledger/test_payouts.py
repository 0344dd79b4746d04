"""Payouts through the finance export: request, batch, CSV, confirmation, reconciliation."""

from __future__ import annotations

import csv
import io

import pytest

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.ledger import service
from bcone.ledger.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    InvalidConfirmation,
    InvalidPosting,
    PayoutStateConflict,
)
from bcone.ledger.schemas import ConfirmationIn, LineResult, PayoutLineOut, PayoutRequestIn
from tests.ledger.helpers import balance, fund, open_account


def _request(
    db: Database, tenant_id: str, wallet_id: str, amount: int, key: str, name: str = "张三"
) -> PayoutLineOut:
    with db.session(tenant_id=tenant_id) as s:
        return service.request_payout(
            PayoutRequestIn(
                idempotency_key=key,
                account_id=wallet_id,
                amount_fen=amount,
                payee_name=name,
                payee_account=f"acct-{key}",
            ),
            session=s,
        )


def _reconciled(db: Database, tenant_id: str) -> tuple[int, int, bool]:
    with db.session(tenant_id=tenant_id) as s:
        r = service.reconciliation(session=s)
    return r.clearing_balance, r.open_lines_total, r.balanced


def test_request_moves_money_to_clearing_once(db: Database, tenant: TenantOut) -> None:
    wallet = open_account(db, tenant.id, "store_wallet", "s1")
    fund(db, tenant.id, wallet.id, 5_000)
    line = _request(db, tenant.id, wallet.id, 3_000, "w1")
    again = _request(db, tenant.id, wallet.id, 3_000, "w1")
    assert again.id == line.id
    assert line.status == "pending"
    assert balance(db, tenant.id, wallet.id) == 2_000
    assert _reconciled(db, tenant.id) == (3_000, 3_000, True)
    with pytest.raises(IdempotencyConflict):
        _request(db, tenant.id, wallet.id, 2_000, "w1")
    with pytest.raises(InsufficientFunds):
        _request(db, tenant.id, wallet.id, 2_001, "w2")
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    with pytest.raises(InvalidPosting) as exc:
        _request(db, tenant.id, budget.id, 1, "w3")
    assert exc.value.field == "account_id"
    assert balance(db, tenant.id, wallet.id) == 2_000


def test_batch_export_and_csv_confirmation_settle_paid_and_failed(db: Database, tenant: TenantOut) -> None:
    w1 = open_account(db, tenant.id, "consumer_wallet", "p1")
    w2 = open_account(db, tenant.id, "staff_wallet", "u2")
    fund(db, tenant.id, w1.id, 1_000)
    fund(db, tenant.id, w2.id, 1_000)
    l1 = _request(db, tenant.id, w1.id, 888, "a", "李四")
    l2 = _request(db, tenant.id, w2.id, 1_000, "b", "王五")
    with db.session(tenant_id=tenant.id) as s:
        batch = service.create_batch(session=s)
    assert (batch.line_count, batch.total_fen, batch.status) == (2, 1_888, "open")
    assert {x.status for x in batch.lines} == {"batched"}
    with db.session(tenant_id=tenant.id) as s, pytest.raises(PayoutStateConflict):
        service.create_batch(session=s)  # nothing pending any more

    with db.session(tenant_id=tenant.id, write=False) as s:
        data = service.export_batch_csv(batch.id, session=s)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [(r["line_id"], r["payee_name"], r["amount_yuan"], r["status"]) for r in rows] == [
        (l1.id, "李四", "8.88", "batched"),
        (l2.id, "王五", "10.00", "batched"),
    ]
    # Finance marks line 1 paid and line 2 failed, and uploads the same file back.
    rows[0]["status"], rows[1]["status"], rows[1]["reason"] = "paid", "failed", "账户已注销"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    confirmation = service.parse_confirmation_csv(out.getvalue().encode("gbk"))
    with db.session(tenant_id=tenant.id) as s:
        closed = service.confirm_batch(batch.id, confirmation, session=s)
    assert closed.status == "closed"
    assert closed.closed_at is not None
    assert {x.id: (x.status, x.failure_reason) for x in closed.lines} == {
        l1.id: ("paid", ""),
        l2.id: ("failed", "账户已注销"),
    }
    assert balance(db, tenant.id, w1.id) == 112
    assert balance(db, tenant.id, w2.id) == 1_000  # failed: the money is back
    with db.session(tenant_id=tenant.id) as s:
        assert service.external_account(session=s).balance == 888
        # Confirming again changes nothing; the other outcome is refused.
        service.confirm_batch(batch.id, confirmation, session=s)
        with pytest.raises(PayoutStateConflict):
            service.confirm_batch(
                batch.id, ConfirmationIn(results=[LineResult(line_id=l1.id, outcome="failed")]), session=s
            )
        assert service.totals_by_unit(session=s) == {"fen": 0}
    assert balance(db, tenant.id, w1.id) == 112
    assert _reconciled(db, tenant.id) == (0, 0, True)


def test_partial_confirmation_keeps_the_batch_open_and_reconciles(db: Database, tenant: TenantOut) -> None:
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, wallet.id, 1_000)
    lines = [_request(db, tenant.id, wallet.id, 100, f"k{i}") for i in range(3)]
    with db.session(tenant_id=tenant.id) as s:
        batch = service.create_batch(session=s)
        result = service.confirm_batch(
            batch.id, ConfirmationIn(results=[LineResult(line_id=lines[0].id, outcome="paid")]), session=s
        )
    assert result.status == "open"
    assert _reconciled(db, tenant.id) == (200, 200, True)
    late = _request(db, tenant.id, wallet.id, 50, "late")
    assert _reconciled(db, tenant.id) == (250, 250, True)
    with db.session(tenant_id=tenant.id, write=False) as s:
        pending = service.list_lines(PageParams(), session=s, status="pending")
        assert [x.id for x in pending.items] == [late.id]
        assert service.list_batches(PageParams(), session=s).total == 1


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("line_id,amount_yuan\nx,1.00\n", "file"),
        ("line_id,status\nx,maybe\n", "status"),
        ("line_id,status\n,paid\n", "line_id"),
        ("line_id,status\nx,batched\n", "file"),
    ],
)
def test_bad_confirmation_files_name_the_problem(text: str, field: str) -> None:
    with pytest.raises(InvalidConfirmation) as exc:
        service.parse_confirmation_csv(text.encode())
    assert exc.value.field == field


def test_confirmation_with_a_foreign_line_changes_nothing(db: Database, tenant: TenantOut) -> None:
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, wallet.id, 1_000)
    line = _request(db, tenant.id, wallet.id, 100, "k")
    with db.session(tenant_id=tenant.id) as s:
        batch = service.create_batch(session=s)
    body = ConfirmationIn(
        results=[LineResult(line_id=line.id, outcome="paid"), LineResult(line_id="nope", outcome="paid")]
    )
    with db.session(tenant_id=tenant.id) as s, pytest.raises(InvalidConfirmation) as exc:
        service.confirm_batch(batch.id, body, session=s)
    assert exc.value.field == "results.1.line_id"
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert service.get_batch(batch.id, session=s).lines[0].status == "batched"
    assert _reconciled(db, tenant.id) == (100, 100, True)


def test_export_never_lets_a_payee_name_run_as_a_formula(db: Database, tenant: TenantOut) -> None:
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, wallet.id, 100)
    line = _request(db, tenant.id, wallet.id, 100, "evil", name='=HYPERLINK("http://x.example","点我")')
    with db.session(tenant_id=tenant.id) as s:
        batch = service.create_batch(session=s)
        rows = list(
            csv.DictReader(io.StringIO(service.export_batch_csv(batch.id, session=s).decode("utf-8-sig")))
        )
    assert rows[0]["line_id"] == line.id
    assert rows[0]["payee_name"] == '\'=HYPERLINK("http://x.example","点我")'
