"""The warehouse SQL of analytics, written once for DuckDB and ClickHouse.

Rules kept here (see docs/events.md): ``tenant_events`` only, ``$name`` parameters, every computed
column aliased, no integer division, no JSON function outside :func:`property_text` (the one
place that branches on the dialect). Local days are China Standard Time: the UTC time shifted by
eight hours and cast to a date gives the same day on both engines.
"""

from __future__ import annotations

from bcone.core.warehouse.port import Dialect
from bcone.web.templating import DISPLAY_UTC_OFFSET_HOURS

LOCAL_DAY = f"CAST(ts + INTERVAL {DISPLAY_UTC_OFFSET_HOURS} HOUR AS DATE)"


def local_period(unit: str, expr: str = "ts") -> str:
    """The first local day of the week (Monday) or month holding ``expr``, as a DATE."""
    if unit not in ("week", "month"):
        raise ValueError(unit)
    day = f"CAST({expr} + INTERVAL {DISPLAY_UTC_OFFSET_HOURS} HOUR AS DATE)"
    return f"CAST(date_trunc('{unit}', {day}) AS DATE)"


def property_text(dialect: Dialect, name: str) -> str:
    """A string property of the event's ``properties`` JSON, '' when absent."""
    if not name.isidentifier():
        raise ValueError(name)
    if dialect == "clickhouse":
        return f"JSONExtractString(properties, '{name}')"
    return f"coalesce(json_extract_string(properties, '$.{name}'), '')"


def property_int(dialect: Dialect, name: str) -> str:
    """A whole-number property of ``properties`` (a JSON number), -1 when absent or not a number."""
    if not name.isidentifier():
        raise ValueError(name)
    if dialect == "clickhouse":
        return f"coalesce(toInt64OrNull(JSONExtractRaw(properties, '{name}')), -1)"
    return f"coalesce(TRY_CAST(json_extract_string(properties, '$.{name}') AS BIGINT), -1)"


# --- CLV summaries ------------------------------------------------------------------------------

# One row per consumer: purchase days (local), the first and last, and the value of the purchases
# after the first day. Several orders on one day are one purchase (the usual CLV convention).
CLV_SUMMARY = f"""
WITH days AS (
    SELECT profile_id, {LOCAL_DAY} AS day, coalesce(sum(amount), 0) AS day_amount
    FROM tenant_events
    WHERE type = $order_type AND profile_id IS NOT NULL AND ts < $until
    GROUP BY profile_id, day
),
firsts AS (
    SELECT profile_id, min(day) AS first_day FROM days GROUP BY profile_id
)
SELECT d.profile_id AS profile_id,
       count(*) AS purchase_days,
       min(d.day) AS first_purchase,
       max(d.day) AS last_purchase,
       sum(CASE WHEN d.day > f.first_day THEN d.day_amount ELSE 0 END) AS repeat_amount
FROM days AS d JOIN firsts AS f ON d.profile_id = f.profile_id
GROUP BY d.profile_id
ORDER BY profile_id
"""

# --- RFM ----------------------------------------------------------------------------------------


def _quintile(column: str) -> str:
    """1 to 5 by rank: ties share a score, a larger value a higher score. Float arithmetic and
    ``floor`` give the same integer on both engines."""
    return f"1 + CAST(floor(5.0 * (rank() OVER (ORDER BY {column}) - 1) / count(*) OVER ()) AS INTEGER)"


# The segment rules, first match wins (documented in docs/analytics.md).
SEGMENT_RULES: tuple[tuple[str, str], ...] = (
    ("champions", "r_score >= 4 AND f_score >= 4"),
    ("loyal", "r_score >= 3 AND f_score >= 3"),
    ("new", "r_score >= 4 AND f_score = 1"),
    ("potential", "r_score >= 3"),
    ("at_risk", "f_score >= 3"),
    ("hibernating", "r_score = 2"),
    ("lost", "r_score = 1"),
)
_SEGMENT_CASE = (
    "CASE "
    + " ".join(f"WHEN {rule} THEN '{name}'" for name, rule in SEGMENT_RULES[:-1])
    + f" ELSE '{SEGMENT_RULES[-1][0]}' END"
)

RFM_CUSTOMERS = """customers AS (
    SELECT profile_id, max(ts) AS last_ts, count(*) AS orders, coalesce(sum(amount), 0) AS spent
    FROM tenant_events
    WHERE type = $order_type AND profile_id IS NOT NULL AND ts >= $since AND ts < $until
    GROUP BY profile_id
)"""

