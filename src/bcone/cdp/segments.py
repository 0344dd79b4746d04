"""The segment rule language: JSON rules, their validation, and their compilation to warehouse SQL.

A rule is a condition or a group of them::

    {"all": [rule, ...]}            every one holds          {"any": [rule, ...]}   at least one
    {"not": rule}                   the rule does not hold
    {"trait": "orders", "op": ">=", "value": 3}             a computed trait (TRAITS below)
    {"event": "order.paid", "min_count": 3, "days": 90,     did X at least n times in the last
     "sku": "SKU-1", "channel": "tmall"}                     d days (sku, channel optional)
    {"tag": "vip"}                  carries the tag
    {"region": "3301"}              had an event in this division (a prefix of its 6-digit code)
    {"store": "<org id>"}           dealt with this store or partner (any event of that org)

:func:`parse_rule` checks a rule and names the JSON path of the first problem
(``rule.all[2].days``). :func:`compile_members` turns it into one read-only SQL statement over
``tenant_events`` that runs unchanged on DuckDB and ClickHouse (the two places where they differ,
a JSON property and a parameter list turned into rows, branch on the dialect). Traits are
computed in the same statement from the events, so a segment is always as fresh as the
warehouse; the ``cdp.traits`` job stores the same values on the profiles (:data:`TRAITS_SQL`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bcone.cdp.errors import InvalidRule
from bcone.core.events import EVENT_TYPE_PATTERN
from bcone.core.warehouse.port import Dialect

MAX_DEPTH = 6
MAX_CONDITIONS = 50
MAX_DAYS = 3650
OPS = (">=", ">", "<=", "<", "=", "!=")
# Trait name -> (kind, column in the traits CTE). "days" traits are compared as timestamps.
TRAITS: dict[str, tuple[Literal["number", "days", "text"], str]] = {
    "orders": ("number", "orders"),
    "revenue_fen": ("number", "revenue_fen"),
    "events": ("number", "events"),
    "r_score": ("number", "r_score"),
    "f_score": ("number", "f_score"),
    "m_score": ("number", "m_score"),
    "days_since_first_seen": ("days", "first_seen"),
    "days_since_last_seen": ("days", "last_seen"),
    "days_since_last_order": ("days", "last_order"),
    "days_since_last_scan": ("days", "last_scan"),
    "usual_store": ("text", "usual_store"),
    "region": ("text", "region"),
}
RFM_TRAITS = frozenset({"r_score", "f_score", "m_score"})
ORDER_TRAITS = frozenset({"orders", "revenue_fen", "days_since_last_order"}) | RFM_TRAITS
ORDER_TYPE = "order.paid"
SCAN_TYPE = "code.scanned"
CHANNELS = ("tmall", "jd", "douyin", "wechat", "store", "other")


# --- the parsed rule -------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    op: Literal["all", "any", "not"]
    items: tuple[Node, ...]


@dataclass(frozen=True)
class TraitCond:
    trait: str
    op: str
    value: int | str


@dataclass(frozen=True)
class EventCond:
    event: str
    min_count: int = 1
    days: int | None = None
    sku: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class TagCond:
    tag: str


@dataclass(frozen=True)
class RegionCond:
    region: str


@dataclass(frozen=True)
class StoreCond:
    store: str


Node = Group | TraitCond | EventCond | TagCond | RegionCond | StoreCond


def _fail(path: str, message: str) -> InvalidRule:
    return InvalidRule(f"{path}: {message}", field=path)


def _keys(obj: dict[str, Any], path: str, allowed: set[str]) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise _fail(f"{path}.{extra[0]}", f"unknown key (allowed here: {', '.join(sorted(allowed))})")


def _int(obj: dict[str, Any], key: str, path: str, *, low: int, high: int, default: int | None) -> int | None:
    value = obj.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{path}.{key}", "must be a whole number")
    if not low <= value <= high:
        raise _fail(f"{path}.{key}", f"must be between {low} and {high}")
    return value


def _text(obj: dict[str, Any], key: str, path: str, *, required: bool, max_length: int = 64) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise _fail(f"{path}.{key}", "is required")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise _fail(f"{path}.{key}", f"must be text of 1 to {max_length} characters")
    return value.strip()


def parse_rule(obj: Any, path: str = "rule") -> Node:
    """The rule as a tree of conditions; :class:`InvalidRule` names the JSON path of a problem."""
    counter = [0]
    return _parse(obj, path, 0, counter)


def _parse(obj: Any, path: str, depth: int, counter: list[int]) -> Node:
    if not isinstance(obj, dict) or not obj:
        raise _fail(path, 'must be a JSON object such as {"all": [...]} or a condition')
    if depth > MAX_DEPTH:
        raise _fail(path, f"nested deeper than {MAX_DEPTH} levels")
    for op in ("all", "any"):
        if op in obj:
            _keys(obj, path, {op})
            items = obj[op]
            if not isinstance(items, list) or not items:
                raise _fail(f"{path}.{op}", "must be a non-empty list of conditions")
            return Group(
                op,
                tuple(_parse(x, f"{path}.{op}[{i}]", depth + 1, counter) for i, x in enumerate(items)),
            )
    if "not" in obj:
        _keys(obj, path, {"not"})
        return Group("not", (_parse(obj["not"], f"{path}.not", depth + 1, counter),))
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise _fail(path, f"more than {MAX_CONDITIONS} conditions in one rule")
    if "trait" in obj:
        _keys(obj, path, {"trait", "op", "value"})
        trait = obj["trait"]
        if trait not in TRAITS:
            raise _fail(f"{path}.trait", f"unknown trait {trait!r} (known: {', '.join(TRAITS)})")
        op = obj.get("op", "=")
        if op not in OPS:
            raise _fail(f"{path}.op", f"must be one of {' '.join(OPS)}")
        kind = TRAITS[trait][0]
        value = obj.get("value")
        if kind == "text":
            if op not in ("=", "!="):
                raise _fail(f"{path}.op", "a text trait compares with = or != only")
            if not isinstance(value, str) or not value or len(value) > 64:
                raise _fail(f"{path}.value", "must be text of 1 to 64 characters")
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**13:
            raise _fail(f"{path}.value", "must be a whole number, 0 or more")
        return TraitCond(trait, op, value)
    if "event" in obj:
        _keys(obj, path, {"event", "min_count", "days", "sku", "channel"})
        event = obj["event"]
        if not isinstance(event, str) or not re.fullmatch(EVENT_TYPE_PATTERN, event):
            raise _fail(f"{path}.event", "must be an event type such as order.paid")
        channel = _text(obj, "channel", path, required=False)
        if channel is not None and channel not in CHANNELS:
            raise _fail(f"{path}.channel", f"must be one of {', '.join(CHANNELS)}")
        return EventCond(
            event=event,
            min_count=_int(obj, "min_count", path, low=1, high=100_000, default=1) or 1,
            days=_int(obj, "days", path, low=1, high=MAX_DAYS, default=None),
            sku=_text(obj, "sku", path, required=False),
            channel=channel,
        )
    if "tag" in obj:
        _keys(obj, path, {"tag"})
        return TagCond(_text(obj, "tag", path, required=True) or "")
    if "region" in obj:
        _keys(obj, path, {"region"})
        region = obj["region"]
        if not isinstance(region, str) or not re.fullmatch(r"\d{2}(\d{2}){0,2}", region):
            raise _fail(f"{path}.region", "must be a division code or its prefix: 2, 4 or 6 digits")
        return RegionCond(region)
    if "store" in obj:
        _keys(obj, path, {"store"})
        return StoreCond(_text(obj, "store", path, required=True) or "")
    raise _fail(path, "not a condition: use all, any, not, trait, event, tag, region or store")


def tags_of(node: Node) -> set[str]:
    """The tag names a rule refers to."""
    if isinstance(node, Group):
        return set().union(*(tags_of(n) for n in node.items))
    return {node.tag} if isinstance(node, TagCond) else set()


def traits_of(node: Node) -> set[str]:
    if isinstance(node, Group):
        return set().union(*(traits_of(n) for n in node.items))
    return {node.trait} if isinstance(node, TraitCond) else set()


# --- SQL ---------------------------------------------------------------------------------------


def property_text(dialect: Dialect, name: str) -> str:
    """A string property of the event's ``properties`` JSON, '' when absent."""
    if not name.isidentifier():
        raise ValueError(name)
    if dialect == "clickhouse":
        return f"JSONExtractString(properties, '{name}')"
    return f"coalesce(json_extract_string(properties, '$.{name}'), '')"


