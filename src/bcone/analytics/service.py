"""The analytics domain's behaviour: the only entry other domains may call.

Everything reads the warehouse through its port (``tenant_events`` of one tenant), with SQL that
runs unchanged on DuckDB and ClickHouse (:mod:`bcone.analytics._sql`); the lifetime-value models
are fitted in Python (:mod:`bcone.analytics._clv`). Dates are local days (China Standard Time),
``since`` and ``until`` both included. Input is checked before any SQL runs, and each error names
the offending field.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from bcone.analytics import _attribution, _clv, _dashboard, _nps, _sql, _summaries
from bcone.analytics.errors import (
    InvalidFunnel,
    InvalidParameter,
    InvalidRange,
    InvalidWindow,
    NotEnoughData,
    UnknownBreakdown,
    UnknownEventType,
)
from bcone.analytics.schemas import (
    AttributionReport,
    Breakdown,
    ClvCustomer,
    ClvReport,
    DashboardReport,
    FunnelGroup,
    FunnelReport,
    FunnelStep,
    NpsReport,
    ResponseIn,
    ResponseOut,
    RetentionCohort,
    RetentionPeriod,
    RetentionReport,
    RfmCustomer,
    RfmReport,
    RfmSegmentRow,
    Segment,
    SurveyIn,
    SurveyOut,
)
from bcone.core import geo
from bcone.core.pagination import MAX_PAGE_SIZE, PageParams
from bcone.core.warehouse import EVENTS_TABLE, Warehouse, WarehouseQueryFailed
from bcone.network import service as network
from bcone.web.templating import DISPLAY_TIMEZONE

ORDER_EVENT = "order.paid"
# Ranges longer than this are refused: three years of daily analytics is already a large scan.
MAX_RANGE_DAYS = 3 * 366
MAX_FUNNEL_STEPS = 8
MAX_WINDOW_SECONDS = 366 * 24 * 3600
MAX_TOP = 1000
MAX_HORIZON_WEEKS = 520
# The event types bcone's domains emit, known even before a tenant has any of them.
KNOWN_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "order.paid",
        "order.refunded",
        "code.scanned",
        "store.visited",
        "visit.checked_in",
        "page.viewed",
        "member.joined",
        "points.earned",
        "points.redeemed",
        "reward.issued",
        "coupon.redeemed",
        "referral.converted",
        "profile.identified",
        "share.clicked",
        "nps.responded",
    }
)
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
SEGMENTS: tuple[Segment, ...] = ("champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost")
BREAKDOWNS: tuple[Breakdown, ...] = ("channel", "region", "store")
RETENTION_PERIODS: tuple[RetentionPeriod, ...] = ("week", "month")

# AARRR ("pirate metrics") and RARRA (the same stages, retention first) mapped to bcone's
# events as ready-made funnels. A step "a|b" is reached by either type.
AARRR_STAGES: tuple[tuple[str, str], ...] = (
    (
        "acquisition",
        "profile.identified|share.clicked|code.scanned",
    ),  # first seen: identified, via a link or a scan
    ("activation", "code.scanned|order.paid"),  # a first scan or order after that
    ("retention", "code.scanned|order.paid"),  # came back: another scan or order
    ("revenue", "order.paid"),  # paid (again)
    ("referral", "share.clicked|referral.converted"),  # then came through, or brought, a referral
)
RARRA_STAGES: tuple[tuple[str, str], ...] = (
    ("retention", "code.scanned|order.paid"),  # an existing consumer comes back
    ("activation", "order.paid"),  # and buys
    ("referral", "share.clicked|referral.converted"),  # shares or refers
    ("revenue", "order.paid"),  # buys again
    ("acquisition", "referral.converted|profile.identified"),  # and new consumers follow
)
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {"aarrr": AARRR_STAGES, "rarra": RARRA_STAGES}
MAX_ALTERNATIVES = 4
AARRR_WINDOW_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class DateRange:
    """Local days ``since`` .. ``until`` (both included) and the UTC instants that bound them."""

    since: date
    until: date

    @property
    def start(self) -> datetime:
        return _local_midnight(self.since)

    @property
    def end(self) -> datetime:
        """The instant after the last day (exclusive)."""
        return _local_midnight(self.until + timedelta(days=1))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), DISPLAY_TIMEZONE).astimezone(UTC)


def today_local(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(DISPLAY_TIMEZONE).date()


def date_range(since: date | None, until: date | None, *, default_days: int = 90) -> DateRange:
    """The range asked for, ``until`` defaulting to today and ``since`` to ``default_days`` before it."""
    end = until or today_local()
    start = since or end - timedelta(days=default_days - 1)
    if end < start:
        raise InvalidRange(f"until ({end}) is before since ({start}): the range is empty", field="until")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise InvalidRange(f"the range may span at most {MAX_RANGE_DAYS} days", field="since")
    return DateRange(start, end)


def _events_table_exists(warehouse: Warehouse) -> bool:
    rows = warehouse.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = $table"
        " AND table_schema NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA', 'pg_catalog')",
        {"table": EVENTS_TABLE},
    ).rows
    return bool(rows and rows[0][0])


def _rows(warehouse: Warehouse, sql: str, params: dict[str, Any], tenant_id: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql``; a warehouse nobody has flushed to yet (no events table) has none."""
    try:
        return warehouse.query(sql, params, tenant_id=tenant_id).rows
    except WarehouseQueryFailed:
        if _events_table_exists(warehouse):
            raise
        return []


