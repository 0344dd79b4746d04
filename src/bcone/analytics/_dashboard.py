"""The operating dashboard (经营数据): sales, orders, scans, active stores, new and returning
consumers by day or week, and by channel, province (or city), SKU and distributor.

Every statement reads ``tenant_events`` through the warehouse port, written once for DuckDB and
ClickHouse. Filters (channel, province, SKU) apply to every figure; a consumer is **new** in a
period when their first event of any kind (all history, before the range's end) falls in it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bcone.analytics import _sql, _summaries
from bcone.analytics.errors import InvalidParameter
from bcone.analytics.schemas import (
    DashboardBreakdownRow,
    DashboardFilters,
    DashboardPoint,
    DashboardReport,
    DashboardTotals,
)
from bcone.core import geo
from bcone.core.warehouse import Warehouse
from bcone.core.warehouse.port import Dialect
from bcone.web.templating import DISPLAY_UTC_OFFSET_HOURS

ORDER = "order.paid"
SCAN = "code.scanned"
GRAINS = ("day", "week")
BREAKDOWN_LIMIT = 50
EXPORT_TABLES = ("series", "channel", "region", "sku", "store", "distributor")
_CHANNEL = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_SKU = re.compile(r"^[A-Za-z0-9_.:/-]{1,64}$")


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    province: str | None = None  # two digits
    sku: str | None = None


def check_filters(channel: str | None, province: str | None, sku: str | None) -> Filters:
    """The filters, checked: a province is a two-digit prefix or a six-digit province code."""
    channel = (channel or "").strip() or None
    sku = (sku or "").strip() or None
    prefix = (province or "").strip() or None
    if channel is not None and not _CHANNEL.match(channel):
        raise InvalidParameter(f"{channel!r} is not a channel name", field="channel")
    if sku is not None and not _SKU.match(sku):
        raise InvalidParameter(f"{sku!r} is not a SKU code", field="sku")
    if prefix is not None:
        code = prefix.ljust(6, "0") if len(prefix) == 2 else prefix
        division = geo.get_division(code) if code.isdigit() and len(code) == 6 else None
        if division is None or division.level != "province":
            raise InvalidParameter(
                f"{prefix!r} is not a province (two digits, e.g. 44, or 440000)", field="province"
            )
        prefix = code[:2]
    return Filters(channel, prefix, sku)


def _where(dialect: Dialect, filters: Filters, *, summary: bool = False) -> str:
    parts = []
    if filters.channel:
        channel = "channel" if summary else _sql.property_text(dialect, "channel")
        parts.append(f"{channel} = $channel")
    if filters.province:
        parts.append("substring(region, 1, 2) = $province")
    if filters.sku:
        parts.append("sku = $sku")
    return "".join(f" AND {p}" for p in parts)


def _period(grain: str, expr: str = "ts") -> str:
    if grain == "day":
        return f"CAST({expr} + INTERVAL {DISPLAY_UTC_OFFSET_HOURS} HOUR AS DATE)"
    return _sql.local_period("week", expr)


def _base(dialect: Dialect, grain: str, filters: Filters, *, summary: bool = False) -> str:
    if summary:
        # The daily summary: one row per day, type, consumer, store, SKU, region and channel,
        # ``n_events`` events worth ``amount_sum`` (see _summaries).
        return f"""base AS (
    SELECT {_summaries.day_period(grain)} AS p, type, amount_sum AS amount, n_events AS n,
           org_id, profile_id, region, sku, channel
    FROM {_summaries.DAILY_VIEW}
    WHERE day >= $since_day AND day <= $until_day AND type IN ($order_type, $scan_type)\
{_where(dialect, filters, summary=True)}
)"""
    return f"""base AS (
    SELECT {_period(grain)} AS p, type, amount, 1 AS n, org_id, profile_id, region, sku,
           {_sql.property_text(dialect, "channel")} AS channel
    FROM tenant_events
    WHERE ts >= $since AND ts < $until AND type IN ($order_type, $scan_type){_where(dialect, filters)}
)"""


def figures_sql(dialect: Dialect, grain: str, filters: Filters, level: str, *, summary: bool = False) -> str:
    """Every figure but new consumers in one scan: ``GROUPING SETS`` by period, channel,
    province (or city), SKU and store, and the grand total. The ``g_*`` flags (standard
    ``grouping()``, 0 = grouped by that key) tell the sets apart on both engines."""
    region = KEYS[level]
    return f"""