def _quintile(column: str) -> str:
    """1 to 5 by rank among buyers: ties share a score, a larger value a higher score."""
    return f"1 + CAST(floor(5.0 * (rank() OVER (ORDER BY {column}) - 1) / count(*) OVER ()) AS INTEGER)"


def events_cte(dialect: Dialect, merged: bool) -> str:
    """``ev``: the tenant's events with a profile, merged profiles' events under their survivor
    (``$merged_from`` / ``$merged_to``, two equally long lists, when ``merged``)."""
    columns = "ts, type, org_id, sku, region, amount, properties"
    if not merged:
        return f"ev AS (SELECT profile_id, {columns} FROM tenant_events WHERE profile_id IS NOT NULL)"
    if dialect == "clickhouse":
        pairs = (
            "SELECT old_id, new_id FROM (SELECT $merged_from AS a, $merged_to AS b) "
            "ARRAY JOIN a AS old_id, b AS new_id"
        )
    else:
        pairs = "SELECT unnest($merged_from) AS old_id, unnest($merged_to) AS new_id"
    prefixed = ", ".join(f"e.{c.strip()} AS {c.strip()}" for c in columns.split(","))
    return (
        "ev AS (SELECT CASE WHEN m.old_id IS NULL OR m.old_id = '' THEN e.profile_id ELSE m.new_id END"
        f" AS profile_id, {prefixed} FROM tenant_events AS e LEFT JOIN ({pairs}) AS m"
        " ON e.profile_id = m.old_id WHERE e.profile_id IS NOT NULL)"
    )


