"""Partner attribution (F2B2C): which stores, distributors and sharers (shop assistants' and
partners' storefronts) brought consumers in, and which served them later.

- **Brought in**: a consumer's first touch ever (before the range's end) is the earlier of their
  first ``code.scanned`` at a store (``org_id``) and their first ``share.clicked``
  (``properties.shared_by``, the sharer's storefront). Consumers whose first touch falls in the
  range are credited to that partner, with the orders and revenue they paid in the range.
- **Served**: ``order.paid`` in the range, by the store that took it (``org_id``) and by the
  sharer whose link led to it (``properties.sharer_id``).

Ties (two first touches at the same microsecond) go to the smaller ``kind|partner`` text, so
both engines agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from bcone.analytics import _sql
from bcone.analytics.schemas import AttributionReport, AttributionRow
from bcone.core.warehouse.port import Dialect

SCAN = "code.scanned"
SHARE = "share.clicked"
ORDER = "order.paid"
KINDS = ("store", "sharer")


def acquired_sql(dialect: Dialect) -> str:
    shared_by = _sql.property_text(dialect, "shared_by")
    return f"""
WITH scans AS (
    SELECT profile_id, ts, org_id AS partner FROM tenant_events
    WHERE type = $scan_type AND profile_id IS NOT NULL AND org_id IS NOT NULL AND ts < $until
),
shares AS (
    SELECT profile_id, ts, partner FROM (
        SELECT profile_id, ts, {shared_by} AS partner FROM tenant_events
        WHERE type = $share_type AND profile_id IS NOT NULL AND ts < $until
    ) AS s WHERE partner <> ''
),
touches AS (
    SELECT profile_id, ts, concat('store|', partner) AS who FROM scans
    UNION ALL
    SELECT profile_id, ts, concat('sharer|', partner) AS who FROM shares
),
first_ts AS (
    SELECT profile_id, min(ts) AS t0 FROM touches GROUP BY profile_id HAVING min(ts) >= $since
),
firsts AS (
    SELECT x.profile_id AS profile_id, min(x.who) AS who
    FROM touches AS x JOIN first_ts AS f ON x.profile_id = f.profile_id AND x.ts = f.t0
    GROUP BY x.profile_id
),
spend AS (
    SELECT profile_id, count(*) AS orders, sum(coalesce(amount, 0)) AS revenue FROM tenant_events
    WHERE type = $order_type AND profile_id IS NOT NULL AND ts >= $since AND ts < $until
      AND profile_id IN (SELECT profile_id FROM firsts)
    GROUP BY profile_id
)
SELECT f.who AS who, count(*) AS consumers,
       sum(coalesce(s.orders, 0)) AS orders, sum(coalesce(s.revenue, 0)) AS revenue
FROM firsts AS f LEFT JOIN spend AS s ON f.profile_id = s.profile_id
GROUP BY f.who
"""


def served_sql(dialect: Dialect) -> str:
    sharer = _sql.property_text(dialect, "sharer_id")
    return f"""
WITH orders AS (
    SELECT profile_id, amount, org_id, {sharer} AS sharer FROM tenant_events
    WHERE type = $order_type AND ts >= $since AND ts < $until
),
credited AS (
    SELECT concat('store|', org_id) AS who, profile_id, amount FROM orders WHERE org_id IS NOT NULL
    UNION ALL
    SELECT concat('sharer|', sharer) AS who, profile_id, amount FROM orders WHERE sharer <> ''
)
SELECT who, count(*) AS orders, sum(coalesce(amount, 0)) AS revenue,
       count(DISTINCT profile_id) AS consumers
FROM credited GROUP BY who
"""


def build(
    dialect: Dialect,
    rows: Callable[[str, dict[str, Any]], list[tuple[Any, ...]]],
    *,
    since: date,
    until: date,
    start: datetime,
    end: datetime,
    directory: dict[str, tuple[str, str, str]],
    limit: int,
) -> AttributionReport:
    params: dict[str, Any] = {
        "since": start,
        "until": end,
        "scan_type": SCAN,
        "share_type": SHARE,
        "order_type": ORDER,
    }
    acc: dict[tuple[str, str], dict[str, int]] = {}

    def slot(who: str) -> dict[str, int]:
        kind, _, partner = str(who).partition("|")
        return acc.setdefault(
            (kind, partner),
            {
                "acquired_consumers": 0,
                "acquired_orders": 0,
                "acquired_revenue_fen": 0,
                "served_orders": 0,
                "served_revenue_fen": 0,
                "served_consumers": 0,
            },
        )

    for who, consumers, orders, revenue in rows(acquired_sql(dialect), params):
        s = slot(who)
        s["acquired_consumers"] += int(consumers or 0)
        s["acquired_orders"] += int(orders or 0)
        s["acquired_revenue_fen"] += int(revenue or 0)
    for who, orders, revenue, consumers in rows(served_sql(dialect), params):
        s = slot(who)
        s["served_orders"] += int(orders or 0)
        s["served_revenue_fen"] += int(revenue or 0)
        s["served_consumers"] += int(consumers or 0)
    partners = []
    for (kind, partner), figures in acc.items():
        name, dist_id, dist_name = directory.get(partner, ("", "", "")) if kind == "store" else ("", "", "")
        partners.append(
            AttributionRow(
                kind=kind,
                partner_id=partner,
                label=name or partner,
                distributor_id=dist_id or None,
                distributor_label=dist_name or None,
                **figures,
            )
        )
    partners.sort(
        key=lambda r: (
            -(r.acquired_revenue_fen + r.served_revenue_fen),
            -r.acquired_consumers,
            r.kind,
            r.partner_id,
        )
    )
    # Distributors: the store rows added up by the distributor above each store.
    dists: dict[str, dict[str, Any]] = {}
    for r in partners:
        if r.kind != "store":
            continue
        key = r.distributor_id or ""
        d = dists.setdefault(
            key,
            {
                "kind": "distributor",
                "partner_id": key,
                "label": r.distributor_label or key,
                "acquired_consumers": 0,
                "acquired_orders": 0,
                "acquired_revenue_fen": 0,
                "served_orders": 0,
                "served_revenue_fen": 0,
                "served_consumers": 0,
            },
        )
        for name in (
            "acquired_consumers",
            "acquired_orders",
            "acquired_revenue_fen",
            "served_orders",
            "served_revenue_fen",
            "served_consumers",
        ):
            d[name] += getattr(r, name)
    distributors = sorted(
        (AttributionRow(**d) for d in dists.values()),
        key=lambda r: (-(r.acquired_revenue_fen + r.served_revenue_fen), r.partner_id),
    )
    stores = [r for r in partners if r.kind == "store"]
    sharers = [r for r in partners if r.kind == "sharer"]
    return AttributionReport(
        since=since,
        until=until,
        acquired_consumers=sum(r.acquired_consumers for r in partners),
        acquired_revenue_fen=sum(r.acquired_revenue_fen for r in partners),
        served_revenue_fen=sum(r.served_revenue_fen for r in stores),
        shared_revenue_fen=sum(r.served_revenue_fen for r in sharers),
        stores=stores[:limit],
        sharers=sharers[:limit],
        distributors=distributors[:limit],
    )
