"""Commissions: rules, accrual when an order is paid, settlement to the ledger, claw-backs,
statements and the sharers' leaderboard.

Level 1 goes to the sharer the consumer is bound to (else the storefront that sold), level 2 to
that sharer's parent (a shop assistant's or KOC's organisation, an organisation's parent in the
network tree). The rule is chosen by the level-1 sharer's partner type and the line's SKU or
category; amounts are ``paid_fen * rate_bp // 10000`` (rounded down to the fen).

A commission is ``pending`` until the order is completed and the tenant's return window has
passed; :func:`settle_due_commissions` then moves it to ``settled`` with one conditional
``UPDATE … WHERE status = 'pending'`` and posts, in the same transaction, a ledger transaction
``commission:<id>`` from the brand's commission expense to the beneficiary's commission account.
Two settlement runs at once therefore pay each commission once: the second run's ``UPDATE``
waits for the first (PostgreSQL row lock, SQLite write lock) and then finds it settled. A refund
cancels a pending commission, and claws a settled one back with the exact reverse posting
``commission-clawback:<id>``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.db import utcnow
from bcone.core.events import append_event
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountOut, AccountSpec, EntryIn, PostingIn
from bcone.store._sharing import aware, current_binding
from bcone.store._storefronts import (
    ORG_PARTNER_TYPES,
    get_store_settings,
    parent_storefront,
    require_storefront,
    resolve_sku,
    sku_by_id_or_code,
    storefront_names,
    storefront_out,
)
from bcone.store.errors import CommissionRuleExists, CommissionRuleNotFound, UnknownSku
from bcone.store.models import Commission, CommissionRule, CustomerBinding, Storefront, StorefrontVisit
from bcone.store.schemas import (
    CommissionOut,
    CommissionRuleIn,
    CommissionRuleOut,
    CommissionTotals,
    OrderForCommission,
    OrderLineForCommission,
    PartnerStatement,
    SharerRank,
    StatementEntry,
)

BP = 10_000
COMMISSION_OWNER = "store_commission"
EXPENSE_OWNER = "store_commission_expense"
SETTLE_BATCH = 500


# --- rules ------------------------------------------------------------------------------------


def _rule_out(row: CommissionRule) -> CommissionRuleOut:
    return CommissionRuleOut(
        id=row.id,
        partner_type=row.partner_type or None,
        sku_id=row.scope_value if row.scope == "sku" else None,
        sku_code=row.sku_code,
        category=row.scope_value if row.scope == "category" else None,
        level1_bp=row.level1_bp,
        level2_bp=row.level2_bp,
        created_at=row.created_at,
    )


def _apply_rule(session: Session, row: CommissionRule, data: CommissionRuleIn) -> None:
    row.partner_type = data.partner_type or ""
    if data.sku_id or data.sku_code:
        sku = resolve_sku(session, sku_id=data.sku_id, sku_code=data.sku_code)
        row.scope, row.scope_value, row.sku_code = "sku", sku.id, sku.sku_code
    elif data.category:
        row.scope, row.scope_value, row.sku_code = "category", data.category, None
    else:
        row.scope, row.scope_value, row.sku_code = "all", "", None
    row.level1_bp, row.level2_bp = data.level1_bp, data.level2_bp
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise CommissionRuleExists(
            "a rule for this partner type and scope exists; change it instead", field="partner_type"
        ) from None


def create_commission_rule(data: CommissionRuleIn, *, session: Session) -> CommissionRuleOut:
    row = CommissionRule()
    _apply_rule(session, row, data)
    return _rule_out(row)


def _require_rule(session: Session, rule_id: str) -> CommissionRule:
    row = session.scalar(select(CommissionRule).where(CommissionRule.id == rule_id))
    if row is None:
        raise CommissionRuleNotFound(f"no commission rule {rule_id}", field="rule_id")
    return row


def update_commission_rule(rule_id: str, data: CommissionRuleIn, *, session: Session) -> CommissionRuleOut:
    row = _require_rule(session, rule_id)
    _apply_rule(session, row, data)
    return _rule_out(row)


def delete_commission_rule(rule_id: str, *, session: Session) -> None:
    session.delete(_require_rule(session, rule_id))
    session.flush()


def list_commission_rules(params: PageParams, *, session: Session) -> Page[CommissionRuleOut]:
    stmt = select(CommissionRule).order_by(
        CommissionRule.scope, CommissionRule.scope_value, CommissionRule.partner_type, CommissionRule.id
    )
    if params.q:
        stmt = stmt.where(
            or_(
                CommissionRule.scope_value.icontains(params.q, autoescape=True),
                CommissionRule.sku_code.icontains(params.q, autoescape=True),
            )
        )
    rows, total = paginate_rows(session, stmt, params)
    return Page(items=[_rule_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size)


def _pick_rule(
    rules: list[CommissionRule], *, partner_type: str, sku_keys: set[str], category: str
) -> CommissionRule | None:
    def rank(r: CommissionRule) -> tuple[int, int] | None:
        if r.partner_type and r.partner_type != partner_type:
            return None
        if r.scope == "sku":
            specificity = 2 if r.scope_value in sku_keys or (r.sku_code or "") in sku_keys else -1
        elif r.scope == "category":
            specificity = 1 if category and r.scope_value == category else -1
        else:
            specificity = 0
        if specificity < 0:
            return None
        return specificity, 1 if r.partner_type else 0

    ranked = [(k, r) for r in rules if (k := rank(r)) is not None]
    return max(ranked, key=lambda kr: kr[0])[1] if ranked else None


# --- accrual ----------------------------------------------------------------------------------


def _commission_out(row: Commission, names: dict[str, Storefront]) -> CommissionOut:
    front = names.get(row.beneficiary_storefront_id)
    return CommissionOut(
        id=row.id,
        order_id=row.order_id,
        line_no=row.line_no,
        sku=row.sku,
        level=row.level,
        beneficiary_storefront_id=row.beneficiary_storefront_id,
        beneficiary_name=front.name if front is not None else "",
        partner_type=row.partner_type,
        rate_bp=row.rate_bp,
        base_fen=row.base_fen,
        amount_fen=row.amount_fen,
        status=row.status,
        paid_at=aware(row.paid_at),
        completed_at=aware(row.completed_at) if row.completed_at else None,
        settled_at=aware(row.settled_at) if row.settled_at else None,
        clawed_back_at=aware(row.clawed_back_at) if row.clawed_back_at else None,
        transaction_id=row.transaction_id,
        clawback_transaction_id=row.clawback_transaction_id,
        created_at=aware(row.created_at),
    )


def _many_out(session: Session, rows: list[Commission]) -> list[CommissionOut]:
    names = storefront_names({r.beneficiary_storefront_id for r in rows}, session=session)
    return [_commission_out(r, names) for r in rows]


def _order_rows(session: Session, order_id: str) -> list[Commission]:
    return list(
        session.scalars(
            select(Commission)
            .where(Commission.order_id == order_id)
            .order_by(Commission.line_no, Commission.level)
            .execution_options(populate_existing=True)
        )
    )


def _sku_keys(session: Session, line: OrderLineForCommission) -> set[str]:
    try:
        sku = sku_by_id_or_code(session, line.sku)
    except UnknownSku:  # a platform SKU unknown to the catalog: category rules still apply
        return {line.sku}
    return {line.sku, sku.id, sku.sku_code}


def accrue_commissions(*, session: Session, order: OrderForCommission) -> list[CommissionOut]:
    """Pending commissions of a paid order (idempotent: an order accrues once); event
    ``commission.pending`` for each. Lines whose rate is 0 earn nothing and get no row."""
    existing = _order_rows(session, order.order_id)
    if existing:
        return _many_out(session, existing)
    seller = require_storefront(session, order.storefront_id)
    binding = (
        current_binding(session=session, consumer_key=order.consumer_key, at=order.paid_at)
        if order.consumer_key
        else None
    )
    sharer = require_storefront(session, binding.sharer_storefront_id) if binding is not None else seller
    parent = parent_storefront(sharer, session=session)
    rules = list(session.scalars(select(CommissionRule)))
    rows: list[Commission] = []
    for line_no, line in enumerate(order.lines, start=1):
        rule = _pick_rule(
            rules, partner_type=sharer.partner_type, sku_keys=_sku_keys(session, line), category=line.category
        )
        if rule is None:
            continue
        for level, beneficiary, rate in ((1, sharer, rule.level1_bp), (2, parent, rule.level2_bp)):
            if beneficiary is None or rate <= 0:
                continue
            amount = line.paid_fen * rate // BP
            if amount <= 0:
                continue
            rows.append(
                Commission(
                    order_id=order.order_id,
                    line_no=line_no,
                    sku=line.sku,
                    level=level,
                    beneficiary_storefront_id=beneficiary.id,
                    sharer_storefront_id=sharer.id,
                    partner_type=beneficiary.partner_type,
                    rate_bp=rate,
                    base_fen=line.paid_fen,
                    amount_fen=amount,
                    status="pending",
                    paid_at=order.paid_at,
                )
            )
    if not rows:
        return []
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:  # accrued concurrently: the other call's rows stand
        return _many_out(session, _order_rows(session, order.order_id))
    for row in rows:
        front = sharer if row.beneficiary_storefront_id == sharer.id else parent
        append_event(
            session,
            type="commission.pending",
            event_id=f"commission.pending:{row.id}",
            ts=order.paid_at,
            org_id=front.org_id if front is not None else None,
            sku=row.sku,
            amount=row.amount_fen,
            properties={
                "commission_id": row.id,
                "order_id": row.order_id,
                "level": row.level,
                "beneficiary": row.beneficiary_storefront_id,
                "shared_by": row.sharer_storefront_id,
                "rate_bp": row.rate_bp,
            },
        )
    return _many_out(session, rows)


def mark_order_completed(*, session: Session, order_id: str, completed_at: datetime) -> int:
    """The order was completed (delivered or picked up): its pending commissions become due once
    the return window has passed. Returns how many commissions were marked (0 when done before)."""
    window = timedelta(days=get_store_settings(session=session).return_window_days)
    result = session.execute(
        update(Commission)
        .where(
            Commission.order_id == order_id, Commission.status == "pending", Commission.completed_at.is_(None)
        )
        .values(completed_at=completed_at, settle_after=completed_at + window)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- ledger -----------------------------------------------------------------------------------


def expense_account(session: Session) -> AccountOut:
    """The brand's commission expense: where commissions are paid from (unbounded, like funding)."""
    spec = AccountSpec(kind="funding", unit="fen", owner_type=EXPENSE_OWNER, name="Commission expense")
    return ledger.get_or_open_account(spec, session=session)


