"""RFM, retention, funnels and CLV summaries from the warehouse: the same answer on DuckDB and on
ClickHouse (chDB), and the answer a plain-Python computation over the same events gives."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from bcone.analytics import service
from bcone.analytics.errors import (
    InvalidFunnel,
    InvalidParameter,
    InvalidRange,
    InvalidWindow,
    UnknownBreakdown,
    UnknownEventType,
)
from bcone.core.events import Event
from bcone.core.warehouse import Warehouse
from tests.analytics.conftest import EVENTS, FIRST_DAY, LAST_DAY, TENANT

CST = timedelta(hours=8)


def local_day(ts: datetime) -> date:
    return (ts.astimezone(UTC) + CST).date()


def mine(kind: str | None = None) -> list[Event]:
    return [e for e in EVENTS if e.tenant_id == TENANT and (kind is None or e.type == kind)]


def in_range(e: Event, since: date, until: date) -> bool:
    return since <= local_day(e.ts) <= until


# --- RFM ----------------------------------------------------------------------------------------


def reference_rfm(since: date, until: date) -> dict[str, tuple[int, int, int, str]]:
    end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1) - CST
    last: dict[str, datetime] = {}
    orders: dict[str, int] = defaultdict(int)
    spent: dict[str, int] = defaultdict(int)
    for e in mine("order.paid"):
        if in_range(e, since, until) and e.profile_id:
            last[e.profile_id] = max(last.get(e.profile_id, e.ts), e.ts)
            orders[e.profile_id] += 1
            spent[e.profile_id] += e.amount or 0
    n = len(last)

    def score(values: dict[str, object]) -> dict[str, int]:
        ordered = sorted(values.values())  # type: ignore[type-var]
        rank = {}
        for i, v in enumerate(ordered):
            rank.setdefault(v, i + 1)
        return {p: 1 + int(5.0 * (rank[v] - 1) / n) for p, v in values.items()}

    r, f, m = score(last), score(orders), score(spent)  # type: ignore[arg-type]
    out = {}
    for p in last:
        rs, fs = r[p], f[p]
        if rs >= 4 and fs >= 4:
            seg = "champions"
        elif rs >= 3 and fs >= 3:
            seg = "loyal"
        elif rs >= 4 and fs == 1:
            seg = "new"
        elif rs >= 3:
            seg = "potential"
        elif fs >= 3:
            seg = "at_risk"
        elif rs == 2:
            seg = "hibernating"
        else:
            seg = "lost"
        assert (end - last[p]).days >= 0
        out[p] = (rs, fs, m[p], seg)
    return out


def test_rfm_matches_a_plain_computation_on_both_engines(duck: Warehouse, chdb_wh: Warehouse) -> None:
    since, until = FIRST_DAY, LAST_DAY
    expected = reference_rfm(since, until)
    reports = [service.rfm(wh, TENANT, since=since, until=until, limit=1000) for wh in (duck, chdb_wh)]
    assert reports[0] == reports[1]
    report = reports[0]
    assert report.customers == len(expected) > 50
    got = {c.profile_id: (c.r, c.f, c.m, c.segment) for c in report.top}
    assert got == expected
    by_segment = {s.segment: s.customers for s in report.segments}
    for name in service.SEGMENTS:
        assert by_segment[name] == sum(1 for v in expected.values() if v[3] == name)
    assert sum(map(sum, report.grid)) == report.customers
    assert sum(s.spent_fen for s in report.segments) == sum(
        e.amount or 0 for e in mine("order.paid") if in_range(e, since, until)
    )
    # Several segments are populated, so the rules are exercised, not just the fallback.
    assert sum(1 for v in by_segment.values() if v) >= 4


def test_rfm_top_filters_by_segment_and_orders_by_spend(duck: Warehouse) -> None:
    report = service.rfm(duck, TENANT, since=FIRST_DAY, until=LAST_DAY, segment="champions", limit=5)
    assert report.top
    assert {c.segment for c in report.top} == {"champions"}
    spends = [c.spent_fen for c in report.top]
    assert spends == sorted(spends, reverse=True)


def test_rfm_on_an_empty_or_missing_warehouse_is_empty(empty_duck: Warehouse) -> None:
    report = service.rfm(empty_duck, TENANT, since=FIRST_DAY, until=LAST_DAY)
    assert report.customers == 0
    assert report.top == []
    assert all(s.customers == 0 for s in report.segments)


# --- Retention ----------------------------------------------------------------------------------


def period_start(day: date, unit: str) -> date:
    return day - timedelta(days=day.weekday()) if unit == "week" else day.replace(day=1)


def index(unit: str, cohort: date, active: date) -> int:
    if unit == "week":
        return (active - cohort).days // 7
    return (active.year - cohort.year) * 12 + active.month - cohort.month


def reference_retention(unit: str, since: date, until: date, cohort_type: str, return_type: str):  # type: ignore[no-untyped-def]
    first: dict[str, date] = {}
    for e in sorted(mine(cohort_type), key=lambda e: e.ts):
        if e.profile_id and local_day(e.ts) <= until:
            first.setdefault(e.profile_id, local_day(e.ts))
    cohorts = {p: period_start(d, unit) for p, d in first.items() if d >= since}
    active: dict[str, set[int]] = defaultdict(set)
    for e in mine(return_type):
        p = e.profile_id
        if p in cohorts and in_range(e, since, until):
            k = index(unit, cohorts[p], period_start(local_day(e.ts), unit))
            if k >= 0:
                active[p].add(k)
    table: dict[date, dict[str, list[int]]] = {}
    for p, c in cohorts.items():
        n = index(unit, c, until) + 1
        row = table.setdefault(c, {"size": [0], "exact": [0] * n, "later": [0] * n})
        row["size"][0] += 1
        for k in active[p]:
            row["exact"][k] += 1
        if active[p]:
            for k in range(max(active[p]) + 1):
                row["later"][k] += 1
    return table


@pytest.mark.parametrize(
    ("unit", "cohort_type", "return_type"),
    [("week", "order.paid", "order.paid"), ("month", "code.scanned", "order.paid")],
)
def test_retention_matches_a_plain_computation_on_both_engines(
    duck: Warehouse, chdb_wh: Warehouse, unit: str, cohort_type: str, return_type: str
) -> None:
    since, until = FIRST_DAY + timedelta(days=3), LAST_DAY
    reports = [
        service.retention(
            wh,
            TENANT,
            period=unit,
            cohort_event=cohort_type,
            return_event=return_type,
            since=since,
            until=until,
        )
        for wh in (duck, chdb_wh)
    ]
    assert reports[0] == reports[1]
    expected = reference_retention(unit, since, until, cohort_type, return_type)
    got = {c.cohort: {"size": [c.size], "exact": c.exact, "later": c.on_or_after} for c in reports[0].cohorts}
    assert got == expected
    assert len(got) >= 4
    for c in reports[0].cohorts:
        assert all(a <= b for a, b in zip(c.exact, c.on_or_after, strict=True))
        assert c.on_or_after == sorted(c.on_or_after, reverse=True)


def test_retention_of_the_same_event_starts_at_the_whole_cohort(duck: Warehouse) -> None:
    report = service.retention(duck, TENANT, period="week", since=FIRST_DAY, until=LAST_DAY)
    assert all(c.exact[0] == c.size == c.on_or_after[0] for c in report.cohorts)


# --- Funnels ------------------------------------------------------------------------------------


def reference_funnel(steps: list[str], window: timedelta, since: date, until: date, key: str | None):  # type: ignore[no-untyped-def]
    by_profile: dict[str, list[Event]] = defaultdict(list)
    for e in sorted(mine(), key=lambda e: e.ts):
        if e.profile_id:
            by_profile[e.profile_id].append(e)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * len(steps))
    for events in by_profile.values():
        entry = next((e for e in events if e.type in steps[0].split("|") and in_range(e, since, until)), None)
        if entry is None:
            continue
        dim = ""
        if key == "region":
            dim = entry.region or ""
        elif key == "store":
            dim = entry.org_id or ""
        elif key == "channel":
            dim = str(entry.properties.get("channel", ""))
        counts[dim][0] += 1
        t = entry.ts
        for k, kind in enumerate(steps[1:], start=1):
            nxt = next(
                (e for e in events if e.type in kind.split("|") and t < e.ts <= entry.ts + window), None
            )
            if nxt is None:
                break
            counts[dim][k] += 1
            t = nxt.ts
    return counts


@pytest.mark.parametrize("breakdown", [None, "channel", "region", "store"])
def test_funnel_matches_a_plain_computation_on_both_engines(
    duck: Warehouse, chdb_wh: Warehouse, breakdown: str | None
) -> None:
    steps = (
        ["code.scanned", "order.paid", "order.paid"]
        if breakdown != "channel"
        else ["order.paid", "code.scanned", "order.paid"]
    )
    window = timedelta(days=10)
    since, until = FIRST_DAY, LAST_DAY - timedelta(days=20)
    reports = [
        service.funnel(
            wh,
            TENANT,
            steps=steps,
            window_seconds=int(window.total_seconds()),
            breakdown=breakdown,
            since=since,
            until=until,
        )
        for wh in (duck, chdb_wh)
    ]
    assert reports[0] == reports[1]
    expected = reference_funnel(steps, window, since, until, breakdown)
    total = [sum(v[i] for v in expected.values()) for i in range(len(steps))]
    report = reports[0]
    assert [s.users for s in report.total.steps] == total
    assert total[0] > total[1] > total[2] > 0
    assert report.total.steps[1].conversion == pytest.approx(total[1] / total[0])
    assert report.total.steps[2].step_conversion == pytest.approx(total[2] / total[1])
    if breakdown is None:
        assert report.groups == []
    else:
        got = {g.key or "": [s.users for s in g.steps] for g in report.groups}
        assert got == dict(expected)
        assert len(got) >= 3


def test_a_shorter_window_converts_fewer(duck: Warehouse) -> None:
    steps = ["code.scanned", "order.paid"]
    wide = service.funnel(
        duck, TENANT, steps=steps, window_seconds=7 * 86400, since=FIRST_DAY, until=LAST_DAY
    )
    narrow = service.funnel(duck, TENANT, steps=steps, window_seconds=600, since=FIRST_DAY, until=LAST_DAY)
    assert wide.total.steps[0].users == narrow.total.steps[0].users
    assert wide.total.steps[1].users > narrow.total.steps[1].users


@pytest.mark.parametrize("template", ["aarrr", "rarra"])
def test_aarrr_and_rarra_templates_are_funnels_of_bcone_events(
    duck: Warehouse, chdb_wh: Warehouse, template: str
) -> None:
    report = service.aarrr(duck, TENANT, since=FIRST_DAY, until=LAST_DAY, template=template)
    assert report == service.aarrr(chdb_wh, TENANT, since=FIRST_DAY, until=LAST_DAY, template=template)
    stages = {
        "aarrr": ["acquisition", "activation", "retention", "revenue", "referral"],
        "rarra": ["retention", "activation", "referral", "revenue", "acquisition"],
    }[template]
    assert report.stages == stages
    users = [s.users for s in report.total.steps]
    assert users == sorted(users, reverse=True)
    assert users[1] > 0
    ref = reference_funnel(report.steps, timedelta(days=30), FIRST_DAY, LAST_DAY, None)
    assert users == [sum(c[k] for c in ref.values()) for k in range(len(report.steps))]


def test_a_step_may_be_any_of_several_types(duck: Warehouse, chdb_wh: Warehouse) -> None:
    steps = ["code.scanned|order.paid", "order.paid"]
    a = service.funnel(duck, TENANT, steps=steps, window_seconds=86400 * 5, since=FIRST_DAY, until=LAST_DAY)
    assert a == service.funnel(
        chdb_wh, TENANT, steps=steps, window_seconds=86400 * 5, since=FIRST_DAY, until=LAST_DAY
    )
    ref = reference_funnel(steps, timedelta(days=5), FIRST_DAY, LAST_DAY, None)
    assert [s.users for s in a.total.steps] == [sum(c[k] for c in ref.values()) for k in range(2)]
    with pytest.raises(UnknownEventType) as caught:
        service.funnel(duck, TENANT, steps=["code.scanned|nope.no", "order.paid"], window_seconds=60)
    assert caught.value.field == "steps[0]"
    with pytest.raises(InvalidParameter) as template:
        service.aarrr(duck, TENANT, template="pirate")
    assert template.value.field == "template"


# --- Bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"steps": ["code.scanned"]}, InvalidFunnel, "steps"),
        ({"steps": ["code.scanned", "no.such_event"]}, UnknownEventType, "steps[1]"),
        ({"steps": ["Code Scanned", "order.paid"]}, UnknownEventType, "steps[0]"),
        ({"window_seconds": 0}, InvalidWindow, "window_seconds"),
        ({"window_seconds": -5}, InvalidWindow, "window_seconds"),
        ({"breakdown": "colour"}, UnknownBreakdown, "breakdown"),
        ({"since": date(2025, 6, 2), "until": date(2025, 6, 1)}, InvalidRange, "until"),
        ({"since": date(2015, 1, 1), "until": date(2025, 6, 1)}, InvalidRange, "since"),
    ],
)
def test_bad_funnel_input_names_the_field(
    duck: Warehouse, kwargs: dict[str, object], error: type[Exception], field: str
) -> None:
    args: dict[str, object] = {"steps": ["code.scanned", "order.paid"], "window_seconds": 3600, **kwargs}
    with pytest.raises(error) as caught:
        service.funnel(duck, TENANT, **args)  # type: ignore[arg-type]
    assert caught.value.field == field  # type: ignore[attr-defined]


def test_bad_retention_and_rfm_input_names_the_field(duck: Warehouse) -> None:
    with pytest.raises(InvalidParameter) as caught:
        service.retention(duck, TENANT, period="day")
    assert caught.value.field == "period"
    with pytest.raises(UnknownEventType) as unknown:
        service.retention(duck, TENANT, return_event="nope.never")
    assert unknown.value.field == "return_event"
    with pytest.raises(InvalidParameter) as segment:
        service.rfm(duck, TENANT, segment="whales")
    assert segment.value.field == "segment"


# --- CLV summaries ------------------------------------------------------------------------------


def test_purchase_summary_matches_a_plain_computation_on_both_engines(
    duck: Warehouse, chdb_wh: Warehouse
) -> None:
    until = LAST_DAY - timedelta(days=10)
    summaries = [service.purchase_summary(wh, TENANT, until=until) for wh in (duck, chdb_wh)]
    a, b = summaries
    assert a.profile_ids == b.profile_ids
    for name in ("frequency", "recency", "age", "monetary"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist()
    days: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for e in mine("order.paid"):
        if local_day(e.ts) <= until and e.profile_id:
            days[e.profile_id][local_day(e.ts)] += e.amount or 0
    assert a.profile_ids == sorted(days)
    for i, p in enumerate(a.profile_ids):
        ds = sorted(days[p])
        assert a.frequency[i] == len(ds) - 1
        assert a.recency[i] == pytest.approx((ds[-1] - ds[0]).days / 7)
        assert a.age[i] == pytest.approx((until + timedelta(days=1) - ds[0]).days / 7)
        repeat = sum(days[p][d] for d in ds[1:])
        assert a.monetary[i] == pytest.approx(repeat / (len(ds) - 1) if len(ds) > 1 else 0.0)


def test_clv_report_is_the_same_on_both_engines(duck: Warehouse, chdb_wh: Warehouse) -> None:
    reports = [service.clv(wh, TENANT, until=LAST_DAY, horizon_weeks=26, limit=20) for wh in (duck, chdb_wh)]
    assert reports[0] == reports[1]
    report = reports[0]
    assert report.customers > 50
    assert set(report.params) == {"r", "alpha", "a", "b"}
    values = [c.clv_fen for c in report.top]
    assert values == sorted(values, reverse=True)
    assert all(0 <= c.probability_alive <= 1 for c in report.top)
    pareto = service.clv(duck, TENANT, until=LAST_DAY, model="pareto", limit=0)
    assert set(pareto.params) == {"r", "alpha", "s", "beta"}
    assert pareto.total_clv_fen > 0


def test_clv_refuses_bad_input_and_too_little_data(duck: Warehouse, empty_duck: Warehouse) -> None:
    from bcone.analytics.errors import NotEnoughData

    with pytest.raises(InvalidParameter) as model:
        service.clv(duck, TENANT, model="magic")
    assert model.value.field == "model"
    with pytest.raises(InvalidParameter) as horizon:
        service.clv(duck, TENANT, horizon_weeks=0)
    assert horizon.value.field == "horizon_weeks"
    with pytest.raises(NotEnoughData):
        service.clv(empty_duck, TENANT, until=LAST_DAY)
