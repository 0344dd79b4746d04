"""The win-rate model against the database: training sets from closed opportunities, stored
versions, probabilities with reasons for open ones, the training job, the forecast, and a
generator of realistic pipelines (seeded) for demos, tests and benchmarks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.db import utcnow
from bcone.core.errors import NotFound
from bcone.core.ids import new_id
from bcone.core.jobs import JobContext, enqueue, job_handler
from bcone.core.money import format_yuan
from bcone.core.tenancy import current_tenant
from bcone.crm import _winmodel as wm
from bcone.crm._records import (
    Viewer,
    current_template_items,
    current_template_row,
    latest_assessments,
    scoped,
    search_text,
    stage_rows,
    team_names,
    template_scales,
)
from bcone.crm.errors import ModelNotFound
from bcone.crm.models import Account, Assessment, Opportunity, SalesTeam, Stage, StageChange, WinModel
from bcone.crm.schemas import (
    Forecast,
    ForecastRow,
    ModelStatus,
    Probability,
    Reason,
    TrainQueued,
    WinModelOut,
)
from bcone.iam import service as iam

# Below this many closed opportunities the model is not trained: probabilities are the stages' priors.
MIN_CLOSED = 200
TRAIN_JOB = "crm.train_win_model"


# --- training ------------------------------------------------------------------------------------


def _reached_fraction(position: int, open_positions: list[int]) -> float:
    if len(open_positions) < 2:
        return 0.0
    return _reached_rank(position, open_positions) / (len(open_positions) - 1)


def _reached_rank(position: int, open_positions: list[int]) -> int:
    """How many open stages lie beyond the first one, up to ``position``."""
    return max(sum(1 for p in open_positions if p <= position) - 1, 0)


def _rows_for(
    session: Session,
    opps: Sequence[Any],
    stages: list[Stage],
    latest: dict[str, tuple[int, dict[str, int]]] | None = None,
) -> list[wm.Row]:
    """What the model knows of each opportunity (ORM rows or column rows with the same names):
    its latest assessment's scores over each item's scale, stage reached, grade, amount, moves."""
    open_positions = sorted(s.position for s in stages if s.outcome == "open")
    scales = template_scales(session)
    if latest is None:
        found = latest_assessments(session, [o.id for o in opps])
        latest = {oid: (a.template_version, a.scores) for oid, a in found.items()}
    rows = []
    for o in opps:
        scores: dict[str, float] = {}
        if o.id in latest:
            version, raw = latest[o.id]
            scale = scales.get(version, {})
            scores = {k: int(v) / scale[k] for k, v in raw.items() if scale.get(k)}
        rows.append(
            wm.Row(
                scores=scores,
                stage_reached=_reached_fraction(o.max_stage_position, open_positions),
                grade=o.grade,
                amount_fen=o.amount_fen,
                extra_stage_moves=max(0, o.stage_moves - _reached_rank(o.max_stage_position, open_positions)),
            )
        )
    return rows


CLOSED = ("won", "lost")


def training_set(session: Session) -> wm.TrainingSet:
    """Closed opportunities (won = 1, lost = 0) with their latest assessment, as arrays.

    Reads columns, not ORM objects, and every closed opportunity's assessments in one query
    ordered by time (the last one per opportunity counts): tens of thousands of rows stay fast.
    """
    stages = stage_rows(session)
    by_position = {s.position: s.key for s in stages}
    opps = session.execute(
        select(
            Opportunity.id,
            Opportunity.status,
            Opportunity.max_stage_position,
            Opportunity.grade,
            Opportunity.amount_fen,
            Opportunity.stage_moves,
            Opportunity.own_estimate,
            Opportunity.sales_team_id,
        )
        .where(Opportunity.status.in_(CLOSED))
        .order_by(Opportunity.id)
    ).all()
    latest: dict[str, tuple[int, dict[str, int]]] = {}
    assessed = (
        select(Assessment.opportunity_id, Assessment.template_version, Assessment.scores)
        .join(Opportunity, Opportunity.id == Assessment.opportunity_id)
        .where(Opportunity.status.in_(CLOSED))
        .order_by(Assessment.assessed_at, Assessment.id)
    )
    for opp_id, version, scores in session.execute(assessed):
        latest[opp_id] = (version, scores)
    rows = _rows_for(session, opps, stages, latest)
    keys = [i.key for i in current_template_items(session)]
    names = team_names(session)
    return wm.TrainingSet(
        x=wm.featurize(rows, keys),
        y=np.array([1.0 if o.status == "won" else 0.0 for o in opps]),
        features=wm.feature_names(keys),
        own_estimate=np.array([np.nan if o.own_estimate is None else o.own_estimate / 100 for o in opps]),
        teams=[names.get(o.sales_team_id or "", "–") for o in opps],
        stages=[by_position.get(o.max_stage_position, "?") for o in opps],
    )


def _model_out(row: WinModel) -> WinModelOut:
    return WinModelOut(
        version=row.version,
        kind=row.kind,
        n_closed=row.n_closed,
        trained_at=row.trained_at,
        seconds=row.seconds,
        metrics=row.metrics,
    )


def current_model_row(session: Session) -> WinModel | None:
    return session.scalars(select(WinModel).order_by(WinModel.version.desc()).limit(1)).first()


def closed_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(Opportunity.status.in_(("won", "lost")))) or 0)


def train_win_model(*, session: Session, min_closed: int = MIN_CLOSED, seed: int = 0) -> WinModelOut | None:
    """Train, calibrate, evaluate and store a new model version; None when there is too little
    data (fewer than ``min_closed`` closed opportunities, or only one outcome)."""
    started = time.perf_counter()
    data = training_set(session)
    if (
        len(data.y) < max(min_closed, 20)
        or len(np.unique(data.y)) < 2
        or min(data.y.sum(), (1 - data.y).sum()) < 5
    ):
        return None
    model, metrics = wm.train(data, seed=seed)
    seconds = round(time.perf_counter() - started, 3)
    for _attempt in range(5):
        version = (session.scalar(select(func.max(WinModel.version))) or 0) + 1
        row = WinModel(
            version=version,
            kind="logistic_" + str(model.calibration["method"]),
            n_closed=len(data.y),
            params=model.to_params(),
            metrics=metrics,
            seconds=seconds,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue  # a concurrent training stored this version first
        return _model_out(row)
    raise RuntimeError("could not store the win model: too many concurrent trainings")


def _prior_note(n_closed: int, min_closed: int) -> str:
    return (
        f"stage priors: {n_closed} closed opportunities, the model needs {min_closed} "
        f"(阶段先验：已关闭商机 {n_closed} 个，模型需要 {min_closed} 个)"
    )


def model_status(*, session: Session, min_closed: int = MIN_CLOSED) -> ModelStatus:
    row = current_model_row(session)
    n = closed_count(session)
    if row is None:
        return ModelStatus(
            source="stage_prior",
            min_closed=min_closed,
            n_closed=n,
            model=None,
            note=_prior_note(n, min_closed),
        )
    return ModelStatus(source="model", min_closed=min_closed, n_closed=n, model=_model_out(row), note="")


def model_metrics(*, session: Session, version: int | None = None) -> WinModelOut:
    stmt = select(WinModel).order_by(WinModel.version.desc()).limit(1)
    if version is not None:
        stmt = select(WinModel).where(WinModel.version == version)
    row = session.scalars(stmt).first()
    if row is None:
        raise ModelNotFound("no win-rate model has been trained", field="version")
    return _model_out(row)


def enqueue_training(*, session: Session, min_closed: int = MIN_CLOSED) -> TrainQueued:
    """Queue the training job (one at a time per tenant)."""
    tenant_id = current_tenant(session)
    job_id = enqueue(
        session,
        TRAIN_JOB,
        {"min_closed": min_closed},
        tenant_id=tenant_id,
        dedupe_key=f"{TRAIN_JOB}:{tenant_id}",
        max_attempts=1,
    )
    return TrainQueued(job_id=job_id)


@job_handler(TRAIN_JOB, lease_seconds=300)
def _train_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``crm.train_win_model``: train and store a new version for the job's tenant."""
    with ctx.session() as session:
        out = train_win_model(session=session, min_closed=int(payload.get("min_closed", MIN_CLOSED)))
        if out is None:
            return {"trained": False, "n_closed": closed_count(session)}
        return {"trained": True, "version": out.version, "n_closed": out.n_closed, "seconds": out.seconds}