BASE_COLUMNS: dict[str, str] = {
    "first_seen": "min(ts)",
    "last_seen": "max(ts)",
    "events": "count(*)",
    "orders": f"sum(CASE WHEN type = '{ORDER_TYPE}' THEN 1 ELSE 0 END)",
    "revenue_fen": f"sum(CASE WHEN type = '{ORDER_TYPE}' THEN coalesce(amount, 0) ELSE 0 END)",
    "last_order": f"max(CASE WHEN type = '{ORDER_TYPE}' THEN ts END)",
    "last_scan": f"max(CASE WHEN type = '{SCAN_TYPE}' THEN ts END)",
    "region": "argMax(region, ts)",  # both engines know argMax (DuckDB as an alias of arg_max)
}
RFM_COLUMNS = {"r_score": "last_order", "f_score": "orders", "m_score": "revenue_fen"}


def traits_ctes(dialect: Dialect, traits: set[str] | None = None) -> str:
    """``base`` (one row per profile with the traits aggregated from its events), ``rfm`` and
    ``stores``. With ``traits`` (names of :data:`TRAITS`), only what those need is computed."""
    full = traits is None
    if traits is None:
        traits = set(TRAITS)
    columns = {TRAITS[t][1] for t in traits if TRAITS[t][1] in BASE_COLUMNS}
    scores = [s for s in RFM_COLUMNS if s in traits]
    parts: list[str] = []
    if full:
        aggregates = "".join(f", {BASE_COLUMNS[c]} AS {c}" for c in BASE_COLUMNS if c in columns)
        parts.append(f"base AS (SELECT profile_id{aggregates} FROM ev GROUP BY profile_id)")
    if traits & ORDER_TRAITS:
        parts.append(
            "obase AS (SELECT profile_id, count(*) AS orders, sum(coalesce(amount, 0)) AS revenue_fen, "
            f"max(ts) AS last_order FROM ev WHERE type = '{ORDER_TYPE}' GROUP BY profile_id)"
        )
    if scores:
        ranked = ", ".join(f"{_quintile(RFM_COLUMNS[s])} AS {s}" for s in scores)
        parts.append(f"rfm AS (SELECT profile_id, {ranked} FROM obase)")
    if "usual_store" in traits:
        parts.append(
            "store_counts AS (SELECT profile_id, org_id, count(*) AS n FROM ev "
            "WHERE org_id IS NOT NULL GROUP BY profile_id, org_id), "
            "stores AS (SELECT profile_id, org_id AS usual_store FROM (SELECT profile_id, org_id, "
            "row_number() OVER (PARTITION BY profile_id ORDER BY n DESC, org_id) AS k FROM store_counts) "
            "AS ranked WHERE k = 1)"
        )
    return ", ".join(parts)


def settings_suffix(dialect: Dialect) -> str:
    """ClickHouse fills the missing side of an outer join with default values (0, '') unless
    told to use NULL as standard SQL (and DuckDB) does."""
    return " SETTINGS join_use_nulls = 1" if dialect == "clickhouse" else ""


