"""Summary tables of the warehouse: per-day and per-consumer rollups the reports read instead of
the raw events once there are millions of them.

Three derived tables per tenant, built through :meth:`Warehouse.refresh_summary` (each name
carries a version: a change of columns gets a new name, so an old table is never misread):

- ``analytics_daily_v1``: one row per local day, event type, consumer, store, SKU, region and
  channel, with the number of events, the amount, the first and last event time. Every figure
  of the dashboard, RFM and retention activity follows exactly (the consumer and store are in
  the key, so distinct counts stay exact; the day is a local day, as the reports' ranges are).
- ``analytics_firsts_v1``: per consumer and event type, the first and last event time and the
  number of events (cohorts: "first order ever").
- ``analytics_profiles_v1``: per consumer, the first event of any type (new vs returning).

``analytics_state_v1`` records what the summaries were built from: the tenant's number of
events and of events with a consumer (and the latest event time), taken before the build. A
report uses the summaries only while the raw events still show exactly these counts, so it never
answers from stale rows: any flush, late event or PIPL erasure since the last refresh sends the
reports back to the raw events until the next refresh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bcone.analytics import _sql
from bcone.core.warehouse import Warehouse, WarehouseQueryFailed
from bcone.core.warehouse.port import Dialect

DAILY = "analytics_daily_v1"
FIRSTS = "analytics_firsts_v1"
PROFILES = "analytics_profiles_v1"
STATE = "analytics_state_v1"

# Read statements name a tenant's rows of summary X as ``tenant_summary_X``.
DAILY_VIEW = f"tenant_summary_{DAILY}"
FIRSTS_VIEW = f"tenant_summary_{FIRSTS}"
PROFILES_VIEW = f"tenant_summary_{PROFILES}"
STATE_VIEW = f"tenant_summary_{STATE}"

# What the summaries were built from. Inserts only add events (the count grows) and a PIPL
# erasure replaces events by copies without a consumer (the count with a consumer drops), so the
# two counts change whenever the events do; ``latest`` is kept for people reading the state.
COUNTS = "SELECT count(*) AS events_n, count(profile_id) AS profiled_n FROM tenant_events"
FINGERPRINT = (
    "SELECT count(*) AS events_n, count(profile_id) AS profiled_n, max(ts) AS latest FROM tenant_events"
)


def daily_sql(dialect: Dialect) -> str:
    # Output names differ from the columns they aggregate: ClickHouse would read an alias such
    # as ``amount`` inside ``sum(amount)`` as the alias itself.
    return f"""
SELECT {_sql.LOCAL_DAY} AS day, type, profile_id, org_id, sku, region,
       {_sql.property_text(dialect, "channel")} AS channel,
       CAST(count(*) AS BIGINT) AS n_events, CAST(coalesce(sum(amount), 0) AS BIGINT) AS amount_sum,
       min(ts) AS first_at, max(ts) AS last_at
FROM tenant_events
GROUP BY day, type, profile_id, org_id, sku, region, channel
"""


FIRSTS_SQL = f"""
SELECT profile_id, type, min(first_at) AS first_seen, max(last_at) AS last_seen,
       CAST(sum(n_events) AS BIGINT) AS events_total
FROM {DAILY_VIEW}
WHERE profile_id IS NOT NULL
GROUP BY profile_id, type
"""

PROFILES_SQL = f"""
SELECT profile_id, min(first_seen) AS first_any, max(last_seen) AS last_any,
       CAST(sum(events_total) AS BIGINT) AS events_all
