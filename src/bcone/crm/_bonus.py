"""Bonus allocation (大块儿分金银): a won deal's pool split across its iron triangle.

The pool is a share of the deal's amount (basis points) or a fixed sum. Each person's share is
``(1 - c) × role share + c × contribution share``: the role share splits the role ratios (AR, SR,
FR, other; adding up to 1, renormalised over the roles present) equally among the members holding
the role; the contribution share is the person's recorded contribution points over the team's
(the role share when nobody recorded any); ``c`` is the policy's ``contribution_share``. The
owner counts as AR when the team has no place for them. Amounts are integer fen, rounded by
largest remainder so they add up to the pool exactly.

Each share is one balanced ledger transaction (idempotency key ``crm-bonus:<opp>:<user>``) from
the brand's bonus-expense account to the person's bonus account. Cancelling a won deal claws
every share back with the exact reverse transaction (``ledger.reverse_transaction``, idempotent).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.auth import Role
from bcone.core.db import utcnow
from bcone.core.errors import Conflict, Forbidden, ValidationFailed
from bcone.crm._growth import visible_owner_ids
from bcone.crm._records import (
    Viewer,
    _insert_once,
    append_outcome_event,
    opportunity_out,
    opportunity_row,
    stage_rows,
)
from bcone.crm.models import BonusAllocation, BonusPolicy, Contribution, Opportunity, StageChange, TeamMember
from bcone.crm.schemas import (
    BonusAllocationOut,
    BonusOut,
    BonusPolicyIn,
    BonusPolicyOut,
    BonusStatement,
    BonusStatementLine,
    OpportunityOut,
)
from bcone.iam import service as iam
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec, EntryIn, PostingIn

ROLES = ("AR", "SR", "FR", "other")
DEFAULT_POLICY = {
    "pool_kind": "percent",
    "pool_basis_points": 100,  # 1 % of the won amount
    "pool_fixed_fen": 0,
    "role_ratios": {"AR": 0.4, "SR": 0.3, "FR": 0.2, "other": 0.1},
    "contribution_share": 0.5,
}
EXPENSE_SPEC = AccountSpec(kind="funding", unit="fen", owner_type="crm_bonus", name="Sales bonus expense")


def person_spec(user_id: str) -> AccountSpec:
    """The ledger account holding a person's sales bonuses."""
    return AccountSpec(
        kind="staff_wallet", unit="fen", owner_type="crm_bonus_user", owner_id=user_id, name="Sales bonus"
    )


# --- policy --------------------------------------------------------------------------------------


def _latest(session: Session) -> BonusPolicy | None:
    return session.scalars(select(BonusPolicy).order_by(BonusPolicy.version.desc()).limit(1)).first()


def policy_row(session: Session) -> BonusPolicy:
    row = _latest(session)
    if row is not None:
        return row

    def reread() -> BonusPolicy:
        found = _latest(session)
        assert found is not None
        return found

    return _insert_once(session, lambda: [BonusPolicy(version=1, **DEFAULT_POLICY)], reread)


def bonus_policy(*, session: Session) -> BonusPolicyOut:
    """The policy in use; a tenant without one reads the default, unsaved (a GET never writes)."""
    return BonusPolicyOut.model_validate(_latest(session) or BonusPolicy(version=1, **DEFAULT_POLICY))


def set_bonus_policy(data: BonusPolicyIn, *, session: Session, viewer: Viewer) -> BonusPolicyOut:
    """A new version of the policy (owners, admins); deals won from now on use it."""
    if any(r < 0 or r > 1 for r in data.role_ratios.values()):
        raise ValidationFailed("each role ratio is between 0 and 1", field="role_ratios")
    total = sum(data.role_ratios.values())
    if abs(total - 1) > 1e-6:
        raise ValidationFailed(
            f"role ratios must add up to 1, not {total:g}", field="role_ratios", total=total
        )
    if data.pool_kind == "percent" and data.pool_fixed_fen:
        raise ValidationFailed("a percent pool has no fixed amount", field="pool_fixed_fen")
    if data.pool_kind == "fixed" and data.pool_basis_points:
        raise ValidationFailed("a fixed pool has no percentage", field="pool_basis_points")
    policy_row(session)
    values = data.model_dump(exclude={"currency"})
    values["role_ratios"] = {r: float(data.role_ratios.get(r, 0.0)) for r in ROLES}  # type: ignore[call-overload]
    for _attempt in range(5):
        version = (session.scalar(select(func.max(BonusPolicy.version))) or 0) + 1
        row = BonusPolicy(version=version, created_by=viewer.user_id, **values)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return BonusPolicyOut.model_validate(row)
    raise Conflict("the bonus policy is being edited concurrently; try again", field="role_ratios")


# --- allocation ----------------------------------------------------------------------------------


