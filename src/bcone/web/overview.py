"""The operating overview: events per day and type over a recent period, from the warehouse.

The SQL is written once and runs on DuckDB and ClickHouse alike (``tenant_events`` is the port's
view of one tenant's events). Days are counted in China Standard Time, the brand's working day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel

from bcone.core.auth import Principal
from bcone.core.errors import Forbidden
from bcone.core.warehouse import EVENTS_TABLE, Warehouse, WarehouseQueryFailed
from bcone.web.i18n import has_message, translate
from bcone.web.templating import DISPLAY_TIMEZONE, DISPLAY_UTC_OFFSET_HOURS

DEFAULT_DAYS = 30
# A year and a day: enough for "this time last year", short enough to stay a quick scan.
MAX_DAYS = 366
PERIOD_CHOICES = (7, 30, 90)

# Shifting the UTC time by the display offset and taking the date gives the local day on both
# engines, with no time-zone function (their names and arguments differ).
_LOCAL_DAY = f"CAST(ts + INTERVAL {DISPLAY_UTC_OFFSET_HOURS} HOUR AS DATE)"
_ORG_FILTER = " AND org_id = $org_id"

_DAILY_SQL = f"""
SELECT {_LOCAL_DAY} AS event_day, type AS event_type, count(*) AS n
FROM tenant_events
WHERE ts >= $since AND ts < $until{{org}}
GROUP BY event_day, event_type
ORDER BY event_day, event_type
"""

_SUMMARY_SQL = """
SELECT count(*) AS events,
       count(DISTINCT org_id) AS orgs,
       count(DISTINCT profile_id) AS profiles,
       coalesce(sum(CASE WHEN ts >= $today THEN 1 ELSE 0 END), 0) AS today
FROM tenant_events
WHERE ts >= $since AND ts < $until{org}
"""

# ClickHouse lists its own system.events here too: only user schemas count.
_TABLE_EXISTS_SQL = """
SELECT count(*) AS n FROM information_schema.tables
WHERE table_name = $table
  AND table_schema NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA', 'pg_catalog')
"""


class TypeSeries(BaseModel):
    """Events of one type, one value per day of the period."""

    type: str
    label: str
    values: list[int]
    total: int


class DailyEvents(BaseModel):
    """Events per day and type: ``days`` (ISO dates, oldest first) and one series per type."""

    days: list[date]
    series: list[TypeSeries]
    total: int


class OverviewSummary(BaseModel):
    """Headline counts of the period."""

    events: int
    events_today: int
    orgs: int
    profiles: int


class Scope(BaseModel):
    """Whose events the overview counts: a tenant, narrowed to one organisation for partners."""

    tenant_id: str
    org_id: str | None = None


def scope_for(principal: Principal) -> Scope:
    """The events ``principal`` may see: the whole brand, or a partner's own organisation."""
    if principal.tenant_id is None:
        raise Forbidden("the operating overview needs a tenant user", field="tenant_id")
    if principal.is_partner:
        if not principal.org_id:
            raise Forbidden("this partner user belongs to no organisation", field="org_id")
        return Scope(tenant_id=principal.tenant_id, org_id=principal.org_id)
    return Scope(tenant_id=principal.tenant_id)


class Period(BaseModel):
    """Local days ending today, and the UTC instants that bound them."""

    days: list[date]
    since: datetime  # start of the first day
    today: datetime  # start of today
    until: datetime  # start of tomorrow (exclusive)


def period(days: int, now: datetime | None = None) -> Period:
    """The ``days`` local days ending today (today included)."""
    local_now = (now or datetime.now(UTC)).astimezone(DISPLAY_TIMEZONE)
    today = local_now.date()
    first = today - timedelta(days=days - 1)
    span = [first + timedelta(days=i) for i in range(days)]

    def start(day: date) -> datetime:
        return datetime.combine(day, time(), DISPLAY_TIMEZONE).astimezone(UTC)

    return Period(days=span, since=start(first), today=start(today), until=start(today + timedelta(days=1)))


def event_label(event_type: str, locale: str) -> str:
    """The readable name of an event type (message ``event.<type>``), else the type itself."""
    key = f"event.{event_type}"
    return translate(key, locale) if has_message(key) else event_type


def _run(warehouse: Warehouse, sql: str, params: dict[str, Any], scope: Scope) -> list[tuple[Any, ...]]:
    if scope.org_id is not None:
        params = {**params, "org_id": scope.org_id}
    text = sql.format(org=_ORG_FILTER if scope.org_id is not None else "")
    try:
        return warehouse.query(text, params, tenant_id=scope.tenant_id).rows
    except WarehouseQueryFailed:
        # A warehouse nobody has flushed to yet has no events table: that is "no events", not
        # an error. Any other failure is real and goes on up.
        if _events_table_exists(warehouse):
            raise
        return []


def _events_table_exists(warehouse: Warehouse) -> bool:
    rows = warehouse.query(_TABLE_EXISTS_SQL, {"table": EVENTS_TABLE}).rows
    return bool(rows and rows[0][0])


def daily_events(
    warehouse: Warehouse, scope: Scope, *, days: int, locale: str, now: datetime | None = None
) -> DailyEvents:
    """Events per local day and type over the last ``days`` days (today included), zeros filled in."""
    bounds = period(days, now)
    span = bounds.days
    rows = _run(warehouse, _DAILY_SQL, {"since": bounds.since, "until": bounds.until}, scope)
    index = {day: i for i, day in enumerate(span)}
    by_type: dict[str, list[int]] = {}
    for day, event_type, count in rows:
        values = by_type.setdefault(str(event_type), [0] * len(span))
        values[index[day]] += int(count)
    series = [
        TypeSeries(type=name, label=event_label(name, locale), values=values, total=sum(values))
        for name, values in by_type.items()
    ]
    series.sort(key=lambda s: (-s.total, s.type))
    return DailyEvents(days=span, series=series, total=sum(s.total for s in series))


def overview_summary(
    warehouse: Warehouse, scope: Scope, *, days: int, now: datetime | None = None
) -> OverviewSummary:
    """Events in the period and today, and how many organisations and consumers they involve."""
    bounds = period(days, now)
    params = {"since": bounds.since, "until": bounds.until, "today": bounds.today}
    rows = _run(warehouse, _SUMMARY_SQL, params, scope)
    events, orgs, profiles, events_today = rows[0] if rows else (0, 0, 0, 0)
    return OverviewSummary(
        events=int(events or 0),
        events_today=int(events_today or 0),
        orgs=int(orgs or 0),
        profiles=int(profiles or 0),
    )