def summaries_fresh(warehouse: Warehouse, tenant_id: str) -> bool:
    """Whether the tenant's summary tables match its events now (then reports read them)."""
    return _summaries.is_fresh(warehouse, tenant_id)


def refresh_summaries(
    warehouse: Warehouse, tenant_id: str | None = None, *, force: bool = False
) -> list[_summaries.RefreshResult]:
    """Rebuild the summary tables of one tenant, or of every tenant with events; with
    ``force=False`` a tenant whose summaries are still fresh is skipped."""
    tenant_ids = [tenant_id] if tenant_id else _summaries.tenants(warehouse)
    return [_summaries.refresh(warehouse, t, force=force) for t in tenant_ids]


def event_types(warehouse: Warehouse, tenant_id: str) -> list[str]:
    """The event types this tenant can analyse: those bcone emits and those in its events."""
    seen = {str(row[0]) for row in _rows(warehouse, _sql.EVENT_TYPES, {}, tenant_id)}
    return sorted(KNOWN_EVENT_TYPES | seen)


def check_event_type(warehouse: Warehouse, tenant_id: str, value: str, field: str) -> str:
    if not EVENT_TYPE_PATTERN.match(value or ""):
        raise UnknownEventType(
            f"{value!r} is not an event type (dotted lower case, e.g. order.paid)", field=field
        )
    if value not in KNOWN_EVENT_TYPES and value not in event_types(warehouse, tenant_id):
        raise UnknownEventType(f"unknown event type {value!r}", field=field)
    return value


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


# --- RFM ----------------------------------------------------------------------------------------


