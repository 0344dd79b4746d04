"""Commissions: accrual by level, settlement to the ledger once (also when two runs race), and
claw-backs that reverse exactly what was paid, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from bcone.core.db import Database, utcnow
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.ledger import service as ledger
from bcone.store import service
from bcone.store.schemas import (
    CommissionRuleIn,
    OrderForCommission,
    OrderLineForCommission,
    ShareLinkIn,
)
from tests.store.storefront_helpers import World, make_world


@pytest.fixture
def world(db: Database, tenant: TenantOut) -> World:
    w = make_world(db, tenant)
    with db.session(tenant_id=w.tenant_id) as s:
        # shop assistants earn 5 % on everything, their store 1 %; tea pays them 8 % / 2 %
        service.create_commission_rule(
            CommissionRuleIn(partner_type="shop_assistant", level1_bp=500, level2_bp=100), session=s
        )
        service.create_commission_rule(
            CommissionRuleIn(partner_type="shop_assistant", sku_code="TEA-500", level1_bp=800, level2_bp=200),
            session=s,
        )
        service.create_commission_rule(CommissionRuleIn(category="果汁", level1_bp=300), session=s)
        link = service.create_share_link(
            ShareLinkIn(storefront_id=w.s_front.id, sharer_storefront_id=w.a_front.id), session=s
        )
        service.attribute_visit(session=s, share_token=link.token, consumer_key="o-carol")
    return w


def _order(w: World, order_id: str = "ORD-1", consumer: str | None = "o-carol") -> OrderForCommission:
    return OrderForCommission(
        order_id=order_id,
        consumer_key=consumer,
        storefront_id=w.s_front.id,
        lines=[
            OrderLineForCommission(sku=w.tea.id, category="茶饮", quantity=2, paid_fen=999),
            OrderLineForCommission(sku="JUICE-1L", category="果汁", quantity=1, paid_fen=1200),
        ],
        paid_at=utcnow(),
    )


def _balance(db: Database, w: World, storefront_id: str) -> int:
    with db.session(tenant_id=w.tenant_id) as s:
        return service.partner_statement(storefront_id, PageParams(), session=s).balance_fen


def test_accrual_pays_the_bound_sharer_and_their_store(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        rows = service.accrue_commissions(session=s, order=_order(world))
    by_key = {(c.line_no, c.level): c for c in rows}
    # tea: the SKU rule for shop assistants (8 % and 2 %), rounded down to the fen
    assert by_key[(1, 1)].beneficiary_storefront_id == world.a_front.id
    assert by_key[(1, 1)].amount_fen == 79
    assert by_key[(1, 2)].beneficiary_storefront_id == world.s_front.id
    assert by_key[(1, 2)].amount_fen == 19
    # juice: the category rule (3 %, no level 2) beats the shop assistants' rule for everything
    assert by_key[(2, 1)].amount_fen == 36
    assert (2, 2) not in by_key
    assert {c.status for c in rows} == {"pending"}
    with db.session(tenant_id=world.tenant_id) as s:
        again = service.accrue_commissions(session=s, order=_order(world))  # idempotent
        assert sorted(c.id for c in again) == sorted(c.id for c in rows)
        n = s.execute(text("SELECT count(*) FROM outbox WHERE type = 'commission.pending'")).scalar()
        assert n == 3


def test_an_unbound_consumer_pays_the_selling_storefront(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        rows = service.accrue_commissions(session=s, order=_order(world, "ORD-2", consumer="o-stranger"))
    # the store sells: only the category rule (any partner type) applies, level 1 to the store,
    # no level-2 rate; the store's parent would be the distributor
    assert [(c.line_no, c.level, c.beneficiary_storefront_id, c.amount_fen) for c in rows] == [
        (2, 1, world.s_front.id, 36)
    ]


def test_settlement_waits_for_completion_and_the_return_window(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        service.accrue_commissions(session=s, order=_order(world))
        assert (
            service.settle_due_commissions(session=s, now=utcnow() + timedelta(days=30)) == 0
        )  # not completed
    done = utcnow()
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.mark_order_completed(session=s, order_id="ORD-1", completed_at=done) == 3
        assert (
            service.settle_due_commissions(session=s, now=done + timedelta(days=6)) == 0
        )  # inside the window
    with db.session(tenant_id=world.tenant_id) as s:
        assert service.settle_due_commissions(session=s, now=done + timedelta(days=7)) == 3
        assert service.settle_due_commissions(session=s, now=done + timedelta(days=8)) == 0
    assert _balance(db, world, world.a_front.id) == 79 + 36
    assert _balance(db, world, world.s_front.id) == 19
    with db.session(tenant_id=world.tenant_id) as s:
        statement = service.partner_statement(world.a_front.id, PageParams(), session=s)
        assert statement.totals.settled_fen == 115
        assert statement.totals.pending_fen == 0
        assert sorted(e.amount_fen for e in statement.entries) == [36, 79]
        assert ledger.totals_by_unit(session=s)["fen"] == 0  # double entry: everything balances
        assert ledger.find_transaction(f"commission:{statement.storefront.id}", session=s) is None
        page = service.list_commissions(PageParams(), session=s, status="settled")
        assert page.total == 3
        assert all(ledger.find_transaction(f"commission:{c.id}", session=s) for c in page.items)


def test_two_settlement_runs_at_once_pay_each_commission_once(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        for n in range(5):
            service.accrue_commissions(session=s, order=_order(world, f"ORD-{n}"))
            service.mark_order_completed(
                session=s, order_id=f"ORD-{n}", completed_at=utcnow() - timedelta(days=10)
            )
    counts: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            with db.session(tenant_id=world.tenant_id) as s:
                counts.append(service.settle_due_commissions(session=s))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(counts) == 15  # 5 orders x 3 commissions, each settled by exactly one run
    assert _balance(db, world, world.a_front.id) == 5 * 115
    assert _balance(db, world, world.s_front.id) == 5 * 19
    with db.session(tenant_id=world.tenant_id) as s:
        n = s.execute(text("SELECT count(*) FROM ledger_transactions WHERE kind = 'commission'")).scalar()
        assert n == 15


def test_refund_before_settlement_cancels_and_after_settlement_claws_back_exactly(
    db: Database, world: World
) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        service.accrue_commissions(session=s, order=_order(world, "ORD-A"))
        service.accrue_commissions(session=s, order=_order(world, "ORD-B"))
        service.mark_order_completed(session=s, order_id="ORD-B", completed_at=utcnow() - timedelta(days=8))
        service.settle_due_commissions(session=s)
    before = _balance(db, world, world.a_front.id)
    assert before == 115
    with db.session(tenant_id=world.tenant_id) as s:
        cancelled = service.claw_back_commissions(session=s, order_id="ORD-A", reason="refund")
        assert {c.status for c in cancelled} == {"cancelled"}
        clawed = service.claw_back_commissions(session=s, order_id="ORD-B", reason="refund")
        assert {c.status for c in clawed} == {"clawed_back"}
        assert all(c.clawback_transaction_id for c in clawed)
    with db.session(tenant_id=world.tenant_id) as s:  # again: nothing more moves
        service.claw_back_commissions(session=s, order_id="ORD-B", reason="refund")
        service.claw_back_commissions(session=s, order_id="ORD-A", reason="refund")
        # a completed-then-refunded order never settles later
        service.mark_order_completed(session=s, order_id="ORD-A", completed_at=utcnow() - timedelta(days=8))
        assert service.settle_due_commissions(session=s) == 0
    assert _balance(db, world, world.a_front.id) == 0
    assert _balance(db, world, world.s_front.id) == 0
    with db.session(tenant_id=world.tenant_id) as s:
        statement = service.partner_statement(world.a_front.id, PageParams(), session=s)
        assert sorted(e.amount_fen for e in statement.entries) == [-79, -36, 36, 79]
        assert statement.entries[0].balance_after_fen == 0
        assert statement.totals.clawed_back_fen == 115
        assert statement.totals.cancelled_fen == 115
        paid = s.execute(text("SELECT count(*) FROM ledger_transactions WHERE kind = 'commission'")).scalar()
        back = s.execute(
            text("SELECT count(*) FROM ledger_transactions WHERE kind = 'commission_clawback'")
        ).scalar()
        assert (paid, back) == (3, 3)
        assert ledger.totals_by_unit(session=s)["fen"] == 0


def test_refund_racing_settlement_moves_money_once(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        service.accrue_commissions(session=s, order=_order(world, "ORD-R"))
        service.mark_order_completed(session=s, order_id="ORD-R", completed_at=utcnow() - timedelta(days=8))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def settle() -> None:
        try:
            barrier.wait()
            with db.session(tenant_id=world.tenant_id) as s:
                service.settle_due_commissions(session=s)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def refund() -> None:
        try:
            barrier.wait()
            with db.session(tenant_id=world.tenant_id) as s:
                service.claw_back_commissions(session=s, order_id="ORD-R", reason="refund")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=settle), threading.Thread(target=refund)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    # whichever came first, the partner ends with nothing and every commission is closed
    assert _balance(db, world, world.a_front.id) == 0
    with db.session(tenant_id=world.tenant_id) as s:
        rows = service.list_commissions(PageParams(), session=s, order_id="ORD-R").items
        assert {c.status for c in rows} <= {"cancelled", "clawed_back"}


def test_commission_rule_api_refuses_bad_rates(world: World, owner_client: TestClient) -> None:
    r = owner_client.post("/api/v1/store/commission-rules", json={"level1_bp": 10001})
    assert r.status_code == 422
    assert r.json()["field"] == "level1_bp"
    r = owner_client.post("/api/v1/store/commission-rules", json={"level1_bp": 100, "level2_bp": -1})
    assert r.status_code == 422
    assert r.json()["field"] == "level2_bp"
    r = owner_client.post("/api/v1/store/commission-rules", json={"level1_bp": 100, "sku_code": "NOPE"})
    assert r.status_code == 422
    assert r.json()["field"] == "sku_code"
    r = owner_client.post(
        "/api/v1/store/commission-rules", json={"partner_type": "shop_assistant", "level1_bp": 100}
    )
    assert r.status_code == 409  # the fixture's rule for shop assistants on everything exists
    r = owner_client.get("/api/v1/store/commission-rules")
    assert r.json()["total"] == 3
    r = owner_client.post("/api/v1/store/commissions/settle")
    assert r.status_code == 200
    assert r.json() == {"settled": 0}
    r = owner_client.put("/api/v1/store/settings", json={"binding_days": 0, "return_window_days": 7})
    assert r.status_code == 422
    assert r.json()["field"] == "binding_days"
