"""The warehouse port: what every engine offers, the event table's columns, and the batch format.

Events travel to the warehouse as Arrow tables with :data:`EVENT_ARROW_SCHEMA`: columnar, so a
batch of 50,000 events is a handful of buffers, not 50,000 Python objects. Results come back as
:class:`QueryResult` with the same Python types on every engine, so analytics code (and its tests)
can compare DuckDB and ClickHouse answers directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pydantic_core

from bcone.core.errors import BconeError, ValidationFailed

EVENTS_TABLE = "events"

# The warehouse's event columns, in table order. ``identities`` and ``properties`` are JSON text
# on both engines: the flush passes them through untouched, and both engines can parse JSON.
EVENT_ARROW_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("tenant_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("profile_id", pa.string()),
        pa.field("identities", pa.string(), nullable=False),
        pa.field("org_id", pa.string()),
        pa.field("sku", pa.string()),
        pa.field("region", pa.string()),
        pa.field("amount", pa.int64()),
        pa.field("properties", pa.string(), nullable=False),
    ]
)
EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_ARROW_SCHEMA.names)

Dialect = Literal["duckdb", "clickhouse"]
ParamValue = str | int | float | bool | datetime | None | Sequence[Any]
Params = Mapping[str, Any]


class WarehouseError(BconeError):
    code = "warehouse_error"
    status = 502
    title = "The warehouse could not answer"


class WarehouseBusy(WarehouseError):
    code = "warehouse_busy"
    status = 503
    title = "The warehouse is locked by another process"


class WarehouseQueryFailed(ValidationFailed):
    code = "warehouse_query_failed"
    title = "The warehouse rejected the query"


class ReadOnlyQueryRequired(ValidationFailed):
    code = "warehouse_read_only"
    title = "Only read statements may be run on the warehouse"


class UnsupportedWarehouseUrl(ValidationFailed):
    code = "warehouse_url_unsupported"
    title = "Unknown warehouse URL"


@dataclass(frozen=True)
class QueryResult:
    """Column names and rows of plain Python values (``int``, ``float``, ``str``, aware UTC
    ``datetime``, ``date``, ``None``...), identical in type on every engine."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class IdentityLike(Protocol):
    @property
    def namespace(self) -> str: ...
    @property
    def value(self) -> str: ...