def traits_sql(dialect: Dialect, merged: bool) -> str:
    """Every computed trait of every profile with events: the ``cdp.traits`` job stores these."""
    return (
        f"WITH {events_cte(dialect, merged)}, {traits_ctes(dialect)} "
        "SELECT b.profile_id AS profile_id, b.first_seen AS first_seen, b.last_seen AS last_seen, "
        "b.events AS events, b.orders AS orders, b.revenue_fen AS revenue_fen, "
        "r.r_score AS r_score, r.f_score AS f_score, r.m_score AS m_score, "
        "b.last_scan AS last_scan, s.usual_store AS usual_store, b.region AS region "
        "FROM base AS b LEFT JOIN rfm AS r ON r.profile_id = b.profile_id "
        "LEFT JOIN stores AS s ON s.profile_id = b.profile_id ORDER BY profile_id"
        f"{settings_suffix(dialect)}"
    )


# The per-profile traits as a summary table of the warehouse (built by the ``cdp.traits`` job,
# see ``_audiences.refresh_traits_summary``): a trait condition reads one row per profile from it
# instead of aggregating every event of every consumer. Versioned names: a change of columns
# gets a new name, so an old table is never misread.
TRAITS_SUMMARY = "cdp_traits_v1"
TRAITS_STATE = "cdp_traits_state_v1"
TRAITS_VIEW = f"tenant_summary_{TRAITS_SUMMARY}"
TRAITS_STATE_VIEW = f"tenant_summary_{TRAITS_STATE}"
SUMMARY_COLUMNS = (
    "first_seen",
    "last_seen",
    "events",
    "orders",
    "revenue_fen",
    "last_order",
    "last_scan",
    "region",
    "r_score",
    "f_score",
    "m_score",
    "usual_store",
)


def summary_sql(dialect: Dialect, merged: bool) -> str:
    """One row per profile with events and every column a trait condition reads: the rows of
    :data:`TRAITS_SUMMARY`, the same aggregates as :func:`traits_sql` and the live compiler."""
    outer = {"r_score": "r", "f_score": "r", "m_score": "r", "usual_store": "s"}
    columns = ", ".join(f"{outer.get(c, 'b')}.{c} AS {c}" for c in SUMMARY_COLUMNS)
    return (
        f"WITH {events_cte(dialect, merged)}, {traits_ctes(dialect)} "
        f"SELECT b.profile_id AS profile_id, {columns} "
        "FROM base AS b LEFT JOIN rfm AS r ON r.profile_id = b.profile_id "
        "LEFT JOIN stores AS s ON s.profile_id = b.profile_id"
        f"{settings_suffix(dialect)}"
    )


@dataclass
class Compiled:
    """``WITH {ctes}, members AS ({select})``: the members' ``profile_id``, one row each."""

    ctes: str
    select: str
    params: dict[str, Any] = field(default_factory=dict)
    dialect: Dialect = "duckdb"

    @property
    def sql(self) -> str:
        return f"WITH {self.ctes} {self.select}{settings_suffix(self.dialect)}"

    def wrap(self, outer: str, **params: Any) -> tuple[str, dict[str, Any]]:
        """``outer`` reads the CTE ``members``."""
        sql = f"WITH {self.ctes}, members AS ({self.select}) {outer}{settings_suffix(self.dialect)}"
        return sql, {**self.params, **params}


def _buyers_only(node: TraitCond) -> bool:
    """Whether only consumers with orders can meet the condition (so the orders alone decide)."""
    if node.trait in RFM_TRAITS or node.trait == "days_since_last_order":
        return True  # no score and no last order without orders: the comparison fails
    if node.trait in ("orders", "revenue_fen"):
        value = int(node.value)
        return (node.op in (">=", "=") and value >= 1) or (node.op == ">" and value >= 0)
    return False