def pool_of(policy: BonusPolicy, amount_fen: int) -> int:
    if policy.pool_kind == "fixed":
        return int(policy.pool_fixed_fen)
    return amount_fen * policy.pool_basis_points // 10_000


def split(
    pool_fen: int,
    roles: dict[str, set[str]],
    points: dict[str, int],
    ratios: dict[str, float],
    contribution_share: float,
) -> dict[str, tuple[float, int]]:
    """Each person's (share, fen) of ``pool_fen``; the fen add up to the pool exactly."""
    holders: dict[str, list[str]] = defaultdict(list)
    for user, rs in roles.items():
        for r in rs:
            holders[r].append(user)
    present = {r: ratios.get(r, 0.0) for r in holders}
    denom = sum(present.values())
    base: dict[str, float] = dict.fromkeys(roles, 0.0)
    for r, users in holders.items():
        weight = present[r] / denom if denom > 0 else 1 / len(holders)
        for u in users:
            base[u] += weight / len(users)
    total_points = sum(points.get(u, 0) for u in roles)
    contrib = {u: points.get(u, 0) / total_points if total_points else base[u] for u in roles}
    share = {u: (1 - contribution_share) * base[u] + contribution_share * contrib[u] for u in roles}
    exact = {u: pool_fen * s for u, s in share.items()}
    fen = {u: int(v) for u, v in exact.items()}
    left = pool_fen - sum(fen.values())
    for u in sorted(roles, key=lambda u: (-(exact[u] - fen[u]), u))[: max(0, left)]:
        fen[u] += 1
    return {u: (share[u], fen[u]) for u in roles}


def _allocations(session: Session, opp_id: str) -> list[BonusAllocation]:
    stmt = (
        select(BonusAllocation)
        .where(BonusAllocation.opportunity_id == opp_id)
        .order_by(BonusAllocation.user_id)
    )
    return list(session.scalars(stmt))


def _bonus_out(opp_id: str, rows: list[BonusAllocation]) -> BonusOut:
    return BonusOut(
        opportunity_id=opp_id,
        pool_fen=rows[0].pool_fen if rows else 0,
        allocations=[BonusAllocationOut.model_validate(r) for r in rows],
    )


def allocate_bonus(opp_id: str, *, session: Session, viewer: Viewer) -> BonusOut:
    """Split the pool of a won deal and post each share to the ledger, once: allocating again
    returns the first allocation. The opportunity row is locked, so concurrent calls queue."""
    opp = opportunity_row(session, opp_id, viewer, lock=True)
    existing = _allocations(session, opp.id)
    if existing:
        return _bonus_out(opp.id, existing)
    if opp.status != "won" or opp.cancelled_at is not None:
        raise Conflict("bonuses are allocated for won deals", field="opportunity_id")
    policy = policy_row(session)
    pool = pool_of(policy, opp.amount_fen)
    roles: dict[str, set[str]] = defaultdict(set)
    for m in session.scalars(select(TeamMember).where(TeamMember.opportunity_id == opp.id)):
        roles[m.user_id].add(m.role)
    if opp.owner_user_id not in roles:
        roles[opp.owner_user_id].add("AR")
    points: dict[str, int] = defaultdict(int)
    for user_id, weight in session.execute(
        select(Contribution.user_id, Contribution.weight).where(Contribution.opportunity_id == opp.id)
    ):
        points[user_id] += int(weight)
    shares = split(pool, dict(roles), points, dict(policy.role_ratios), float(policy.contribution_share))
    if pool <= 0:
        return BonusOut(opportunity_id=opp.id, pool_fen=0, allocations=[])
    expense = ledger.get_or_open_account(EXPENSE_SPEC, session=session)
    rows = []
    for user_id in sorted(shares):
        share, fen = shares[user_id]
        if fen <= 0:
            continue
        person = ledger.get_or_open_account(person_spec(user_id), session=session)
        tx = ledger.post_transaction(
            PostingIn(
                idempotency_key=f"crm-bonus:{opp.id}:{user_id}",
                kind="crm_bonus",
                memo=f"bonus: {opp.name}"[:500],
                reference=opp.id,
                entries=[
                    EntryIn(account_id=expense.id, amount=-fen),
                    EntryIn(account_id=person.id, amount=fen),
                ],
            ),
            session=session,
        )
        rows.append(
            BonusAllocation(
                opportunity_id=opp.id,
                user_id=user_id,
                roles=sorted(roles[user_id]),
                policy_version=policy.version,
                pool_fen=pool,
                share=round(share, 6),
                amount_fen=fen,
                contribution_points=points.get(user_id, 0),
                transaction_id=tx.id,
                status="allocated",
            )
        )
    session.add_all(rows)
    session.flush()
    return _bonus_out(opp.id, rows)