WITH {_base(dialect, grain, filters, summary=summary)}
SELECT grouping(p) AS g_p, grouping(channel) AS g_channel, grouping(rk) AS g_region,
       grouping(sk) AS g_sku, grouping(ok) AS g_store,
       p, channel, rk, sk, ok,
       sum(CASE WHEN type = $order_type THEN coalesce(amount, 0) ELSE 0 END) AS sales,
       sum(CASE WHEN type = $order_type THEN n ELSE 0 END) AS orders,
       sum(CASE WHEN type = $scan_type THEN n ELSE 0 END) AS scans,
       count(DISTINCT org_id) AS stores,
       count(DISTINCT profile_id) AS consumers
FROM (SELECT p, type, amount, n, org_id, profile_id, channel, {region} AS rk,
             coalesce(sku, '') AS sk, coalesce(org_id, '') AS ok FROM base) AS b
GROUP BY GROUPING SETS ((p), (channel), (rk), (sk), (ok), ())
"""


def new_consumers_sql(dialect: Dialect, grain: str, filters: Filters, *, summary: bool = False) -> str:
    """Per period, and over the range (``total`` = 1), the consumers whose first event of any
    kind ever falls in it. Only the range's consumers are looked up in the history."""
    first = _period(grain, "min(ts)")
    if summary:
        first = _period(grain, "first_any")
        return f"""
WITH {_base(dialect, grain, filters, summary=True)},
newcomers AS (
    SELECT profile_id, {first} AS fp FROM {_summaries.PROFILES_VIEW}
    WHERE first_any >= $since AND first_any < $until
),
active AS (
    SELECT DISTINCT p, profile_id FROM base WHERE profile_id IN (SELECT profile_id FROM newcomers)
),
firsts AS (
    SELECT profile_id, fp FROM newcomers
    WHERE profile_id IN (SELECT profile_id FROM base WHERE profile_id IS NOT NULL)
)
SELECT 0 AS total, a.p AS fp, count(*) AS new_consumers
FROM active AS a JOIN firsts AS f ON a.profile_id = f.profile_id
WHERE a.p = f.fp
GROUP BY a.p
UNION ALL
SELECT 1 AS total, CAST('1970-01-01' AS DATE) AS fp, count(*) AS new_consumers FROM firsts
"""
    return f"""
WITH {_base(dialect, grain, filters)},
active AS (SELECT DISTINCT p, profile_id FROM base WHERE profile_id IS NOT NULL),
firsts AS (
    SELECT profile_id, {first} AS fp FROM tenant_events
    WHERE ts < $until AND profile_id IN (SELECT DISTINCT profile_id FROM base WHERE profile_id IS NOT NULL)
    GROUP BY profile_id
    HAVING min(ts) >= $since
)
SELECT 0 AS total, a.p AS fp, count(*) AS new_consumers
FROM active AS a JOIN firsts AS f ON a.profile_id = f.profile_id
WHERE a.p = f.fp
GROUP BY a.p
UNION ALL
SELECT 1 AS total, CAST('1970-01-01' AS DATE) AS fp, count(*) AS new_consumers FROM firsts
"""


KEYS = {
    "channel": "channel",
    "province": "coalesce(substring(region, 1, 2), '')",
    "city": "coalesce(substring(region, 1, 4), '')",
    "sku": "coalesce(sku, '')",
    "store": "coalesce(org_id, '')",
}


def _province_name(prefix: str) -> str:
    division = geo.get_division(prefix.ljust(6, "0")) if len(prefix) == 2 and prefix.isdigit() else None
    return division.name if division else ""


