"""The scaled demo history (bcone.demo._scale): deterministic, well-formed, seasonal, regional,
and read the same way by every report on DuckDB and chDB."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from bcone.analytics import service
from bcone.core.warehouse import EVENT_ARROW_SCHEMA, warehouse_from_url
from bcone.demo import _scale

END = date(2026, 3, 31)
STORES = [
    _scale.Store(f"org-{i}", region)
    for i, region in enumerate(["440305", "310101", "210102", "510104", "450102"] * 20)
]
SKUS = [_scale.Sku(f"SKU{i:02d}", 3600 + 300 * i) for i in range(12)]
PLAN = _scale.HistoryPlan("t-scale", 6_000, 730, END, STORES, SKUS, seed=5, survey_id="sv")


def history() -> pa.Table:
    return pa.concat_tables(list(_scale.generate(PLAN)))


def test_history_is_deterministic_and_well_formed() -> None:
    a, b = history(), history()
    assert a.equals(b)
    assert a.schema == EVENT_ARROW_SCHEMA
    assert pc.count_distinct(a.column("event_id")).as_py() == a.num_rows
    start = END - timedelta(days=729)
    days = pc.cast(pc.add(a.column("ts"), pa.scalar(8 * 3600 * 1_000_000, pa.duration("us"))), pa.date32())
    assert pc.min(days).as_py() >= start
    assert pc.max(days).as_py() <= END
    kinds = Counter(a.column("type").to_pylist())
    assert set(kinds) == {
        "order.paid",
        "code.scanned",
        "nps.responded",
        "share.clicked",
        "profile.identified",
        "referral.converted",
    }
    assert kinds["order.paid"] > 3 * PLAN.consumers  # repeat buying
    orders = a.filter(pc.equal(a.column("type"), "order.paid"))
    assert pc.min(orders.column("amount")).as_py() > 0


def test_spring_festival_and_regions_show_in_the_orders() -> None:
    a = history()
    orders = a.filter(pc.equal(a.column("type"), "order.paid"))
    local = pc.cast(
        pc.add(orders.column("ts"), pa.scalar(8 * 3600 * 1_000_000, pa.duration("us"))), pa.date32()
    )
    per_day = Counter(local.to_pylist())
    festival = date(2026, 2, 17)
    before = sum(per_day[festival - timedelta(days=d)] for d in range(3, 17)) / 14
    autumn = sum(per_day[date(2025, 10, 1) + timedelta(days=d)] for d in range(14)) / 14
    holiday = sum(per_day[festival + timedelta(days=d)] for d in range(1, 6)) / 5
    assert before > 1.5 * autumn
    assert holiday < before
    by_region = Counter(orders.column("region").to_pylist())
    consumers = Counter(
        r
        for r, p in set(
            zip(orders.column("region").to_pylist(), orders.column("profile_id").to_pylist(), strict=True)
        )
    )
    per_consumer = {r: by_region[r] / consumers[r] for r in by_region}
    assert per_consumer["440305"] > per_consumer["210102"]  # the south buys more often


def test_reports_read_the_history_the_same_on_both_engines() -> None:
    table = history()
    reports = []
    for url in ("duckdb:///:memory:", "chdb://"):
        wh = warehouse_from_url(url)
        try:
            wh.ensure_schema()
            assert wh.insert_events(table) == table.num_rows
            assert wh.insert_events(table) == 0  # loading twice adds nothing
            since = END - timedelta(days=180)
            reports.append(
                (
                    service.dashboard(wh, "t-scale", since=since, until=END, grain="week"),
                    service.attribution(wh, "t-scale", since=since, until=END),
                    service.nps(wh, "t-scale", since=since, until=END, breakdown="region"),
                    service.aarrr(wh, "t-scale", since=since, until=END),
                    service.rfm(wh, "t-scale", since=since, until=END, limit=5),
                )
            )
        finally:
            wh.close()
    assert reports[0] == reports[1]
    dashboard, attribution, nps, aarrr, rfm = reports[0]
    assert dashboard.totals.orders > 0
    assert dashboard.totals.returning_consumers > 0
    assert {r.key for r in dashboard.by_channel} >= {"offline", "wechat", "tmall"}
    assert attribution.sharers
    assert attribution.stores
    assert nps.total.responses > 0
    assert all(s.users > 0 for s in aarrr.total.steps)
    assert rfm.customers > 0
