"""Account tiering and growth tasks (光打粮不养地: grow accounts, not only hunt deals).

A tier model per tenant (versioned, never edited) weighs three criteria, each 0..100:

- ``value``: the account's won amount over the last 365 days, as a percentile among the accounts
  that won anything (0 for none; cancelled deals do not count);
- ``potential`` and ``strategic_fit``: set on the account by its team.

The weighted score (0..1) against the thresholds of tiers A and B gives the tier. The tiering job
(``crm.assign_tiers``, or ``bcone crm tier``) scores every account, records each change of tier,
and generates the growth tasks of each tier's policy for the current period, once per account,
task and period (a unique key), so running it again changes nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from calendar import monthrange
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.auth import Role
from bcone.core.db import utcnow
from bcone.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from bcone.core.jobs import JobContext, enqueue, job_handler
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant
from bcone.crm._records import Viewer, _insert_once
from bcone.crm.models import (
    Account,
    GrowthTask,
    Opportunity,
    SalesTeam,
    SalesTeamMember,
    TierChange,
    TierModel,
)
from bcone.crm.schemas import (
    AccountScore,
    GrowthTaskClose,
    GrowthTaskOut,
    GrowthTaskSpec,
    TierChangeOut,
    TierModelIn,
    TierModelOut,
    TierPolicy,
    TierRunOut,
    TrainQueued,
)

TIER_JOB = "crm.assign_tiers"
CRITERIA = ("value", "potential", "strategic_fit")
WEIGHT_TOLERANCE = 1e-6
# A task generated late in its period (a new A account in the last weeks of a quarter) still gets
# at least this long, up to the period's end.
MIN_LEAD = timedelta(days=7)

DEFAULT_TIER_MODEL: dict[str, Any] = {
    "weights": {"value": 0.5, "potential": 0.3, "strategic_fit": 0.2},
    "thresholds": {"A": 0.7, "B": 0.4},
    "policies": {
        "A": {
            "visits_per_month": 4,
            "growth_tasks": [
                {
                    "key": "qbr",
                    "title_zh": "季度业务回顾（QBR）",
                    "title_en": "Quarterly business review",
                    "every": "quarter",
                    "due_days": 45,
                },
                {
                    "key": "cross_sell",
                    "title_zh": "交叉销售计划",
                    "title_en": "Cross-sell plan",
                    "every": "quarter",
                    "due_days": 60,
                },
            ],
        },
        "B": {
            "visits_per_month": 2,
            "growth_tasks": [
                {
                    "key": "account_plan",
                    "title_zh": "年度客户经营计划",
                    "title_en": "Annual account plan",
                    "every": "year",
                    "due_days": 60,
                }
            ],
        },
        "C": {"visits_per_month": 1, "growth_tasks": []},
    },
}


# --- the tier model ------------------------------------------------------------------------------


def _model_out(row: TierModel) -> TierModelOut:
    return TierModelOut(
        id=row.id,
        version=row.version,
        weights=dict(row.weights),
        thresholds=dict(row.thresholds),
        policies={k: TierPolicy.model_validate(v) for k, v in row.policies.items()},
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _latest(session: Session) -> TierModel | None:
    return session.scalars(select(TierModel).order_by(TierModel.version.desc()).limit(1)).first()


def tier_model_row(session: Session) -> TierModel:
    """The newest tier model; a tenant without one gets the default (version 1)."""
    row = _latest(session)
    if row is not None:
        return row

    def reread() -> TierModel:
        found = _latest(session)
        assert found is not None
        return found

    return _insert_once(session, lambda: [TierModel(version=1, **DEFAULT_TIER_MODEL)], reread)


def _read_model(session: Session) -> TierModel:
    """The newest tier model for reading: a tenant without one reads the default, unsaved (a GET
    never writes; the first tiering run or edit stores it as version 1)."""
    return _latest(session) or TierModel(version=1, **DEFAULT_TIER_MODEL)


def current_tier_model(*, session: Session) -> TierModelOut:
    return _model_out(_read_model(session))


def tier_model_versions(*, session: Session) -> list[TierModelOut]:
    rows = list(session.scalars(select(TierModel).order_by(TierModel.version.desc())))
    return [_model_out(r) for r in rows or [_read_model(session)]]


def check_tier_model(data: TierModelIn) -> None:
    """Weights over every criterion, each 0..1, adding up to 1; 0 <= B < A <= 1; a policy per tier."""
    missing = [c for c in CRITERIA if c not in data.weights]
    if missing:
        raise ValidationFailed(
            f"weights need every criterion; missing: {', '.join(missing)}", field="weights"
        )
    if any(not 0 <= w <= 1 for w in data.weights.values()):
        raise ValidationFailed("each weight is between 0 and 1", field="weights")
    total = sum(data.weights.values())
    if abs(total - 1) > WEIGHT_TOLERANCE:
        raise ValidationFailed(f"weights must add up to 1, not {total:g}", field="weights", total=total)
    a, b = data.thresholds.get("A"), data.thresholds.get("B")
    if a is None or b is None or not 0 <= b < a <= 1:
        raise ValidationFailed("thresholds need 0 <= B < A <= 1", field="thresholds")
    missing_tiers = [t for t in "ABC" if t not in data.policies]
    if missing_tiers:
        raise ValidationFailed(
            f"a policy for each tier; missing: {', '.join(missing_tiers)}", field="policies"
        )
    for tier, policy in data.policies.items():
        keys = [t.key for t in policy.growth_tasks]
        if len(set(keys)) != len(keys):
            raise ValidationFailed("growth task keys must be unique", field=f"policies.{tier}.growth_tasks")


def create_tier_model(data: TierModelIn, *, session: Session, viewer: Viewer) -> TierModelOut:
    """A new version of the tier model (owners and admins); the next tiering run uses it."""
    check_tier_model(data)
    values = {
        "weights": {k: float(v) for k, v in data.weights.items()},
        "thresholds": {k: float(v) for k, v in data.thresholds.items()},
        "policies": {k: v.model_dump() for k, v in data.policies.items()},
    }
    tier_model_row(session)
    for _attempt in range(5):
        version = (session.scalar(select(func.max(TierModel.version))) or 0) + 1
        row = TierModel(version=version, created_by=viewer.user_id, **values)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return _model_out(row)
    raise Conflict("the tier model is being edited concurrently; try again", field="weights")


def policy_of(session: Session, tier: str | None) -> TierPolicy:
    """The service policy of a tier (an account without a tier gets tier C's)."""
    policies = _read_model(session).policies
    return TierPolicy.model_validate(policies.get(tier or "C", policies["C"]))


# --- scoring -------------------------------------------------------------------------------------


def _won_by_account(session: Session, since: datetime) -> dict[str, int]:
    stmt = (
        select(Opportunity.account_id, func.sum(Opportunity.amount_fen))
        .where(
            Opportunity.status == "won",
            Opportunity.cancelled_at.is_(None),
            Opportunity.closed_at >= since,
        )
        .group_by(Opportunity.account_id)
    )
    return {str(a): int(v or 0) for a, v in session.execute(stmt)}


def tier_for(score: float, thresholds: dict[str, float]) -> str:
    if score >= thresholds["A"] - 1e-12:
        return "A"
    if score >= thresholds["B"] - 1e-12:
        return "B"
    return "C"


def score_accounts(session: Session, *, now: datetime | None = None) -> list[AccountScore]:
    """Every account's criteria, score and tier under the current model (nothing is written)."""
    model = _read_model(session)
    now = now or utcnow()
    won = _won_by_account(session, now - timedelta(days=365))
    ranked = sorted(v for v in won.values() if v > 0)
    w, th = model.weights, model.thresholds
    out = []
    for acc in session.scalars(select(Account).order_by(Account.name)):
        amount = won.get(acc.id, 0)
        value = 100.0 * bisect_right(ranked, amount) / len(ranked) if amount > 0 and ranked else 0.0
        score = (
            w["value"] * value + w["potential"] * acc.potential + w["strategic_fit"] * acc.strategic_fit
        ) / 100
        out.append(
            AccountScore(
                account_id=acc.id,
                name=acc.name,
                value=round(value, 2),
                potential=acc.potential,
                strategic_fit=acc.strategic_fit,
                score=round(score, 4),
                tier=tier_for(score, th),
                previous_tier=acc.tier,
            )
        )
    return out


def run_tiering(*, session: Session, viewer: Viewer | None = None, today: date | None = None) -> TierRunOut:
    """Score and tier every account, record the changes, generate the period's growth tasks.

    Idempotent: a second run with the same data changes no tier and creates no task.
    """
    model = tier_model_row(session)
    scores = score_accounts(session)
    accounts = {a.id: a for a in session.scalars(select(Account))}
    changed = 0
    by_tier = {"A": 0, "B": 0, "C": 0}
    for s in scores:
        acc = accounts[s.account_id]
        acc.tier_score = s.score
        by_tier[s.tier] += 1
        if acc.tier != s.tier:
            session.add(
                TierChange(
                    account_id=acc.id,
                    from_tier=acc.tier,
                    to_tier=s.tier,
                    score=s.score,
                    model_version=model.version,
                    changed_by=viewer.user_id if viewer else None,
                )
            )
            acc.tier = s.tier
            changed += 1
    session.flush()
    created = generate_growth_tasks(session=session, today=today)
    return TierRunOut(
        model_version=model.version,
        accounts=len(scores),
        changed=changed,
        by_tier=by_tier,
        tasks_created=created,
    )


def tier_history(account_id: str, *, session: Session) -> list[TierChangeOut]:
    stmt = (
        select(TierChange)
        .where(TierChange.account_id == account_id)
        .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
    )
    return [TierChangeOut.model_validate(c) for c in session.scalars(stmt)]


def enqueue_tiering(*, session: Session) -> TrainQueued:
    """Queue the tiering job (one at a time per tenant)."""
    tenant_id = current_tenant(session)
    job_id = enqueue(session, TIER_JOB, {}, tenant_id=tenant_id, dedupe_key=f"{TIER_JOB}:{tenant_id}")
    return TrainQueued(job_id=job_id)


@job_handler(TIER_JOB, lease_seconds=300)
def _tier_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``crm.assign_tiers``: tier every account of the job's tenant and generate growth tasks."""
    with ctx.session() as session:
        return run_tiering(session=session).model_dump()


# --- growth tasks --------------------------------------------------------------------------------


def period_of(day: date, every: str) -> tuple[str, date, date]:
    """The period containing ``day``: its key (2026-11, 2026Q4, 2026), first and last day."""
    if every == "month":
        last = monthrange(day.year, day.month)[1]
        return f"{day.year}-{day.month:02d}", day.replace(day=1), day.replace(day=last)
    if every == "quarter":
        q = (day.month - 1) // 3
        start = date(day.year, 3 * q + 1, 1)
        end_month = 3 * q + 3
        return f"{day.year}Q{q + 1}", start, date(day.year, end_month, monthrange(day.year, end_month)[1])
    return str(day.year), date(day.year, 1, 1), date(day.year, 12, 31)


def generate_growth_tasks(*, session: Session, today: date | None = None) -> int:
    """Create the growth tasks each account's tier policy asks for in the current period; tasks
    that exist (any status) are not created again. Returns how many were created."""
    today = today or date.today()
    model = tier_model_row(session)
    specs = {
        tier: [GrowthTaskSpec.model_validate(t) for t in policy.get("growth_tasks", [])]
        for tier, policy in model.policies.items()
    }
    existing = {
        (a, k, p)
        for a, k, p in session.execute(select(GrowthTask.account_id, GrowthTask.key, GrowthTask.period))
    }
    rows: list[GrowthTask] = []
    for acc in session.scalars(select(Account).where(Account.tier.is_not(None)).order_by(Account.id)):
        for spec in specs.get(acc.tier or "", []):
            period, start, end = period_of(today, spec.every)
            if (acc.id, spec.key, period) in existing:
                continue
            rows.append(
                GrowthTask(
                    account_id=acc.id,
                    key=spec.key,
                    period=period,
                    title_zh=spec.title_zh,
                    title_en=spec.title_en,
                    tier=acc.tier,
                    assignee_user_id=acc.owner_user_id,
                    due_date=min(end, max(start + timedelta(days=spec.due_days - 1), today + MIN_LEAD)),
                    status="open",
                    outcome_note="",
                    growth_fen=0,
                )
            )
    if not rows:
        return 0
    try:
        with session.begin_nested():
            session.add_all(rows)
        return len(rows)
    except IntegrityError:
        pass  # a concurrent run created some of them: add the rest one by one
    created = 0
    for r in rows:
        fresh = GrowthTask(**{c: getattr(r, c) for c in _TASK_COLUMNS})
        try:
            with session.begin_nested():
                session.add(fresh)
            created += 1
        except IntegrityError:
            continue
    return created


_TASK_COLUMNS = (
    "account_id",
    "key",
    "period",
    "title_zh",
    "title_en",
    "tier",
    "assignee_user_id",
    "due_date",
    "status",
    "outcome_note",
    "growth_fen",
)


def visible_owner_ids(session: Session, viewer: Viewer) -> list[str] | None:
    """Whose accounts the viewer sees: None for everyone (owners, admins, the system), a rep their
    own, a manager their own and their teams' members'."""
    if viewer.sees_all:
        return None
    if viewer.user_id is None or viewer.role not in (Role.sales_rep.value, Role.sales_manager.value):
        return []
    ids = [viewer.user_id]
    if viewer.role == Role.sales_manager.value:
        led = select(SalesTeam.id).where(SalesTeam.manager_user_id == viewer.user_id)
        ids += list(session.scalars(select(SalesTeamMember.user_id).where(SalesTeamMember.team_id.in_(led))))
    return list(dict.fromkeys(ids))


def list_growth_tasks(
    params: PageParams,
    *,
    session: Session,
    viewer: Viewer,
    status: str | None = None,
    account_id: str | None = None,
) -> Page[GrowthTaskOut]:
    """Growth tasks by due date: a rep's (assigned to them), a manager's team's, or all."""
    stmt = select(GrowthTask).order_by(GrowthTask.due_date, GrowthTask.id)
    owners = visible_owner_ids(session, viewer)
    if owners is not None:
        stmt = stmt.where(GrowthTask.assignee_user_id.in_(owners))
    if status:
        stmt = stmt.where(GrowthTask.status == status)
    if account_id:
        stmt = stmt.where(GrowthTask.account_id == account_id)
    if params.q:
        names = select(Account.id).where(Account.name.icontains(params.q, autoescape=True))
        stmt = stmt.where(GrowthTask.account_id.in_(names))
    rows, total = paginate_rows(session, stmt, params)
    items = [GrowthTaskOut.model_validate(r) for r in rows]
    return Page(items=items, total=total, page=params.page, page_size=params.page_size)


def close_growth_task(
    task_id: str, data: GrowthTaskClose, *, session: Session, viewer: Viewer
) -> GrowthTaskOut:
    """Close the loop: ``done`` needs an outcome; a closed task does not change again (409)."""
    stmt = select(GrowthTask).where(GrowthTask.id == task_id).with_for_update()
    row = session.scalars(stmt).one_or_none()
    owners = visible_owner_ids(session, viewer)
    if row is None or (owners is not None and row.assignee_user_id not in owners):
        raise NotFound(f"no growth task {task_id}", field="task_id")
    if viewer.role == Role.sales_rep.value and row.assignee_user_id != viewer.user_id:
        raise Forbidden("only the assignee closes this task", field="task_id")
    if row.status != "open":
        raise Conflict(f"the task is {row.status}", field="status")
    if data.status == "done" and data.outcome is None:
        raise ValidationFailed("a done task needs its outcome", field="outcome")
    if data.status == "cancelled" and (data.outcome or data.growth_fen):
        raise ValidationFailed("a cancelled task has no outcome", field="outcome")
    if data.growth_fen and data.outcome != "won_growth":
        raise ValidationFailed("growth is recorded with the outcome won_growth", field="growth_fen")
    row.status = data.status
    row.outcome = data.outcome
    row.outcome_note = data.outcome_note
    row.growth_fen = data.growth_fen
    row.closed_by = viewer.user_id
    row.closed_at = utcnow()
    session.flush()
    return GrowthTaskOut.model_validate(row)


def growth_summary(*, session: Session, viewer: Viewer) -> dict[str, int]:
    """Counts of growth tasks by status and outcome, and the growth won (fen), in the viewer's scope."""
    stmt = select(
        GrowthTask.status, GrowthTask.outcome, func.count(), func.sum(GrowthTask.growth_fen)
    ).group_by(GrowthTask.status, GrowthTask.outcome)
    owners = visible_owner_ids(session, viewer)
    if owners is not None:
        stmt = stmt.where(GrowthTask.assignee_user_id.in_(owners))
    out = {"open": 0, "done": 0, "cancelled": 0, "won_growth": 0, "overdue": 0, "growth_fen": 0}
    for status, outcome, n, growth in session.execute(stmt):
        out[status] += int(n)
        if outcome == "won_growth":
            out["won_growth"] += int(n)
        out["growth_fen"] += int(growth or 0)
    overdue = (
        select(func.count())
        .select_from(GrowthTask)
        .where(GrowthTask.status == "open", GrowthTask.due_date < date.today())
    )
    if owners is not None:
        overdue = overdue.where(GrowthTask.assignee_user_id.in_(owners))
    out["overdue"] = int(session.scalar(overdue) or 0)
    return out