def _city_name(prefix: str) -> str:
    if len(prefix) != 4 or not prefix.isdigit():
        return ""
    division = geo.get_division(prefix + "00")
    if division is not None:
        return division.name
    # Municipalities' districts sit under 1101 / 3101 ... without a city row of their own.
    province = geo.get_division(prefix[:2] + "0000")
    return province.name if province else ""


def _rows_to_breakdown(
    rows: Sequence[tuple[Any, ...]], label: Callable[[str], str], limit: int | None = BREAKDOWN_LIMIT
) -> list[DashboardBreakdownRow]:
    out = [
        DashboardBreakdownRow(
            key=str(k or ""),
            label=label(str(k or "")),
            sales_fen=int(sales or 0),
            orders=int(orders or 0),
            scans=int(scans or 0),
            consumers=int(consumers or 0),
        )
        for k, sales, orders, scans, consumers in rows
    ]
    return out[:limit] if limit else out


def _fill(grain: str, since: date, until: date, rows: dict[date, DashboardPoint]) -> list[DashboardPoint]:
    """One point per period of the range, empty periods included (a chart with gaps would lie)."""
    step = timedelta(days=1 if grain == "day" else 7)
    day = since if grain == "day" else since - timedelta(days=since.weekday())
    out = []
    while day <= until:
        out.append(rows.get(day) or DashboardPoint(period=day))
        day += step
    return out


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def build(
    warehouse: Warehouse,
    tenant_id: str,
    rows: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]],
    *,
    since: date,
    until: date,
    start: datetime,
    end: datetime,
    grain: str,
    filters: Filters,
    distributors: Callable[[list[str]], dict[str, tuple[str, str]]] | None,
    store_names: Callable[[list[str]], dict[str, str]] | None,
    summary: bool = False,
) -> DashboardReport:
    if grain not in GRAINS:
        raise InvalidParameter(f"grain must be one of {', '.join(GRAINS)}", field="grain")
    dialect = warehouse.dialect
    params: dict[str, Any] = {"since": start, "until": end, "order_type": ORDER, "scan_type": SCAN}
    if summary:
        params.update({"since_day": since, "until_day": until})
    if filters.channel:
        params["channel"] = filters.channel
    if filters.province:
        params["province"] = filters.province
    if filters.sku:
        params["sku"] = filters.sku
    level = "city" if filters.province else "province"
    series: dict[date, list[int]] = {}
    totals_row = [0, 0, 0, 0, 0]
    by: dict[str, list[tuple[Any, ...]]] = {"channel": [], "region": [], "sku": [], "store": []}
    for g_p, g_channel, g_region, g_sku, g_store, p, channel, rk, sk, ok, *figures in rows(
        figures_sql(dialect, grain, filters, level, summary=summary), params
    ):
        values = [int(v or 0) for v in figures]  # sales, orders, scans, stores, consumers
        if not g_p:
            series[_as_date(p)] = values
        elif not g_channel:
            by["channel"].append((channel or "", *values))
        elif not g_region:
            by["region"].append((rk or "", *values))
        elif not g_sku:
            by["sku"].append((sk or "", *values))
        elif not g_store:
            by["store"].append((ok or "", *values))
        else:
            totals_row = values
    new_by_period: dict[date, int] = {}
    new_total = 0
    for total, fp, n in rows(new_consumers_sql(dialect, grain, filters, summary=summary), params):
        if int(total):
            new_total = int(n or 0)
        else:
            new_by_period[_as_date(fp)] = int(n or 0)
    points = {
        day: DashboardPoint(
            period=day,
            sales_fen=v[0],
            orders=v[1],
            scans=v[2],
            active_stores=v[3],
            consumers=v[4],
            new_consumers=new_by_period.get(day, 0),
            returning_consumers=v[4] - new_by_period.get(day, 0),
        )
        for day, v in series.items()
    }
    sales, orders, scans, stores, consumers = totals_row
    totals = DashboardTotals(
        sales_fen=sales,
        orders=orders,
        scans=scans,
        active_stores=stores,
        consumers=consumers,
        new_consumers=new_total,
        returning_consumers=consumers - new_total,
        avg_order_fen=round(sales / orders) if orders else 0,
    )

    def ordered(items: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # key, sales, orders, scans, (stores), consumers -> the breakdown row shape
        shaped = [
            (k, sales_, orders_, scans_, consumers_) for k, sales_, orders_, scans_, _, consumers_ in items
        ]
        return sorted(shaped, key=lambda r: (-r[1], -r[3], str(r[0])))

    channel = _rows_to_breakdown(ordered(by["channel"]), lambda k: k)
    region = _rows_to_breakdown(
        ordered(by["region"]), _city_name if level == "city" else _province_name, limit=None
    )
    sku = _rows_to_breakdown(ordered(by["sku"]), lambda k: k)
    store_rows = ordered(by["store"])
    names = store_names([str(r[0]) for r in store_rows if r[0]]) if store_names else {}
    store = _rows_to_breakdown(store_rows, lambda k: names.get(k, k))
    distributor = _by_distributor(store_rows, distributors)
    return DashboardReport(
        since=since,
        until=until,
        grain=grain,
        filters=DashboardFilters(channel=filters.channel, province=filters.province, sku=filters.sku),
        region_level=level,
        totals=totals,
        series=_fill(grain, since, until, points),
        by_channel=channel,
        by_region=region,
        by_sku=sku,
        by_store=store,
        by_distributor=distributor,
    )


def _by_distributor(
    store_rows: Sequence[tuple[Any, ...]],
    distributors: Callable[[list[str]], dict[str, tuple[str, str]]] | None,
) -> list[DashboardBreakdownRow]:
    """The per-store figures added up by the distributor above each store (org hierarchy).
    Consumers are summed over stores, so one consumer of two stores counts twice."""
    mapping = distributors([str(r[0]) for r in store_rows if r[0]]) if distributors else {}
    acc: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for k, sales, orders, scans, consumers in store_rows:
        dist_id, dist_name = mapping.get(str(k or ""), ("", ""))
        labels[dist_id] = dist_name
        a = acc.setdefault(dist_id, [0, 0, 0, 0])
        for i, v in enumerate((sales, orders, scans, consumers)):
            a[i] += int(v or 0)
    ordered = sorted(acc.items(), key=lambda item: (-item[1][0], -item[1][2], item[0]))
    return [
        DashboardBreakdownRow(key=k, label=labels[k], sales_fen=a[0], orders=a[1], scans=a[2], consumers=a[3])
        for k, a in ordered[:BREAKDOWN_LIMIT]
    ]


# --- Export ---------------------------------------------------------------------------------------


def export_rows(report: DashboardReport, table: str) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of one dashboard table, money in yuan with two decimals."""
    if table not in EXPORT_TABLES:
        raise InvalidParameter(f"table must be one of {', '.join(EXPORT_TABLES)}", field="table")
    if table == "series":
        header = [
            "period",
            "sales_yuan",
            "orders",
            "scans",
            "active_stores",
            "consumers",
            "new_consumers",
            "returning_consumers",
        ]
        body = [
            [
                p.period.isoformat(),
                _yuan(p.sales_fen),
                p.orders,
                p.scans,
                p.active_stores,
                p.consumers,
                p.new_consumers,
                p.returning_consumers,
            ]
            for p in report.series
        ]
        return header, body
    source = {
        "channel": report.by_channel,
        "region": report.by_region,
        "sku": report.by_sku,
        "store": report.by_store,
        "distributor": report.by_distributor,
    }[table]
    header = [table, "name", "sales_yuan", "orders", "scans", "consumers"]
    return header, [[r.key, r.label, _yuan(r.sales_fen), r.orders, r.scans, r.consumers] for r in source]


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(header: list[str], body: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_safe_cell(v) for v in row] for row in body])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(header: list[str], body: list[list[Any]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for row in body:
        sheet.append([_xlsx_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{2}", value):
        return float(value)  # yuan amounts as numbers, so the sheet can sum them
    return _safe_cell(value)