# The same consumers from the daily summary (bcone.analytics._summaries): whole local days, so
# the range's days select exactly the range's events.
RFM_CUSTOMERS_SUMMARY = """customers AS (
    SELECT profile_id, max(last_at) AS last_ts, CAST(sum(n_events) AS BIGINT) AS orders,
           CAST(sum(amount_sum) AS BIGINT) AS spent
    FROM tenant_summary_analytics_daily_v1
    WHERE type = $order_type AND profile_id IS NOT NULL AND day >= $since_day AND day <= $until_day
    GROUP BY profile_id
)"""

RFM_BASE = f"""
WITH {RFM_CUSTOMERS},
scored AS (
    SELECT profile_id, last_ts, orders, spent,
           date_diff('day', last_ts, $until) AS recency_days,
           {_quintile("last_ts")} AS r_score,
           {_quintile("orders")} AS f_score,
           {_quintile("spent")} AS m_score
    FROM customers
),
segmented AS (
    SELECT profile_id, last_ts, orders, spent, recency_days, r_score, f_score, m_score,
           {_SEGMENT_CASE} AS segment
    FROM scored
)
"""

# One pass gives both the segments and the R x F grid: integer sums per (segment, R, F), which
# Python adds up per segment (exact on both engines, no float averages in SQL).
RFM_SUMMARY = (
    RFM_BASE
    + """
SELECT segment, r_score AS r, f_score AS f, count(*) AS customers,
       sum(recency_days) AS recency_days_sum, sum(orders) AS orders_sum, sum(spent) AS spent_sum
FROM segmented GROUP BY segment, r_score, f_score
"""
)

RFM_TOP = (
    RFM_BASE
    + """
SELECT profile_id, last_ts AS last_order_at, recency_days, orders, spent AS spent_fen,
       r_score AS r, f_score AS f, m_score AS m, segment
FROM segmented
WHERE segment = $segment OR $segment = ''
ORDER BY spent_fen DESC, profile_id
LIMIT $limit
"""
)


def rfm_sql(statement: str, *, summary: bool) -> str:
    """:data:`RFM_SUMMARY` or :data:`RFM_TOP`, reading the daily summary when ``summary``."""
    return statement.replace(RFM_CUSTOMERS, RFM_CUSTOMERS_SUMMARY, 1) if summary else statement


# --- Retention ----------------------------------------------------------------------------------


def retention_sql(unit: str) -> str:
    """Consumers per (cohort, active period) for cohorts by ``unit``, and how many of them have
    that period as their last active one (from which "in period k or later" follows).

    A consumer's cohort is the period of their first ``cohort_type`` event ever, kept when that
    first event falls in the range. Activity is any ``return_type`` event in the range from the
    cohort's period on.
    """
    cohort = local_period(unit, "min(ts)")
    period = local_period(unit)
    return f"""
WITH firsts AS (
    SELECT profile_id, {cohort} AS cohort
    FROM tenant_events
    WHERE type = $cohort_type AND profile_id IS NOT NULL AND ts < $until
    GROUP BY profile_id
    HAVING min(ts) >= $since
),
acts AS (
    SELECT profile_id, {period} AS active
    FROM tenant_events
    WHERE type = $return_type AND profile_id IS NOT NULL AND ts >= $since AND ts < $until
    GROUP BY profile_id, active
),
joined AS (
    SELECT a.profile_id AS profile_id, f.cohort AS cohort, a.active AS active,
           max(a.active) OVER (PARTITION BY a.profile_id) AS last_active
    FROM acts AS a JOIN firsts AS f ON a.profile_id = f.profile_id
    WHERE a.active >= f.cohort
)
SELECT cohort, active, count(*) AS users,
       sum(CASE WHEN active = last_active THEN 1 ELSE 0 END) AS ending
FROM joined GROUP BY cohort, active
"""