# --- probabilities and reasons -------------------------------------------------------------------


class Scorer:
    """Probabilities for opportunities of one tenant: the current model, or the stage priors."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.stages = stage_rows(session)
        self.stage_by_key = {s.key: s for s in self.stages}
        row = current_model_row(session)
        self.model = wm.FittedModel.from_params(row.params) if row is not None else None
        self.version = row.version if row is not None else None
        self.note = "" if row is not None else _prior_note(closed_count(session), MIN_CLOSED)
        self.labels = {i.key: (i.label_zh, i.label_en, i.scale_max) for i in current_template_items(session)}

    def probabilities(self, opps: list[Opportunity], *, reasons: bool = True) -> dict[str, Probability]:
        if not opps:
            return {}
        if self.model is None:
            return {
                o.id: Probability(
                    value=self._prior(o), source="stage_prior", model_version=None, reasons=[], note=self.note
                )
                for o in opps
            }
        rows = _rows_for(self.session, opps, self.stages)
        keys = [f.removeprefix("item:") for f in self.model.features if f.startswith("item:")]
        x = wm.featurize(rows, keys)
        p = self.model.probability(x)
        out = {}
        for i, o in enumerate(opps):
            value = float(p[i]) if o.status == "open" else (1.0 if o.status == "won" else 0.0)
            why = (
                [self._reason(f, c, rows[i], o) for f, c in wm.top_reasons(self.model, x[i])]
                if reasons
                else []
            )
            out[o.id] = Probability(
                value=round(value, 4), source="model", model_version=self.version, reasons=why, note=""
            )
        return out

    def _prior(self, o: Opportunity) -> float:
        stage = self.stage_by_key.get(o.stage_key)
        return float(stage.prior_probability) if stage else 0.0

    def _reason(self, feature: str, contribution: float, row: wm.Row, o: Opportunity) -> Reason:
        up = contribution > 0
        zh_dir, en_dir = ("提高赢率", "raises the chance") if up else ("降低赢率", "lowers the chance")
        if feature.startswith("item:"):
            key = feature.removeprefix("item:")
            zh, en, top = self.labels.get(key, (key, key, 3))
            score = round(row.scores.get(key, 0.0) * top)
            text_zh, text_en = f"{zh}：评分 {score}/{top}，{zh_dir}", f"{en}: scored {score}/{top}, {en_dir}"
        elif feature == "stage_reached":
            stage = self.stage_by_key.get(o.stage_key)
            zh_name, en_name = (stage.name_zh, stage.name_en) if stage else (o.stage_key, o.stage_key)
            text_zh, text_en = f"已推进到「{zh_name}」，{zh_dir}", f"reached stage {en_name}, {en_dir}"
        elif feature in ("grade_strategic", "grade_key"):
            grade_zh = {"strategic": "战略级", "key": "重点", "normal": "普通"}[o.grade]
            text_zh, text_en = f"{grade_zh}商机，{zh_dir}", f"a {o.grade} deal, {en_dir}"
        elif feature == "log_amount":
            amount = format_yuan(o.amount_fen)
            text_zh, text_en = f"金额 {amount}，{zh_dir}", f"amount {amount}, {en_dir}"
        else:
            text_zh, text_en = (
                f"阶段变更 {o.stage_moves} 次，{zh_dir}",
                f"{o.stage_moves} stage moves, {en_dir}",
            )
        return Reason(feature=feature, contribution=contribution, text_zh=text_zh, text_en=text_en)


# --- forecast ------------------------------------------------------------------------------------


def _user_names(session: Session, user_ids: set[str]) -> dict[str, str]:
    out = {}
    for uid in user_ids:
        try:
            out[uid] = iam.get_user(uid, session=session).display_name
        except NotFound:
            out[uid] = uid
    return out


def _period(d: date, by: str) -> str:
    return f"{d.year}-{d.month:02d}" if by == "month" else f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def forecast(
    *,
    session: Session,
    viewer: Viewer,
    by: str = "month",
    close_from: date | None = None,
    close_to: date | None = None,
) -> Forecast:
    """Open pipeline weighted by win probability, with commit and best case, and what was won,
    grouped by close month or quarter, sales team or owner."""
    stmt = scoped(select(Opportunity), viewer).where(Opportunity.status.in_(("open", "won")))
    if close_from:
        stmt = stmt.where(Opportunity.close_date >= close_from)
    if close_to:
        stmt = stmt.where(Opportunity.close_date <= close_to)
    opps = list(session.scalars(stmt))
    open_opps = [o for o in opps if o.status == "open"]
    scorer = Scorer(session)
    probs = scorer.probabilities(open_opps, reasons=False)
    teams = team_names(session)
    names = _user_names(session, {o.owner_user_id for o in opps}) if by == "owner" else {}
    acc: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    labels: dict[str, str] = {}
    for o in opps:
        if by in ("month", "quarter"):
            key = label = _period(o.close_date, by)
        elif by == "team":
            key = o.sales_team_id or "-"
            label = teams.get(key, "–")
        else:
            key = o.owner_user_id
            label = names.get(key, key)
        labels[key] = label
        a = acc[key]
        if o.status == "won":
            a["won"] += o.amount_fen
            continue
        a["count"] += 1
        a["pipeline"] += o.amount_fen
        a["weighted"] += o.amount_fen * probs[o.id].value
        if o.forecast_category in ("commit", "best_case"):
            a["best_case"] += o.amount_fen
        if o.forecast_category == "commit":
            a["commit"] += o.amount_fen

    def row(key: str, label: str, a: dict[str, float]) -> ForecastRow:
        return ForecastRow(
            key=key,
            label=label,
            open_count=int(a["count"]),
            pipeline_fen=int(a["pipeline"]),
            weighted_fen=round(a["weighted"]),
            best_case_fen=int(a["best_case"]),
            commit_fen=int(a["commit"]),
            won_fen=int(a["won"]),
        )

    rows = [row(k, labels[k], acc[k]) for k in sorted(acc, key=lambda k: labels[k])]
    total: dict[str, float] = defaultdict(float)
    for a in acc.values():
        for k, v in a.items():
            total[k] += v
    source = "model" if scorer.model is not None else "stage_prior"
    return Forecast(by=by, source=source, rows=rows, total=row("total", "total", total))


# --- generator -----------------------------------------------------------------------------------


def generate_pipeline(
    *,
    session: Session,
    closed: int,
    open_count: int = 0,
    seed: int = 0,
    owner_user_ids: list[str] | None = None,
    batch: int = 5000,
) -> dict[str, int]:
    """Write a realistic pipeline: ``closed`` won/lost opportunities following the generator's
    known signal, with their assessments, and ``open_count`` open ones (seeded).

    Bulk Core inserts, for tests, demos and benchmarks; tenant ids are set from the session.
    """
    tenant_id = current_tenant(session)
    stages = stage_rows(session)
    open_stages = [s for s in stages if s.outcome == "open"]
    won_key = next(s.key for s in stages if s.outcome == "won")
    lost_key = next(s.key for s in stages if s.outcome == "lost")
    template = current_template_row(session)
    owners = owner_user_ids or [f"gen-user-{i:02d}" for i in range(20)]
    team_ids = []
    for name in wm.TEAMS:
        existing = session.scalars(select(SalesTeam.id).where(SalesTeam.name == name)).first()
        if existing is None:
            t = SalesTeam(name=name)
            session.add(t)
            session.flush()
            existing = t.id
        team_ids.append(existing)
    rng = np.random.default_rng(seed + 1)
    accounts = []
    for i in range(200):
        accounts.append(
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "name": f"客户{seed}-{i:03d} 集团",
                "kind": "enterprise",
                "industry": ["零售", "餐饮", "制造", "物流"][i % 4],
                "owner_user_id": owners[i % len(owners)],
                "tier": "ABC"[i % 3],
                "notes": "",
                "created_at": utcnow(),
                "updated_at": utcnow(),
            }
        )
    session.execute(insert(Account), accounts)
    deals = wm.generate_deals(
        closed + open_count, seed=seed, open_stages=len(open_stages), owners=len(owners)
    )
    today = date.today()
    now = utcnow()
    opp_rows: list[dict[str, Any]] = []
    assessment_rows: list[dict[str, Any]] = []
    change_rows: list[dict[str, Any]] = []
    template_keys = {i["key"] for i in template.items}
    words = [
        "门店数字化",
        "渠道扫码",
        "会员营销",
        "年度框架",
        "新品铺货",
        "经销商系统",
        "促销活动",
        "陈列协议",
    ]

    def flush() -> None:
        for table, rows in (
            (Opportunity, opp_rows),
            (Assessment, assessment_rows),
            (StageChange, change_rows),
        ):
            if rows:
                session.execute(insert(table), rows)
                rows.clear()

    for i, d in enumerate(deals):
        is_closed = i < closed
        acc = accounts[int(rng.integers(len(accounts)))]
        oid = new_id()
        if is_closed:
            status = "won" if d.won else "lost"
            stage_key = won_key if d.won else lost_key
            close = today - timedelta(days=int(rng.integers(1, 720)))
        else:
            status = "open"
            stage_key = open_stages[d.stage_reached].key
            close = today + timedelta(days=int(rng.integers(0, 365)))
        category = "closed" if is_closed else ["pipeline", "best_case", "commit"][min(2, d.stage_reached)]
        name = f"{words[i % len(words)]} {i}"
        opp_rows.append(
            {
                "id": oid,
                "tenant_id": tenant_id,
                "account_id": acc["id"],
                "account_name": acc["name"],
                "search_text": search_text(name, str(acc["name"])),
                "name": name,
                "owner_user_id": owners[d.owner_index],
                "sales_team_id": team_ids[wm.TEAMS.index(d.team)],
                "stage_key": stage_key,
                "max_stage_position": open_stages[d.stage_reached].position,
                "status": status,
                "amount_fen": d.amount_fen,
                "currency": "CNY",
                "close_date": close,
                "grade": d.grade,
                "forecast_category": category,
                "own_estimate": d.own_estimate,
                "stage_moves": d.stage_moves,
                "closed_at": now if is_closed else None,
                "created_at": now,
                "updated_at": now,
            }
        )
        assessment_rows.append(
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "opportunity_id": oid,
                "template_id": template.id,
                "template_version": template.version,
                "scores": {k: v for k, v in d.scores.items() if k in template_keys},
                "evidence": {k: "generated" for k, v in d.scores.items() if k in template_keys and v >= 2},
                "assessed_by": owners[d.owner_index],
                "assessed_at": now,
            }
        )
        change_rows.append(
            {
                "id": new_id(),
                "tenant_id": tenant_id,
                "opportunity_id": oid,
                "from_stage": None,
                "to_stage": open_stages[0].key,
                "changed_by": owners[d.owner_index],
                "changed_at": now,
            }
        )
        if len(opp_rows) >= batch:
            flush()
    flush()
    session.flush()
    won = sum(1 for d in deals[:closed] if d.won)
    return {"closed": closed, "won": won, "open": open_count, "accounts": len(accounts)}