class EventLike(Protocol):
    """Anything shaped like ``bcone.core.events.Event`` (kept structural so the port does not
    depend on the outbox)."""

    @property
    def event_id(self) -> str: ...
    @property
    def tenant_id(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def type(self) -> str: ...
    @property
    def profile_id(self) -> str | None: ...
    @property
    def identities(self) -> Sequence[IdentityLike]: ...
    @property
    def org_id(self) -> str | None: ...
    @property
    def sku(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def amount(self) -> int | None: ...
    @property
    def properties(self) -> Mapping[str, Any]: ...


EventBatch = Any  # a pyarrow.Table with EVENT_ARROW_SCHEMA's columns, or a sequence of EventLike


@runtime_checkable
class Warehouse(Protocol):
    """One port, two engines (DuckDB embedded, ClickHouse at scale). Analytics SQL is written
    once against the ``events`` table and runs on both; parameters are ``$name``."""

    dialect: Dialect

    def ensure_schema(self) -> None:
        """Create the ``events`` table if it does not exist (idempotent)."""
        ...

    def insert_events(self, batch: EventBatch) -> int:
        """Add events, skipping each one already stored (same tenant and ``event_id``); returns how
        many were new."""
        ...

    def hold(self) -> AbstractContextManager[None]:
        """Keep write resources open across the calls inside a ``with`` block (DuckDB: one
        connection and its file lock). Keep such blocks short."""
        ...

    def query(self, sql: str, params: Params | None = None, *, tenant_id: str | None = None) -> QueryResult:
        """Run one read statement. With ``tenant_id``, ``tenant_events`` names that tenant's events."""
        ...

    def erase_profiles(self, tenant_id: str, profile_ids: Sequence[str]) -> int:
        """Erase the events of these consumer profiles (a PIPL deletion); returns how many.

        Each event is replaced by an anonymous copy (a new ``erased:`` id, no profile, no
        identities, no properties; time, type, organisation, SKU, region and amount kept), so
        aggregates stay right while nothing leads back to the person."""
        ...

    def refresh_summary(
        self,
        name: str,
        select_sql: str,
        params: Params | None = None,
        *,
        tenant_id: str,
        order_by: Sequence[str] = (),
    ) -> int:
        """(Re)build one tenant's rows of the derived table ``summary_<name>``; returns how many.

        ``select_sql`` is a read statement over ``tenant_events`` (and other summaries, as
        ``tenant_summary_<other>``), scoped to ``tenant_id`` like :meth:`query`; it must not
        produce a ``tenant_id`` column, which the table adds first. The table is created from
        the statement's columns when missing (ClickHouse: a MergeTree ordered by ``tenant_id``
        then ``order_by``); the tenant's old rows are replaced, other tenants' rows stay.
        Reads see the tenant's rows as ``tenant_summary_<name>``."""
        ...

    def close(self) -> None: ...


# The anonymous copy of an erased event, after its new id. No aliases: ClickHouse would let an
# alias named like a column (profile_id) stand for that column in the WHERE clause.
ERASED_COPY_COLUMNS = "tenant_id, ts, type, NULL, '[]', org_id, sku, region, amount, '{}'"


def to_json_text(value: Any) -> str:
    """Compact JSON (UTF-8 kept as is) for the ``identities`` and ``properties`` columns."""
    return pydantic_core.to_json(value).decode()


def events_to_arrow(events: Sequence[EventLike]) -> Any:
    """A columnar batch (``pyarrow.Table``) of events, ready for :meth:`Warehouse.insert_events`."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for e in events:
        columns["event_id"].append(e.event_id)
        columns["tenant_id"].append(e.tenant_id)
        columns["ts"].append(e.ts)
        columns["type"].append(e.type)
        columns["profile_id"].append(e.profile_id)
        columns["identities"].append(
            to_json_text([{"namespace": i.namespace, "value": i.value} for i in e.identities])
        )
        columns["org_id"].append(e.org_id)
        columns["sku"].append(e.sku)
        columns["region"].append(e.region)
        columns["amount"].append(e.amount)
        columns["properties"].append(to_json_text(dict(e.properties)))
    return pa.Table.from_pydict(columns, schema=EVENT_ARROW_SCHEMA)


def prepare_event_batch(batch: EventBatch) -> Any:
    """The batch as an Arrow table in :data:`EVENT_ARROW_SCHEMA`, each event once.

    Duplicates inside one batch keep their first occurrence, so "each event once" holds even
    for a caller that hands the same event twice in one call.
    """
    if isinstance(batch, pa.Table):
        try:
            table = batch.select(list(EVENT_COLUMNS)).cast(EVENT_ARROW_SCHEMA)
        except (KeyError, pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise ValidationFailed(
                f"event batch does not match the event schema: {exc}", field="batch"
            ) from exc
    else:
        table = events_to_arrow(list(batch))
    if table.num_rows == 0:
        return table
    if pc.count_distinct(table.column("event_id")).as_py() == table.num_rows:
        return table  # the usual case, checked in one pass
    keys = {"tenant_id": table.column("tenant_id"), "event_id": table.column("event_id")}
    positions = pa.array(range(table.num_rows), pa.int64())
    firsts = (
        pa.table({**keys, "pos": positions})
        .group_by(["tenant_id", "event_id"], use_threads=False)
        .aggregate([("pos", "min")])
        .column("pos_min")
    )
    return table.take(pc.sort_indices(firsts))


def id_range(table: Any) -> tuple[str, str]:
    """The smallest and largest ``event_id`` of a non-empty batch.

    Stored events outside this range cannot be in the batch, and UUIDv7 ids grow with time, so
    both engines skip nearly all stored data when they look for a batch's ids (DuckDB through
    its per-block min/max, ClickHouse through a minmax index).
    """
    bounds = pc.min_max(table.column("event_id"))
    return str(bounds["min"].as_py()), str(bounds["max"].as_py())


def arrow_to_result(table: Any) -> QueryResult:
    """Plain Python rows from an engine's Arrow answer, with engine differences smoothed out:
    aware timestamps come back in UTC, and whole-number decimals (DuckDB's ``sum`` of a BIGINT)
    as ``int`` like ClickHouse's."""
    columns = [str(name) for name in table.column_names]
    values: list[list[Any]] = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            column = column.cast(pa.timestamp(kind.unit, tz="UTC"))
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
        items = column.to_pylist()
        if pa.types.is_decimal(kind) and kind.scale == 0:
            items = [None if v is None else int(v) for v in items]
        values.append(items)
    rows = list(zip(*values, strict=True)) if values else []
    return QueryResult(columns=columns, rows=rows)