FROM {FIRSTS_VIEW}
GROUP BY profile_id
"""

# The state row: the figures are bound as parameters, taken before the build started.
STATE_SQL = (
    "SELECT $events_n AS events_n, $profiled_n AS profiled_n, $latest AS latest, $built_at AS built_at"
)
NO_STATE_SQL = STATE_SQL + " WHERE 1 = 0"


@dataclass(frozen=True)
class RefreshResult:
    tenant_id: str
    events: int
    rows: dict[str, int]
    seconds: float
    skipped: bool = False


def _fingerprint(warehouse: Warehouse, tenant_id: str) -> tuple[int, int, datetime | None]:
    row = warehouse.query(FINGERPRINT, tenant_id=tenant_id).rows[0]
    return int(row[0]), int(row[1]), row[2]


def is_fresh(warehouse: Warehouse, tenant_id: str) -> bool:
    """Whether the tenant's summaries exist and were built from exactly the events stored now."""
    try:
        state = warehouse.query(
            f"SELECT events_n, profiled_n, latest FROM {STATE_VIEW}", tenant_id=tenant_id
        ).rows
    except WarehouseQueryFailed:
        return False  # never refreshed (no state table), or no events table yet
    if len(state) != 1:
        return False
    events_n, profiled_n = warehouse.query(COUNTS, tenant_id=tenant_id).rows[0]
    return (int(state[0][0]), int(state[0][1])) == (int(events_n), int(profiled_n))


def refresh(warehouse: Warehouse, tenant_id: str, *, force: bool = True) -> RefreshResult:
    """Rebuild the tenant's summaries (``force=False``: only when they are not fresh).

    The state row goes first (so nobody reads half-built tables as fresh) and comes back last,
    with the figures taken before the build: events flushed meanwhile make it stale at once.
    """
    started = time.perf_counter()
    if not force and is_fresh(warehouse, tenant_id):
        return RefreshResult(tenant_id, 0, {}, time.perf_counter() - started, skipped=True)
    events_n, profiled_n, latest = _fingerprint(warehouse, tenant_id)
    if latest is None:
        return RefreshResult(tenant_id, 0, {}, time.perf_counter() - started, skipped=True)
    state: dict[str, Any] = {
        "events_n": events_n,
        "profiled_n": profiled_n,
        "latest": latest,
        "built_at": datetime.now(latest.tzinfo),
    }
    rows: dict[str, int] = {}
    warehouse.refresh_summary(STATE, NO_STATE_SQL, state, tenant_id=tenant_id)
    rows[DAILY] = warehouse.refresh_summary(
        DAILY, daily_sql(warehouse.dialect), tenant_id=tenant_id, order_by=("type", "day")
    )
    rows[FIRSTS] = warehouse.refresh_summary(
        FIRSTS, FIRSTS_SQL, tenant_id=tenant_id, order_by=("type", "first_seen")
    )
    rows[PROFILES] = warehouse.refresh_summary(
        PROFILES, PROFILES_SQL, tenant_id=tenant_id, order_by=("first_any",)
    )
    warehouse.refresh_summary(STATE, STATE_SQL, state, tenant_id=tenant_id)
    return RefreshResult(tenant_id, events_n, rows, time.perf_counter() - started)


def invalidate(warehouse: Warehouse, tenant_id: str) -> None:
    """Empty the tenant's state row: reports read the raw events until the next refresh."""
    placeholder = {"events_n": 0, "profiled_n": 0, "latest": datetime.now(UTC), "built_at": datetime.now(UTC)}
    warehouse.refresh_summary(STATE, NO_STATE_SQL, placeholder, tenant_id=tenant_id)


def tenants(warehouse: Warehouse) -> list[str]:
    """Every tenant with events in the warehouse."""
    try:
        rows = warehouse.query("SELECT DISTINCT tenant_id AS tenant_id FROM events ORDER BY tenant_id").rows
    except WarehouseQueryFailed:
        return []
    return [str(r[0]) for r in rows]


# --- Report SQL over the summaries ----------------------------------------------------------------


def day_period(unit: str, expr: str = "day") -> str:
    """The period (``day``, ``week`` from Monday, ``month``) of a local-day column, as a DATE."""
    if unit == "day":
        return expr
    if unit not in ("week", "month"):
        raise ValueError(unit)
    return f"CAST(date_trunc('{unit}', {expr}) AS DATE)"