def rfm(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    segment: str | None = None,
    limit: int = 50,
) -> RfmReport:
    """Recency, frequency and monetary quintile scores of the consumers who paid orders in the
    range, their named segments, the R x F grid, and the ``limit`` biggest spenders (of one
    ``segment`` if given). Recency counts days from the last order to the end of the range."""
    span = date_range(since, until, default_days=365)
    if segment and segment not in SEGMENTS:
        raise InvalidParameter(
            f"unknown segment {segment!r}; choose one of {', '.join(SEGMENTS)}", field="segment"
        )
    if not 0 <= limit <= MAX_TOP:
        raise InvalidParameter(f"limit must be between 0 and {MAX_TOP}", field="limit")
    params: dict[str, Any] = {"order_type": ORDER_EVENT, "since": span.start, "until": span.end}
    # ClickHouse ranks a million buyers from the raw orders faster than from the daily rollup
    # (0.9 s less at 10 M events, BENCHMARKS.md), so only DuckDB reads the summary here.
    summary = warehouse.dialect == "duckdb" and summaries_fresh(warehouse, tenant_id)
    if summary:
        params.update({"since_day": span.since, "until_day": span.until})
    grid = [[0] * 5 for _ in range(5)]
    sums: dict[str, list[int]] = {name: [0, 0, 0, 0] for name in SEGMENTS}  # customers, days, orders, fen
    summary_sql = _sql.rfm_sql(_sql.RFM_SUMMARY, summary=summary)
    for name, r, f, customers, days, orders, spent in _rows(warehouse, summary_sql, params, tenant_id):
        grid[int(r) - 1][int(f) - 1] += int(customers)
        acc = sums[str(name)]
        for i, value in enumerate((customers, days, orders, spent)):
            acc[i] += int(value)
    total = sum(acc[0] for acc in sums.values())
    segments = [
        RfmSegmentRow(
            segment=name,
            customers=n,
            share=n / total if total else 0.0,
            avg_recency_days=round(days / n, 4) if n else 0.0,
            avg_orders=round(orders / n, 4) if n else 0.0,
            avg_spent_fen=round(spent / n) if n else 0,
            spent_fen=spent,
        )
        for name, (n, days, orders, spent) in sums.items()
    ]
    top: list[RfmCustomer] = []
    if limit:
        top_sql = _sql.rfm_sql(_sql.RFM_TOP, summary=summary)
        rows = _rows(warehouse, top_sql, {**params, "segment": segment or "", "limit": limit}, tenant_id)
        top = [
            RfmCustomer(
                profile_id=row[0],
                last_order_at=row[1],
                recency_days=int(row[2]),
                orders=int(row[3]),
                spent_fen=int(row[4]),
                r=int(row[5]),
                f=int(row[6]),
                m=int(row[7]),
                segment=row[8],
            )
            for row in rows
        ]
    return RfmReport(
        since=span.since, until=span.until, customers=total, segments=segments, grid=grid, top=top
    )


# --- Retention ----------------------------------------------------------------------------------


def _period_index(unit: str, cohort: date, active: date) -> int:
    if unit == "week":
        return (active - cohort).days // 7
    return (active.year - cohort.year) * 12 + active.month - cohort.month


def _period_count(unit: str, span: DateRange) -> int:
    first = span.since - timedelta(days=span.since.weekday()) if unit == "week" else span.since.replace(day=1)
    return _period_index(unit, first, span.until) + 1