class _Compiler:
    """Each rule node becomes a query of the ``profile_id`` of its members: a condition a
    ``GROUP BY profile_id`` over the events, ``all`` its first positive member filtered by
    ``IN`` / ``NOT IN`` the others, ``any`` a ``UNION ALL`` grouped, ``not`` everyone with
    events except the members. The traits of one ``all`` are read in one pass: over the orders
    alone (``obase``) when only buyers can meet them, else over every event. Only IN, NOT IN,
    UNION ALL and GROUP BY: both engines run them alike, and the per-profile aggregation of
    every event is computed only when a trait needs it."""

    def __init__(
        self, dialect: Dialect, now: datetime, tags: dict[str, list[str]], *, summary: bool = False
    ) -> None:
        self.dialect = dialect
        self.now = now
        self.tags = tags
        self.summary = summary  # traits from TRAITS_VIEW (one row per profile), not from the events
        self.params: dict[str, Any] = {}

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    UNIVERSE = "SELECT profile_id FROM ev GROUP BY profile_id"

    def members(self, node: Node) -> str:
        if isinstance(node, Group):
            if node.op == "not":
                return f"SELECT profile_id FROM ({self.UNIVERSE}) AS u WHERE profile_id NOT IN ({self.members(node.items[0])})"
            if node.op == "any":
                parts = " UNION ALL ".join(
                    f"SELECT profile_id FROM ({self.members(n)}) AS a{i}" for i, n in enumerate(node.items)
                )
                return f"SELECT profile_id FROM ({parts}) AS anyof GROUP BY profile_id"
            traits = [n for n in node.items if isinstance(n, TraitCond)]
            others = [n for n in node.items if not isinstance(n, TraitCond)]
            positive: list[str] = []
            if traits and all(_buyers_only(t) for t in traits):
                positive.append(self.buyer_part(traits))  # one pass over the orders alone
            elif traits:
                positive.append(self.base_part(traits))  # one pass over every event for them all
            positive += [self.members(n) for n in others if not (isinstance(n, Group) and n.op == "not")]
            negative = [n.items[0] for n in others if isinstance(n, Group) and n.op == "not"]
            driver = positive[0] if positive else self.UNIVERSE
            filters = [f"profile_id IN ({p})" for p in positive[1:]]
            filters += [f"profile_id NOT IN ({self.members(n)})" for n in negative]
            where = f" WHERE {' AND '.join(filters)}" if filters else ""
            return f"SELECT profile_id FROM ({driver}) AS d{where}"
        return self.leaf(node)

    def buyer_part(self, traits: list[TraitCond]) -> str:
        """Traits that only buyers can meet, from ``obase`` (the orders alone) and ``rfm``."""
        if self.summary:
            return self.summary_part(traits)
        source = "obase AS b"
        if any(t.trait in RFM_TRAITS for t in traits):
            source += " LEFT JOIN rfm AS r ON r.profile_id = b.profile_id"
        where = " AND ".join(f"coalesce(({self.trait(t)}), 1 = 0)" for t in traits)
        return f"SELECT b.profile_id AS profile_id FROM {source} WHERE {where}"

    def base_part(self, traits: list[TraitCond]) -> str:
        """Traits aggregated from every event of each profile, in one pass."""
        if self.summary:
            return self.summary_part(traits)
        columns = {TRAITS[t.trait][1] for t in traits} & set(BASE_COLUMNS)
        aggregates = "".join(f", {BASE_COLUMNS[c]} AS {c}" for c in BASE_COLUMNS if c in columns)
        source = f"(SELECT profile_id{aggregates} FROM ev GROUP BY profile_id) AS b"
        if any(t.trait in RFM_TRAITS for t in traits):
            source += " LEFT JOIN rfm AS r ON r.profile_id = b.profile_id"
        if any(t.trait == "usual_store" for t in traits):
            source += " LEFT JOIN stores AS s ON s.profile_id = b.profile_id"
        where = " AND ".join(f"coalesce(({self.trait(t)}), 1 = 0)" for t in traits)
        return f"SELECT b.profile_id AS profile_id FROM {source} WHERE {where}"

    def summary_part(self, traits: list[TraitCond]) -> str:
        """Traits read from the summary: one row per profile, no aggregation. Profiles without
        orders have NULL scores and last order there, as the outer joins give them live."""
        where = " AND ".join(f"coalesce(({self.trait(t)}), 1 = 0)" for t in traits)
        return f"SELECT b.profile_id AS profile_id FROM {TRAITS_VIEW} AS b WHERE {where}"

    def leaf(self, node: Node) -> str:
        if isinstance(node, TraitCond):
            return self.buyer_part([node]) if _buyers_only(node) else self.base_part([node])
        where: list[str]
        having = ""
        if isinstance(node, EventCond):
            where = [f"type = {self.param(node.event)}"]
            if node.days is not None:
                where.append(f"ts >= {self.param(self.now - timedelta(days=node.days))}")
            if node.sku is not None:
                where.append(f"sku = {self.param(node.sku)}")
            if node.channel is not None:
                # A cheap text test first, so the JSON is parsed only on the events that may match.
                where.append(f"properties LIKE {self.param('%' + node.channel + '%')}")
                where.append(f"{property_text(self.dialect, 'channel')} = {self.param(node.channel)}")
            if node.min_count > 1:
                having = f" HAVING count(*) >= {self.param(node.min_count)}"
        elif isinstance(node, TagCond):
            members = self.tags.get(node.tag, [])
            where = [f"profile_id IN {self.param(members)}" if members else "1 = 0"]
        elif isinstance(node, RegionCond):
            where = [f"region LIKE {self.param(node.region + '%')}"]
        elif isinstance(node, StoreCond):
            where = [f"org_id = {self.param(node.store)}"]
        else:
            raise TypeError(node)
        return f"SELECT profile_id FROM ev WHERE {' AND '.join(where)} GROUP BY profile_id{having}"

    def trait(self, node: TraitCond) -> str:
        kind, column = TRAITS[node.trait]
        source = "r" if node.trait in RFM_TRAITS else ("s" if node.trait == "usual_store" else "b")
        if self.summary:
            source = "b"  # every trait is a column of the summary's row
        ref = f"{source}.{column}"
        if kind == "text" or kind == "number":
            return f"{ref} {'<>' if node.op == '!=' else node.op} {self.param(node.value)}"
        # days since X, compared as times: "days >= n" is "X at or before now - n days".
        n = int(node.value)

        def before(days: int) -> str:
            return self.param(self.now - timedelta(days=days))

        if node.op == ">=":
            return f"{ref} <= {before(n)}"
        if node.op == ">":
            return f"{ref} <= {before(n + 1)}"
        if node.op == "<=":
            return f"{ref} > {before(n + 1)}"
        if node.op == "<":
            return f"{ref} > {before(n)}"
        if node.op == "=":
            return f"({ref} <= {before(n)} AND {ref} > {before(n + 1)})"
        return f"({ref} > {before(n)} OR {ref} <= {before(n + 1)})"