def retention_summary_sql(unit: str) -> str:
    """:func:`retention_sql` over the summaries: first events from the per-consumer firsts,
    activity from the daily rollup (whole local days, so the same periods)."""
    cohort = local_period(unit, "first_seen")
    period = f"CAST(date_trunc('{unit}', day) AS DATE)"
    return f"""
WITH firsts AS (
    SELECT profile_id, {cohort} AS cohort
    FROM tenant_summary_analytics_firsts_v1
    WHERE type = $cohort_type AND first_seen >= $since AND first_seen < $until
),
acts AS (
    SELECT profile_id, {period} AS active
    FROM tenant_summary_analytics_daily_v1
    WHERE type = $return_type AND profile_id IS NOT NULL AND day >= $since_day AND day <= $until_day
    GROUP BY profile_id, active
),
joined AS (
    SELECT a.profile_id AS profile_id, f.cohort AS cohort, a.active AS active,
           max(a.active) OVER (PARTITION BY a.profile_id) AS last_active
    FROM acts AS a JOIN firsts AS f ON a.profile_id = f.profile_id
    WHERE a.active >= f.cohort
)
SELECT cohort, active, count(*) AS users,
       sum(CASE WHEN active = last_active THEN 1 ELSE 0 END) AS ending
FROM joined GROUP BY cohort, active
"""


def cohort_sizes_summary_sql(unit: str) -> str:
    cohort = local_period(unit, "first_seen")
    return f"""
SELECT {cohort} AS cohort, count(*) AS users
FROM tenant_summary_analytics_firsts_v1
WHERE type = $cohort_type AND first_seen >= $since AND first_seen < $until
GROUP BY cohort
"""


def cohort_sizes_sql(unit: str) -> str:
    cohort = local_period(unit, "min(ts)")
    return f"""
WITH firsts AS (
    SELECT profile_id, {cohort} AS cohort
    FROM tenant_events
    WHERE type = $cohort_type AND profile_id IS NOT NULL AND ts < $until
    GROUP BY profile_id
    HAVING min(ts) >= $since
)
SELECT cohort, count(*) AS users FROM firsts GROUP BY cohort
"""


# --- Funnels ------------------------------------------------------------------------------------


def funnel_sql(steps: int | list[int], window_seconds: int, dimension: str | None) -> str:
    """Consumers per step (and per value of ``dimension``) of an ordered funnel.

    Step 1 is each consumer's first ``$step0`` event in the range; step k+1 is their first
    ``$stepk`` event strictly after the time of step k and at most ``window_seconds`` after
    step 1 (later steps may fall after the range's end, inside the window). Taking the earliest
    match at each step finds a conversion whenever one exists. The breakdown value is the
    step-1 event's ``dimension`` ('' when it has none).

    ``steps`` is the number of steps, each one event type (``$stepk``), or a list with the number
    of alternative types of each step (``$stepk_j``: any of them counts).
    """
    counts = [1] * steps if isinstance(steps, int) else list(steps)
    if len(counts) < 2:
        raise ValueError("a funnel has at least two steps")

    def kinds(k: int) -> str:
        if isinstance(steps, int):
            return f"type = $step{k}"
        return "type IN (" + ", ".join(f"$step{k}_{j}" for j in range(counts[k])) + ")"

    window = int(window_seconds)
    dim = f"coalesce({dimension}, '')" if dimension else "''"
    ctes = [
        f"""s0 AS (
    SELECT profile_id, min(ts) AS t0, argMin({dim}, ts) AS dim, min(ts) AS tk
    FROM tenant_events
    WHERE {kinds(0)} AND profile_id IS NOT NULL AND ts >= $since AND ts < $until
    GROUP BY profile_id
)"""
    ]
    for k in range(1, len(counts)):
        ctes.append(
            f"""s{k} AS (
    SELECT p.profile_id AS profile_id, p.t0 AS t0, p.dim AS dim, min(e.ts) AS tk
    FROM (SELECT profile_id, ts FROM tenant_events
          WHERE {kinds(k)} AND profile_id IS NOT NULL AND ts >= $since) AS e
    JOIN s{k - 1} AS p ON e.profile_id = p.profile_id
    WHERE e.ts > p.tk AND e.ts <= p.t0 + INTERVAL {window} SECOND
    GROUP BY p.profile_id, p.t0, p.dim
)"""
        )
    selects = " UNION ALL ".join(
        f"SELECT {k} AS step, dim, count(*) AS users FROM s{k} GROUP BY dim" for k in range(len(counts))
    )
    return "WITH " + ",\n".join(ctes) + f"\nSELECT step, dim, users FROM ({selects}) AS counted"


EVENT_TYPES = "SELECT DISTINCT type AS event_type FROM tenant_events"