def _account_spec(front: Storefront) -> AccountSpec:
    kind = "store_wallet" if front.partner_type in ORG_PARTNER_TYPES else "staff_wallet"
    return AccountSpec(
        kind=kind,
        unit="fen",
        owner_type=COMMISSION_OWNER,
        owner_id=front.id,
        name=f"Commission · {front.name}"[:200],
    )


def commission_account(session: Session, front: Storefront) -> AccountOut:
    """The partner's commission account (opened on first use)."""
    return ledger.get_or_open_account(_account_spec(front), session=session)


def _claim(session: Session, commission_id: str, *, from_status: str, values: dict[str, object]) -> bool:
    result = session.execute(
        update(Commission)
        .where(Commission.id == commission_id, Commission.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def settle_due_commissions(
    *, session: Session, now: datetime | None = None, limit: int = SETTLE_BATCH
) -> int:
    """Settle pending commissions whose order is completed and whose return window has passed:
    one ledger posting each, event ``commission.settled``. Returns how many this call settled."""
    now = now or utcnow()
    due = list(
        session.scalars(
            select(Commission)
            .where(
                Commission.status == "pending",
                Commission.settle_after.is_not(None),
                Commission.settle_after <= now,
            )
            .order_by(Commission.id)  # the claw-back's order too: rows are locked alike, no deadlock
            .limit(limit)
        )
    )
    if not due:
        return 0
    expense = expense_account(session)
    fronts = storefront_names({c.beneficiary_storefront_id for c in due}, session=session)
    settled = 0
    for row in due:
        if not _claim(
            session, row.id, from_status="pending", values={"status": "settled", "settled_at": now}
        ):
            continue  # settled (or cancelled) by a concurrent run
        front = fronts[row.beneficiary_storefront_id]
        account = commission_account(session, front)
        tx = ledger.post_transaction(
            PostingIn(
                idempotency_key=f"commission:{row.id}",
                kind="commission",
                memo=f"commission L{row.level} order {row.order_id}"[:500],
                reference=row.order_id,
                entries=[
                    EntryIn(account_id=expense.id, amount=-row.amount_fen),
                    EntryIn(account_id=account.id, amount=row.amount_fen),
                ],
            ),
            session=session,
        )
        session.execute(
            update(Commission)
            .where(Commission.id == row.id)
            .values(transaction_id=tx.id)
            .execution_options(synchronize_session=False)
        )
        append_event(
            session,
            type="commission.settled",
            event_id=f"commission.settled:{row.id}",
            ts=now,
            org_id=front.org_id,
            sku=row.sku,
            amount=row.amount_fen,
            properties={
                "commission_id": row.id,
                "order_id": row.order_id,
                "level": row.level,
                "beneficiary": front.id,
            },
        )
        settled += 1
    return settled


def claw_back_commissions(*, session: Session, order_id: str, reason: str = "") -> list[CommissionOut]:
    """The order was refunded: pending commissions are cancelled, settled ones are reversed
    exactly (posting ``commission-clawback:<id>``). Idempotent; returns the order's commissions.

    A partner who already withdrew the money cannot be clawed back below zero: the ledger refuses
    (409 ``insufficient_funds``) and nothing of the refund's unit of work is written.
    """
    now = utcnow()
    for row in sorted(_order_rows(session, order_id), key=lambda r: r.id):  # settlement's lock order
        if row.status == "pending" and _claim(
            session, row.id, from_status="pending", values={"status": "cancelled", "clawed_back_at": now}
        ):
            append_event(
                session,
                type="commission.cancelled",
                event_id=f"commission.cancelled:{row.id}",
                ts=now,
                sku=row.sku,
                amount=row.amount_fen,
                properties={"commission_id": row.id, "order_id": order_id, "reason": reason[:200]},
            )
            continue
        if not _claim(
            session, row.id, from_status="settled", values={"status": "clawed_back", "clawed_back_at": now}
        ):
            continue  # already cancelled or clawed back
        front = require_storefront(session, row.beneficiary_storefront_id)
        account = commission_account(session, front)
        tx = ledger.post_transaction(
            PostingIn(
                idempotency_key=f"commission-clawback:{row.id}",
                kind="commission_clawback",
                memo=f"claw-back L{row.level} order {order_id}: {reason}"[:500],
                reference=order_id,
                entries=[
                    EntryIn(account_id=account.id, amount=-row.amount_fen),
                    EntryIn(account_id=expense_account(session).id, amount=row.amount_fen),
                ],
            ),
            session=session,
        )
        session.execute(
            update(Commission)
            .where(Commission.id == row.id)
            .values(clawback_transaction_id=tx.id)
            .execution_options(synchronize_session=False)
        )
        append_event(
            session,
            type="commission.clawed_back",
            event_id=f"commission.clawed_back:{row.id}",
            ts=now,
            org_id=front.org_id,
            sku=row.sku,
            amount=row.amount_fen,
            properties={"commission_id": row.id, "order_id": order_id, "reason": reason[:200]},
        )
    return _many_out(session, _order_rows(session, order_id))


# --- reading ----------------------------------------------------------------------------------


def list_commissions(
    params: PageParams,
    *,
    session: Session,
    storefront_ids: list[str] | None = None,
    status: str | None = None,
    order_id: str | None = None,
) -> Page[CommissionOut]:
    """Commissions, newest first; ``q`` searches the order id and the SKU."""
    stmt = select(Commission).order_by(Commission.created_at.desc(), Commission.id)
    if storefront_ids is not None:
        stmt = stmt.where(Commission.beneficiary_storefront_id.in_(storefront_ids))
    if status:
        stmt = stmt.where(Commission.status == status)
    if order_id:
        stmt = stmt.where(Commission.order_id == order_id)
    if params.q:
        stmt = stmt.where(
            or_(
                Commission.order_id.icontains(params.q, autoescape=True),
                Commission.sku.icontains(params.q, autoescape=True),
            )
        )
    rows, total = paginate_rows(session, stmt, params)
    return Page(items=_many_out(session, rows), total=total, page=params.page, page_size=params.page_size)


def commission_totals(storefront_ids: list[str] | None, *, session: Session) -> CommissionTotals:
    """Commission amounts by status, of these beneficiaries (None: every one)."""
    stmt = select(Commission.status, func.sum(Commission.amount_fen)).group_by(Commission.status)
    if storefront_ids is not None:
        stmt = stmt.where(Commission.beneficiary_storefront_id.in_(storefront_ids))
    rows = session.execute(stmt).all()
    sums = {status: int(total or 0) for status, total in rows}
    return CommissionTotals(
        pending_fen=sums.get("pending", 0),
        settled_fen=sums.get("settled", 0),
        clawed_back_fen=sums.get("clawed_back", 0),
        cancelled_fen=sums.get("cancelled", 0),
    )


def partner_statement(storefront_id: str, params: PageParams, *, session: Session) -> PartnerStatement:
    """A partner's statement: commission totals by status, and their commission account's balance
    and movements (settlements in, claw-backs out), newest first."""
    front = require_storefront(session, storefront_id)
    account = ledger.find_account(_account_spec(front), session=session)
    entries: list[StatementEntry] = []
    entry_total = 0
    if account is not None:
        statement = ledger.statement(account.id, params, session=session)
        entry_total = statement.total
        entries = [
            StatementEntry(
                transaction_id=line.transaction_id,
                amount_fen=line.amount,
                balance_after_fen=line.balance_after,
                kind=line.kind,
                memo=line.memo,
                reference=line.reference,
                created_at=aware(line.created_at),
            )
            for line in statement.items
        ]
    return PartnerStatement(
        storefront=storefront_out(front),
        account_id=account.id if account is not None else None,
        balance_fen=account.balance if account is not None else 0,
        totals=commission_totals([front.id], session=session),
        entries=entries,
        entry_total=entry_total,
        page=params.page,
        page_size=params.page_size,
    )


def sharer_leaderboard(
    *, session: Session, org_ids: list[str] | None = None, since: datetime | None = None, limit: int = 20
) -> list[SharerRank]:
    """Sharers ranked by what their shares sold (level-1 order lines), then by visits: visits
    through their links, consumers bound to them now, orders, sales and level-1 commission.
    ``org_ids`` limits it to the storefronts of those organisations (and their staff)."""
    fronts_stmt = select(Storefront)
    if org_ids is not None:
        fronts_stmt = fronts_stmt.where(Storefront.org_id.in_(org_ids))
    fronts = {f.id: f for f in session.scalars(fronts_stmt)}
    if not fronts:
        return []
    ids = list(fronts)
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    visit_stmt = (
        select(StorefrontVisit.sharer_storefront_id, func.count())
        .where(StorefrontVisit.sharer_storefront_id.in_(ids))
        .group_by(StorefrontVisit.sharer_storefront_id)
    )
    if since is not None:
        visit_stmt = visit_stmt.where(StorefrontVisit.created_at >= since)
    for sid, n in session.execute(visit_stmt):
        if sid is not None:
            stats[sid][0] = int(n)
    for sid, n in session.execute(
        select(CustomerBinding.sharer_storefront_id, func.count())
        .where(CustomerBinding.sharer_storefront_id.in_(ids), CustomerBinding.expires_at > utcnow())
        .group_by(CustomerBinding.sharer_storefront_id)
    ):
        stats[sid][1] = int(n)
    sale_stmt = (
        select(
            Commission.sharer_storefront_id,
            func.count(func.distinct(Commission.order_id)),
            func.sum(Commission.base_fen),
            func.sum(case((Commission.status.in_(("pending", "settled")), Commission.amount_fen), else_=0)),
        )
        .where(
            Commission.sharer_storefront_id.in_(ids),
            Commission.level == 1,
            Commission.status.in_(("pending", "settled")),
        )
        .group_by(Commission.sharer_storefront_id)
    )
    if since is not None:
        sale_stmt = sale_stmt.where(and_(Commission.paid_at >= since))
    for sid, orders, sales, commission in session.execute(sale_stmt):
        stats[sid][2:5] = [int(orders or 0), int(sales or 0), int(commission or 0)]
    ranks = [
        SharerRank(
            storefront_id=sid,
            name=fronts[sid].name,
            partner_type=fronts[sid].partner_type,
            visits=v[0],
            bindings=v[1],
            orders=v[2],
            sales_fen=v[3],
            commission_fen=v[4],
        )
        for sid, v in stats.items()
        if sid in fronts
    ]
    ranks.sort(key=lambda r: (-r.sales_fen, -r.visits, r.name))
    return ranks[:limit]