def retention(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    period: str = "week",
    cohort_event: str = ORDER_EVENT,
    return_event: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> RetentionReport:
    """Cohorts by the week (Monday) or month of each consumer's first ``cohort_event``, and how
    many came back with ``return_event`` (default: the same type) in each later period."""
    if period not in RETENTION_PERIODS:
        raise InvalidParameter(f"period must be one of {', '.join(RETENTION_PERIODS)}", field="period")
    span = date_range(since, until, default_days=90 if period == "week" else 365)
    cohort_event = check_event_type(warehouse, tenant_id, cohort_event, "cohort_event")
    return_event = check_event_type(warehouse, tenant_id, return_event or cohort_event, "return_event")
    params: dict[str, Any] = {
        "cohort_type": cohort_event,
        "return_type": return_event,
        "since": span.start,
        "until": span.end,
    }
    periods = _period_count(period, span)
    summary = summaries_fresh(warehouse, tenant_id)
    sizes_sql, retention_sql = _sql.cohort_sizes_sql(period), _sql.retention_sql(period)
    if summary:
        params.update({"since_day": span.since, "until_day": span.until})
        sizes_sql, retention_sql = _sql.cohort_sizes_summary_sql(period), _sql.retention_summary_sql(period)
    sizes = {_as_date(c): int(n) for c, n in _rows(warehouse, sizes_sql, params, tenant_id)}
    exact: dict[date, list[int]] = {c: [0] * periods for c in sizes}
    lasts: dict[date, list[int]] = {c: [0] * periods for c in sizes}
    for cohort, active, users, ending in _rows(warehouse, retention_sql, params, tenant_id):
        c = _as_date(cohort)
        k = _period_index(period, c, _as_date(active))
        exact[c][k] += int(users)
        lasts[c][k] += int(ending)
    cohorts = []
    for c in sorted(sizes):
        # Consumers active in period k or later are those whose last active period is >= k.
        later = np.cumsum(lasts[c][::-1])[::-1]
        span_left = _period_index(period, c, span.until) + 1
        cohorts.append(
            RetentionCohort(
                cohort=c,
                size=sizes[c],
                exact=exact[c][:span_left],
                on_or_after=[int(v) for v in later[:span_left]],
            )
        )
    return RetentionReport(
        period=period,
        cohort_event=cohort_event,
        return_event=return_event,
        since=span.since,
        until=span.until,
        periods=periods,
        cohorts=cohorts,
    )


# --- Funnels ------------------------------------------------------------------------------------


def _dimension(warehouse: Warehouse, breakdown: str | None) -> str | None:
    if breakdown is None or breakdown == "":
        return None
    if breakdown == "region":
        return "region"
    if breakdown == "store":
        return "org_id"
    if breakdown == "channel":
        return _sql.property_text(warehouse.dialect, "channel")
    raise UnknownBreakdown(
        f"unknown breakdown {breakdown!r}; choose one of {', '.join(BREAKDOWNS)}", field="breakdown"
    )


def _funnel_group(key: str | None, steps: list[str], counts: list[int]) -> FunnelGroup:
    out = []
    first = counts[0] if counts else 0
    for i, (kind, users) in enumerate(zip(steps, counts, strict=True)):
        previous = counts[i - 1] if i else users
        out.append(
            FunnelStep(
                index=i,
                type=kind,
                users=users,
                conversion=users / first if first else 0.0,
                step_conversion=users / previous if previous else 0.0,
            )
        )
    return FunnelGroup(key=key, steps=out)


def funnel(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    steps: list[str],
    window_seconds: int,
    breakdown: str | None = None,
    since: date | None = None,
    until: date | None = None,
    stages: list[str] | None = None,
) -> FunnelReport:
    """An ordered funnel over ``steps`` (event types) with a conversion window counted from the
    first step, in total and per value of ``breakdown`` (``channel``, ``region`` or ``store``)."""
    if not 2 <= len(steps) <= MAX_FUNNEL_STEPS:
        raise InvalidFunnel(f"a funnel needs 2 to {MAX_FUNNEL_STEPS} steps, got {len(steps)}", field="steps")
    if window_seconds <= 0:
        raise InvalidWindow("window_seconds must be > 0", field="window_seconds")
    if window_seconds > MAX_WINDOW_SECONDS:
        raise InvalidWindow(f"window_seconds may be at most {MAX_WINDOW_SECONDS}", field="window_seconds")
    span = date_range(since, until, default_days=30)
    # A step is one event type or alternatives "a|b" (any of them counts).
    options = [[part.strip() for part in (step or "").split("|")] for step in steps]
    wanted = {kind for step in options for kind in step}
    # The tenant's own types are looked up only when a step is not one bcone emits.
    known: set[str] | frozenset[str] = KNOWN_EVENT_TYPES
    if not wanted <= KNOWN_EVENT_TYPES:
        known = set(event_types(warehouse, tenant_id))
    for i, step in enumerate(options):
        if len(step) > MAX_ALTERNATIVES:
            raise InvalidFunnel(
                f"a step may name at most {MAX_ALTERNATIVES} event types", field=f"steps[{i}]"
            )
        for kind in step:
            if not EVENT_TYPE_PATTERN.match(kind or ""):
                raise UnknownEventType(
                    f"{kind!r} is not an event type (dotted lower case)", field=f"steps[{i}]"
                )
            if kind not in known:
                raise UnknownEventType(f"unknown event type {kind!r}", field=f"steps[{i}]")
    steps = ["|".join(step) for step in options]
    dimension = _dimension(warehouse, breakdown)
    params: dict[str, Any] = {"since": span.start, "until": span.end}
    if all(len(step) == 1 for step in options):
        shape: int | list[int] = len(steps)
        params.update({f"step{i}": step[0] for i, step in enumerate(options)})
    else:
        shape = [len(step) for step in options]
        params.update({f"step{i}_{j}": kind for i, step in enumerate(options) for j, kind in enumerate(step)})
    rows = _rows(warehouse, _sql.funnel_sql(shape, window_seconds, dimension), params, tenant_id)
    per_key: dict[str, list[int]] = defaultdict(lambda: [0] * len(steps))
    for step, key, users in rows:
        per_key[str(key)][int(step)] += int(users)
    totals = [sum(counts[i] for counts in per_key.values()) for i in range(len(steps))]
    groups: list[FunnelGroup] = []
    if dimension is not None:
        ordered = sorted(per_key.items(), key=lambda item: (-item[1][0], item[0]))
        groups = [_funnel_group(key or None, steps, counts) for key, counts in ordered]
    return FunnelReport(
        steps=steps,
        stages=stages,
        window_seconds=window_seconds,
        breakdown=breakdown or None,
        since=span.since,
        until=span.until,
        total=_funnel_group(None, steps, totals),
        groups=groups,
    )


def aarrr(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    window_seconds: int = AARRR_WINDOW_SECONDS,
    breakdown: str | None = None,
    since: date | None = None,
    until: date | None = None,
    template: str = "aarrr",
) -> FunnelReport:
    """The AARRR template (:data:`AARRR_STAGES`) as a funnel; ``template="rarra"`` gives RARRA."""
    if template not in TEMPLATES:
        raise InvalidParameter(f"template must be one of {', '.join(TEMPLATES)}", field="template")
    stages = TEMPLATES[template]
    return funnel(
        warehouse,
        tenant_id,
        steps=[kind for _, kind in stages],
        stages=[stage for stage, _ in stages],
        window_seconds=window_seconds,
        breakdown=breakdown,
        since=since,
        until=until,
    )


# --- Lifetime value -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseSummary:
    """Per consumer: repeat purchase days (x), recency and age in weeks, average repeat value (fen)."""

    profile_ids: list[str]
    frequency: np.ndarray[Any, np.dtype[np.float64]]
    recency: np.ndarray[Any, np.dtype[np.float64]]
    age: np.ndarray[Any, np.dtype[np.float64]]
    monetary: np.ndarray[Any, np.dtype[np.float64]]


def purchase_summary(warehouse: Warehouse, tenant_id: str, *, until: date) -> PurchaseSummary:
    """The CLV summary of every consumer with a paid order up to the end of ``until`` (local day).

    Purchases are counted by local day; T runs from the first purchase day to the day after
    ``until`` (so a consumer who first bought on ``until`` has been watched for one day).
    """
    end_day = until + timedelta(days=1)
    rows = _rows(
        warehouse, _sql.CLV_SUMMARY, {"order_type": ORDER_EVENT, "until": _local_midnight(end_day)}, tenant_id
    )
    ids = [str(r[0]) for r in rows]
    days = np.array([int(r[1]) for r in rows], dtype=np.float64)
    first = [_as_date(r[2]) for r in rows]
    last = [_as_date(r[3]) for r in rows]
    repeat_amount = np.array([float(r[4]) for r in rows], dtype=np.float64)
    x = days - 1
    recency = np.array([(b - a).days for a, b in zip(first, last, strict=True)], dtype=np.float64) / 7.0
    age = np.array([(end_day - a).days for a in first], dtype=np.float64) / 7.0
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(x > 0, repeat_amount / np.maximum(x, 1), 0.0)
    return PurchaseSummary(ids, x, recency, age, monetary)


def clv(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    until: date | None = None,
    model: str = "bgnbd",
    horizon_weeks: int = 52,
    discount_rate: float = 0.0,
    limit: int = 50,
) -> ClvReport:
    """Fit ``model`` (BG/NBD or Pareto/NBD) and Gamma-Gamma on the consumers' ``order.paid``
    history up to ``until`` and value each consumer over the next ``horizon_weeks`` weeks,
    discounted by ``discount_rate`` per week. Returns the ``limit`` most valuable consumers."""
    if model not in ("bgnbd", "pareto"):
        raise InvalidParameter("model must be bgnbd or pareto", field="model")
    if not 1 <= horizon_weeks <= MAX_HORIZON_WEEKS:
        raise InvalidParameter(
            f"horizon_weeks must be between 1 and {MAX_HORIZON_WEEKS}", field="horizon_weeks"
        )
    if not 0 <= discount_rate < 1:
        raise InvalidParameter("discount_rate must be >= 0 and < 1 (per week)", field="discount_rate")
    if not 0 <= limit <= MAX_TOP:
        raise InvalidParameter(f"limit must be between 0 and {MAX_TOP}", field="limit")
    end = until or today_local()
    summary = purchase_summary(warehouse, tenant_id, until=end)
    x, t_x, age, m = summary.frequency, summary.recency, summary.age, summary.monetary
    repeat = int((x > 0).sum())
    if x.size < 10 or repeat < 5:
        raise NotEnoughData(
            f"{x.size} consumers with orders, {repeat} of them repeat buyers: at least 10 and 5 are needed",
            field="until",
        )
    try:
        fitted: _clv.BetaGeo | _clv.ParetoNBD = (
            _clv.BetaGeo.fit(x, t_x, age) if model == "bgnbd" else _clv.ParetoNBD.fit(x, t_x, age)
        )
        spend = _clv.GammaGamma.fit(x, m)
    except ValueError as exc:  # FitFailed included: data the model cannot describe
        raise NotEnoughData(f"the model could not be fitted: {exc}", field="until") from exc
    with np.errstate(all="ignore"):
        alive = fitted.probability_alive(x, t_x, age)
        expected = fitted.conditional_expected_purchases(float(horizon_weeks), x, t_x, age)
        value = spend.expected_average_value(x, m)
        lifetime = _clv.customer_lifetime_value(
            fitted, spend, x, t_x, age, m, horizon=horizon_weeks, discount_rate=discount_rate
        )
    lifetime = np.nan_to_num(lifetime)
    order = np.lexsort((np.array(summary.profile_ids), -lifetime))[:limit]
    top = [
        ClvCustomer(
            profile_id=summary.profile_ids[i],
            frequency=int(x[i]),
            recency_weeks=round(float(t_x[i]), 4),
            age_weeks=round(float(age[i]), 4),
            monetary_fen=round(float(m[i])),
            probability_alive=round(float(alive[i]), 6),
            expected_purchases=round(float(expected[i]), 6),
            expected_value_fen=round(float(value[i])),
            clv_fen=round(float(lifetime[i])),
        )
        for i in order
    ]
    total = float(lifetime.sum())
    return ClvReport(
        model=model,
        until=end,
        params={k: round(v, 6) for k, v in fitted.params.items()},
        spend_params={k: round(v, 6) for k, v in spend.params.items()},
        customers=int(x.size),
        repeat_customers=repeat,
        horizon_weeks=horizon_weeks,
        discount_rate=discount_rate,
        total_clv_fen=round(total),
        avg_clv_fen=round(total / x.size),
        top=top,
    )


# --- Operating dashboard ------------------------------------------------------------------------


def organization_directory(session: Session) -> dict[str, tuple[str, str, str]]:
    """Every organisation of the session's tenant: id -> (name, distributor id, distributor name).

    A distributor is its own distributor; an organisation without one maps to ''."""
    orgs = []
    page = 1
    while True:
        chunk = network.list_organizations(PageParams(page=page, page_size=MAX_PAGE_SIZE), session=session)
        orgs.extend(chunk.items)
        if page >= chunk.pages:
            break
        page += 1
    names = {o.id: o.name for o in orgs}
    out: dict[str, tuple[str, str, str]] = {}
    for o in orgs:
        dist = o.id if o.kind == "distributor" else (o.distributor_id or "")
        out[o.id] = (o.name, dist, names.get(dist, ""))
    return out


def dashboard(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    grain: str = "day",
    channel: str | None = None,
    province: str | None = None,
    sku: str | None = None,
    session: Session | None = None,
) -> DashboardReport:
    """The operating dashboard (经营数据): sales, orders, scans, active stores, new and returning
    consumers per day or week, and by channel, province (by city once a province is chosen), SKU,
    store and distributor. With a ``session`` (bound to the tenant) stores and distributors get
    their names and the org hierarchy from the network; without one they stay ids."""
    span = date_range(since, until, default_days=30)
    filters = _dashboard.check_filters(channel, province, sku)
    directory: dict[str, tuple[str, str, str]] | None = None

    def lookup() -> dict[str, tuple[str, str, str]]:
        nonlocal directory
        if directory is None:
            directory = organization_directory(session) if session is not None else {}
        return directory

    def distributors(ids: list[str]) -> dict[str, tuple[str, str]]:
        found = lookup()
        return {i: (found[i][1], found[i][2]) for i in ids if i in found}

    def store_names(ids: list[str]) -> dict[str, str]:
        found = lookup()
        return {i: found[i][0] for i in ids if i in found}

    return _dashboard.build(
        warehouse,
        tenant_id,
        lambda sql, params: _rows(warehouse, sql, params, tenant_id),
        since=span.since,
        until=span.until,
        start=span.start,
        end=span.end,
        grain=grain,
        filters=filters,
        distributors=distributors if session is not None else None,
        store_names=store_names if session is not None else None,
        summary=summaries_fresh(warehouse, tenant_id),
    )


def dashboard_export(report: DashboardReport, table: str, fmt: str) -> tuple[bytes, str, str]:
    """One dashboard table as CSV or XLSX: (content, media type, file name)."""
    if fmt not in ("csv", "xlsx"):
        raise InvalidParameter("format must be csv or xlsx", field="format")
    header, body = _dashboard.export_rows(report, table)
    name = f"dashboard-{table}-{report.since}-{report.until}.{fmt}"
    if fmt == "csv":
        return _dashboard.to_csv(header, body), "text/csv; charset=utf-8", name
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _dashboard.to_xlsx(header, body, table), media, name


# --- NPS ----------------------------------------------------------------------------------------

NPS_EVENT = _nps.EVENT_TYPE
survey_url = _nps.survey_url
check_score = _nps.check_score


def create_survey(data: SurveyIn, *, session: Session) -> SurveyOut:
    """A new NPS survey of the session's tenant, answered at its public ``url``."""
    return _nps.create_survey(data, session=session)


def list_surveys(*, session: Session) -> list[SurveyOut]:
    return _nps.list_surveys(session=session)


def set_survey_status(survey_id: str, status: str, *, session: Session) -> SurveyOut:
    return _nps.set_survey_status(survey_id, status, session=session)


def public_survey(survey_id: str, *, session: Session) -> tuple[str, SurveyOut]:
    """The survey behind a public link and its tenant (the session is bound to it)."""
    return _nps.public_survey(survey_id, session=session)


def submit_response(survey_id: str, data: ResponseIn, *, session: Session) -> ResponseOut:
    """Store an answer and append ``nps.responded``; a score outside 0..10 names ``score``."""
    return _nps.submit_response(survey_id, data, session=session)


def recent_comments(survey_id: str | None, *, session: Session, limit: int = 20) -> list[ResponseOut]:
    return _nps.recent_comments(survey_id, session=session, limit=limit)


def nps(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    breakdown: str = "store",
    survey_id: str | None = None,
    labels: dict[str, str] | None = None,
) -> NpsReport:
    """NPS of the ``nps.responded`` events in the range: in total, per week, and per store,
    region or SKU (``breakdown``)."""
    span = date_range(since, until, default_days=90)
    names = labels or {}

    def label(key: str) -> str:
        if key in names:
            return names[key]
        division = geo.get_division(key) if breakdown == "region" and key else None
        return division.name if division else key

    return _nps.build_report(
        warehouse.dialect,
        lambda sql, params: _rows(warehouse, sql, params, tenant_id),
        since=span.since,
        until=span.until,
        start=span.start,
        end=span.end,
        breakdown=breakdown,
        survey_id=survey_id or None,
        labels=label,
    )


# --- Partner attribution ------------------------------------------------------------------------


def attribution(
    warehouse: Warehouse,
    tenant_id: str,
    *,
    since: date | None = None,
    until: date | None = None,
    limit: int = 50,
    session: Session | None = None,
) -> AttributionReport:
    """Consumers and revenue attributed to the stores, distributors and sharers who brought them
    in (first ``code.scanned`` store or first ``share.clicked`` sharer) and who served them
    (``order.paid`` store, and the sharer of the link that led to the order). With a ``session``
    stores get names and their distributor from the network."""
    span = date_range(since, until, default_days=90)
    if not 0 <= limit <= MAX_TOP:
        raise InvalidParameter(f"limit must be between 0 and {MAX_TOP}", field="limit")
    directory = organization_directory(session) if session is not None else {}
    return _attribution.build(
        warehouse.dialect,
        lambda sql, params: _rows(warehouse, sql, params, tenant_id),
        since=span.since,
        until=span.until,
        start=span.start,
        end=span.end,
        directory=directory,
        limit=limit,
    )