def bonus_of(opp_id: str, *, session: Session, viewer: Viewer) -> BonusOut:
    opp = opportunity_row(session, opp_id, viewer)
    return _bonus_out(opp.id, _allocations(session, opp.id))


def cancel_won(opp_id: str, reason: str, *, session: Session, viewer: Viewer) -> OpportunityOut:
    """Cancel a won deal (managers, owners, admins): it becomes lost, and every bonus share is
    clawed back with the exact reverse ledger transaction. Cancelling again changes nothing."""
    if viewer.role == Role.sales_rep.value:
        raise Forbidden("a manager cancels a won deal", field="opportunity_id")
    opp = opportunity_row(session, opp_id, viewer, lock=True)
    if opp.cancelled_at is None:
        if opp.status != "won":
            raise Conflict("only a won deal is cancelled", field="opportunity_id")
        lost = next(s for s in stage_rows(session) if s.outcome == "lost")
        session.add(
            StageChange(
                opportunity_id=opp.id, from_stage=opp.stage_key, to_stage=lost.key, changed_by=viewer.user_id
            )
        )
        opp.status = "lost"
        opp.stage_key = lost.key
        opp.stage_moves += 1
        opp.cancelled_at = utcnow()
        opp.forecast_category = "closed"
        append_outcome_event(session, opp)
    for a in _allocations(session, opp.id):
        if a.status == "clawed_back":
            continue
        tx = ledger.reverse_transaction(a.transaction_id, session=session, memo=f"clawback: {reason}"[:500])
        a.status = "clawed_back"
        a.clawback_transaction_id = tx.id
        a.clawed_back_at = utcnow()
    session.flush()
    return opportunity_out(opp)


# --- statements ----------------------------------------------------------------------------------


def _check_statement_scope(session: Session, viewer: Viewer, user_id: str) -> None:
    owners = visible_owner_ids(session, viewer)
    if owners is not None and user_id not in owners:
        raise Forbidden("a statement of someone outside your team", field="user_id")


def bonus_statement(user_id: str, *, session: Session, viewer: Viewer) -> BonusStatement:
    """One person's bonuses: each deal's share, clawbacks, totals and the ledger balance."""
    _check_statement_scope(session, viewer, user_id)
    stmt = (
        select(BonusAllocation, Opportunity.name, Opportunity.account_name)
        .join(Opportunity, Opportunity.id == BonusAllocation.opportunity_id)
        .where(BonusAllocation.user_id == user_id)
        .order_by(BonusAllocation.created_at.desc(), BonusAllocation.id)
    )
    lines = []
    allocated = clawed = 0
    for a, name, account_name in session.execute(stmt):
        allocated += a.amount_fen
        if a.status == "clawed_back":
            clawed += a.amount_fen
        lines.append(
            BonusStatementLine(
                opportunity_id=a.opportunity_id,
                opportunity_name=name,
                account_name=account_name,
                roles=list(a.roles),
                amount_fen=a.amount_fen,
                status=a.status,
                created_at=a.created_at,
                clawed_back_at=a.clawed_back_at,
            )
        )
    account = ledger.find_account(person_spec(user_id), session=session)
    try:
        user_name = iam.get_user(user_id, session=session).display_name
    except Exception:
        user_name = user_id
    return BonusStatement(
        user_id=user_id,
        user_name=user_name,
        allocated_fen=allocated,
        clawed_back_fen=clawed,
        net_fen=allocated - clawed,
        ledger_balance_fen=account.balance if account else 0,
        lines=lines,
    )


def bonus_summary(*, session: Session, viewer: Viewer) -> list[dict[str, int | str]]:
    """Per person in the viewer's scope: allocated, clawed back and net fen, most first."""
    stmt = select(
        BonusAllocation.user_id, BonusAllocation.status, func.sum(BonusAllocation.amount_fen)
    ).group_by(BonusAllocation.user_id, BonusAllocation.status)
    owners = visible_owner_ids(session, viewer)
    if owners is not None:
        stmt = stmt.where(BonusAllocation.user_id.in_(owners))
    acc: dict[str, dict[str, int]] = defaultdict(lambda: {"allocated": 0, "clawed_back": 0})
    for user_id, status, total in session.execute(stmt):
        acc[user_id]["allocated"] += int(total or 0)
        if status == "clawed_back":
            acc[user_id]["clawed_back"] += int(total or 0)
    rows: list[dict[str, int | str]] = [
        {
            "user_id": u,
            "allocated_fen": v["allocated"],
            "clawed_back_fen": v["clawed_back"],
            "net_fen": v["allocated"] - v["clawed_back"],
        }
        for u, v in acc.items()
    ]
    return sorted(rows, key=lambda r: (-int(r["net_fen"]), str(r["user_id"])))
