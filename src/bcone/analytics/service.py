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

from bcone.analytics import _clv, _sql
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
    Breakdown,
    ClvCustomer,
    ClvReport,
    FunnelGroup,
    FunnelReport,
    FunnelStep,
    RetentionCohort,
    RetentionPeriod,
    RetentionReport,
    RfmCustomer,
    RfmReport,
    RfmSegmentRow,
    Segment,
)
from bcone.core.warehouse import EVENTS_TABLE, Warehouse, WarehouseQueryFailed
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
    }
)
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
SEGMENTS: tuple[Segment, ...] = ("champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost")
BREAKDOWNS: tuple[Breakdown, ...] = ("channel", "region", "store")
RETENTION_PERIODS: tuple[RetentionPeriod, ...] = ("week", "month")

# AARRR ("pirate metrics") mapped to bcone events, as a ready-made funnel. Revenue is measured by
# the CLV and RFM reports (money of order.paid); Referral has no bcone event yet.
AARRR_STAGES: tuple[tuple[str, str], ...] = (
    ("acquisition", "code.scanned"),  # reached through a product code scan
    ("activation", "order.paid"),  # first paid order after the scan
    ("retention", "order.paid"),  # a repeat order inside the window
)
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
    grid = [[0] * 5 for _ in range(5)]
    sums: dict[str, list[int]] = {name: [0, 0, 0, 0] for name in SEGMENTS}  # customers, days, orders, fen
    for name, r, f, customers, days, orders, spent in _rows(warehouse, _sql.RFM_SUMMARY, params, tenant_id):
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
        rows = _rows(warehouse, _sql.RFM_TOP, {**params, "segment": segment or "", "limit": limit}, tenant_id)
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
    sizes = {
        _as_date(c): int(n) for c, n in _rows(warehouse, _sql.cohort_sizes_sql(period), params, tenant_id)
    }
    exact: dict[date, list[int]] = {c: [0] * periods for c in sizes}
    lasts: dict[date, list[int]] = {c: [0] * periods for c in sizes}
    for cohort, active, users, ending in _rows(warehouse, _sql.retention_sql(period), params, tenant_id):
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
    # The tenant's own types are looked up only when a step is not one bcone emits.
    known: set[str] | frozenset[str] = KNOWN_EVENT_TYPES
    if not set(steps) <= KNOWN_EVENT_TYPES:
        known = set(event_types(warehouse, tenant_id))
    for i, kind in enumerate(steps):
        if not EVENT_TYPE_PATTERN.match(kind or ""):
            raise UnknownEventType(f"{kind!r} is not an event type (dotted lower case)", field=f"steps[{i}]")
        if kind not in known:
            raise UnknownEventType(f"unknown event type {kind!r}", field=f"steps[{i}]")
    dimension = _dimension(warehouse, breakdown)
    params: dict[str, Any] = {"since": span.start, "until": span.end}
    params.update({f"step{i}": kind for i, kind in enumerate(steps)})
    rows = _rows(warehouse, _sql.funnel_sql(len(steps), window_seconds, dimension), params, tenant_id)
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
) -> FunnelReport:
    """The AARRR template (:data:`AARRR_STAGES`) as a funnel."""
    return funnel(
        warehouse,
        tenant_id,
        steps=[kind for _, kind in AARRR_STAGES],
        stages=[stage for stage, _ in AARRR_STAGES],
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