def compile_members(
    node: Node,
    *,
    dialect: Dialect,
    now: datetime,
    tags: dict[str, list[str]] | None = None,
    merged: tuple[list[str], list[str]] | None = None,
    consented: list[str] | None = None,
    summary: bool = False,
) -> Compiled:
    """SQL selecting the members' ``profile_id`` (one row each).

    ``tags`` maps each tag the rule names to its profiles; ``merged`` is (absorbed ids, their
    survivors); ``consented``, when given, keeps only those profiles (a purpose's consent).
    ``summary``: trait conditions read :data:`TRAITS_VIEW` (the caller checked that it was
    built from exactly the events and merges of now) instead of aggregating the events.
    """
    compiler = _Compiler(dialect, now, tags or {}, summary=summary)
    inner = compiler.members(node)
    used = traits_of(node)
    ctes = events_cte(dialect, merged is not None and bool(merged[0]))
    extra = traits_ctes(dialect, used) if used and not summary else ""
    if extra:
        ctes += ", " + extra
    where = ""
    if consented is not None:
        where = f" WHERE profile_id IN {compiler.param(consented)}" if consented else " WHERE 1 = 0"
    params = compiler.params
    if merged is not None and merged[0]:
        params["merged_from"], params["merged_to"] = merged
    return Compiled(
        ctes=ctes,
        select=f"SELECT profile_id FROM ({inner}) AS m{where}",
        params=params,
        dialect=dialect,
    )


def count_sql(members: Compiled) -> tuple[str, dict[str, Any]]:
    return members.wrap("SELECT count(*) AS n FROM members")


def page_sql(members: Compiled, *, limit: int, offset: int) -> tuple[str, dict[str, Any]]:
    return members.wrap(
        "SELECT profile_id FROM members ORDER BY profile_id LIMIT $limit OFFSET $offset",
        limit=limit,
        offset=offset,
    )


def contains_sql(members: Compiled, profile_ids: list[str]) -> tuple[str, dict[str, Any]]:
    return members.wrap(
        "SELECT profile_id FROM members WHERE profile_id IN $candidates", candidates=profile_ids
    )
