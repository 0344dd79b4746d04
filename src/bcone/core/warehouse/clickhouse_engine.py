"""The warehouse at scale: ClickHouse. One class holds every statement; a transport carries them.

Two transports run the same SQL: :class:`ClickHouseConnectTransport` (a clickhouse-connect client,
for a real server) and :class:`ChdbTransport` (chDB, the ClickHouse engine embedded in this
process, used by the tests and the bench). Keeping the transports to four calls (command, query
to Arrow, insert Arrow, close) means what the tests prove through chDB is what runs on a server.

Exactly once: an insert adds only the events not already stored (same tenant and ``event_id``),
so reads never see a retried event twice and need no ``FINAL``. The look-up is cheap: the table's
key starts with ``tenant_id``, and a minmax and a bloom-filter index on ``event_id`` skip the
granules that cannot hold the batch's ids (UUIDv7 ids grow with time, so new batches usually
skip everything and go straight in). The table is a ReplacingMergeTree as a second line of
defence: rows written twice with the same key by a writer that bypassed the check (two flushers
racing on the same rows, a hand-run INSERT) are folded by background merges.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, date, datetime
from typing import Any, Protocol

import pyarrow as pa  # type: ignore[import-untyped]

from bcone.core.warehouse.port import (
    ERASED_COPY_COLUMNS,
    EVENT_COLUMNS,
    EVENTS_TABLE,
    Dialect,
    EventBatch,
    Params,
    QueryResult,
    WarehouseError,
    WarehouseQueryFailed,
    arrow_to_result,
    id_range,
    prepare_event_batch,
)
from bcone.core.warehouse.sql import (
    TENANT_PARAM,
    check_column_names,
    ensure_read_only,
    rewrite_params,
    scope_to_tenant,
    summary_table,
    used_params,
)

_COLUMN_TYPES = """
    event_id    String,
    tenant_id   LowCardinality(String),
    ts          DateTime64(6, 'UTC'),
    type        LowCardinality(String),
    profile_id  Nullable(String),
    identities  String,
    org_id      Nullable(String),
    sku         Nullable(String),
    region      LowCardinality(Nullable(String)),
    amount      Nullable(Int64),
    properties  String"""

# Ordered for analytics (one tenant's events of a type over time); monthly partitions keep
# time-bounded queries to the parts they need.
EVENTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} ({_COLUMN_TYPES},
    INDEX event_id_minmax event_id TYPE minmax GRANULARITY 1,
    INDEX event_id_bloom event_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant_id, type, ts, event_id)
"""

_COLUMNS = ", ".join(EVENT_COLUMNS)
_TS_TYPE = "DateTime64(6, 'UTC')"
_ID_RANGE = """
    tenant_id IN {tenants:Array(String)} AND event_id BETWEEN {lo:String} AND {hi:String}"""
_COUNT_IN_ID_RANGE = f"SELECT count() AS n FROM {EVENTS_TABLE} WHERE {_ID_RANGE}"


def _stored_from(stage: str) -> str:
    """The (tenant_id, event_id) pairs of ``stage`` that ``events`` already holds."""
    return (
        f"SELECT tenant_id, event_id FROM {EVENTS_TABLE} WHERE {_ID_RANGE}"
        f" AND event_id IN (SELECT event_id FROM {stage})"
        f" AND (tenant_id, event_id) IN (SELECT tenant_id, event_id FROM {stage})"
    )


class ClickHouseTransport(Protocol):
    """How statements reach a ClickHouse engine. Parameters arrive as plain Python values that
    match the ``{name:Type}`` placeholders in the SQL."""

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...
    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> Any: ...
    def insert_arrow(self, table_name: str, data: Any) -> None: ...
    def close(self) -> None: ...


class ClickHouseWarehouse:
    """The warehouse port on ClickHouse, whichever transport carries the SQL."""

    dialect: Dialect = "clickhouse"

    def __init__(self, transport: ClickHouseTransport) -> None:
        self.transport = transport

    def ensure_schema(self) -> None:
        self.transport.command(EVENTS_DDL)

    def hold(self) -> AbstractContextManager[None]:
        return nullcontext()  # a ClickHouse connection is cheap to reuse and locks nothing

    def insert_events(self, batch: EventBatch) -> int:
        table = prepare_event_batch(batch)
        if table.num_rows == 0:
            return 0
        lo, hi = id_range(table)
        scope = {"tenants": sorted(set(table.column("tenant_id").to_pylist())), "lo": lo, "hi": hi}
        if _first_value(self.transport.query_arrow(_COUNT_IN_ID_RANGE, scope)) == 0:
            # No stored id of these tenants falls in the batch's id range, so none of these
            # events is stored: write the batch straight in (the flush's usual case).
            self.transport.insert_arrow(EVENTS_TABLE, table)
            return int(table.num_rows)
        return self._insert_unseen(table, scope)

    def _insert_unseen(self, table: Any, scope: Mapping[str, Any]) -> int:
        stage = f"{EVENTS_TABLE}_stage_{uuid.uuid4().hex}"
        self.transport.command(f"CREATE TABLE {stage} ({_COLUMN_TYPES}) ENGINE = Memory")
        try:
            self.transport.insert_arrow(stage, table)
            stored_pairs = _stored_from(stage)
            stored = _first_value(
                self.transport.query_arrow(
                    f"SELECT count() AS n FROM {stage} WHERE (tenant_id, event_id) IN ({stored_pairs})", scope
                )
            )
            if stored < table.num_rows:
                self.transport.command(
                    f"INSERT INTO {EVENTS_TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM {stage} "
                    f"WHERE (tenant_id, event_id) NOT IN ({stored_pairs})",
                    scope,
                )
            return int(table.num_rows - stored)
        finally:
            self.transport.command(f"DROP TABLE IF EXISTS {stage}")

    def query(self, sql: str, params: Params | None = None, *, tenant_id: str | None = None) -> QueryResult:
        ensure_read_only(sql)
        if tenant_id is not None:
            sql, params = scope_to_tenant(sql, params, tenant_id)
        text, bound = _bind(sql, params)
        try:
            answer = self.transport.query_arrow(text, bound)
        except WarehouseError as exc:
            raise WarehouseQueryFailed(exc.detail, field="sql") from exc
        return arrow_to_result(answer)

    def erase_profiles(self, tenant_id: str, profile_ids: Sequence[str]) -> int:
        if not profile_ids:
            return 0
        where = "tenant_id = {tenant:String} AND profile_id IN {ids:Array(String)}"
        params = {"tenant": tenant_id, "ids": list(profile_ids)}
        found = _first_value(
            self.transport.query_arrow(f"SELECT count() AS n FROM {EVENTS_TABLE} WHERE {where}", params)
        )
        if found == 0:
            return 0
        self.transport.command(
            f"INSERT INTO {EVENTS_TABLE} ({_COLUMNS}) SELECT concat('erased:', toString(generateUUIDv4())), "
            f"{ERASED_COPY_COLUMNS} FROM {EVENTS_TABLE} WHERE {where}",
            params,
        )
        # A mutation rewrites the parts holding these rows; mutations_sync waits until it is done.
        self.transport.command(
            f"ALTER TABLE {EVENTS_TABLE} DELETE WHERE {where} SETTINGS mutations_sync = 2", params
        )
        return found

    def refresh_summary(
        self,
        name: str,
        select_sql: str,
        params: Params | None = None,
        *,
        tenant_id: str,
        order_by: Sequence[str] = (),
    ) -> int:
        table = summary_table(name)
        keys = check_column_names(order_by, "order_by")
        ensure_read_only(select_sql)
        sql, merged = scope_to_tenant(select_sql, params, tenant_id)
        text, bound = _bind(sql, merged)
        try:
            described = self.transport.query_arrow(f"DESCRIBE TABLE ({text})", bound)
        except WarehouseError as exc:
            raise WarehouseQueryFailed(exc.detail, field="select_sql") from exc
        columns = [str(c) for c in described.column("name").to_pylist()]
        types = [str(t) for t in described.column("type").to_pylist()]
        if "tenant_id" in columns:
            raise WarehouseQueryFailed(
                "a summary's statement must not produce tenant_id: the table adds it", field="select_sql"
            )
        unknown = sorted(set(keys) - set(columns))
        if unknown:
            raise WarehouseQueryFailed(
                f"order_by names no column of the summary: {unknown}", field="order_by"
            )
        definition = ", ".join(f"`{c}` {t}" for c, t in zip(columns, types, strict=True))
        # Nullable key columns are allowed: a summary keyed by profile may hold a NULL profile row.
        self.transport.command(
            f"CREATE TABLE IF NOT EXISTS {table} (tenant_id LowCardinality(String), {definition}) "
            f"ENGINE = MergeTree ORDER BY ({', '.join(['tenant_id', *keys])}) "
            "SETTINGS allow_nullable_key = 1"
        )
        scope = {TENANT_PARAM: tenant_id}
        where = f"tenant_id = {{{TENANT_PARAM}:String}}"
        if _first_value(self.transport.query_arrow(f"SELECT count() AS n FROM {table} WHERE {where}", scope)):
            # A mutation rewrites the parts holding these rows; mutations_sync waits until it is done.
            self.transport.command(
                f"ALTER TABLE {table} DELETE WHERE {where} SETTINGS mutations_sync = 2", scope
            )
        names = ", ".join(f"`{c}`" for c in columns)
        self.transport.command(
            f"INSERT INTO {table} (tenant_id, {names}) SELECT {{{TENANT_PARAM}:String}}, {names} FROM ({text})",
            bound,
        )
        return _first_value(
            self.transport.query_arrow(f"SELECT count() AS n FROM {table} WHERE {where}", scope)
        )

    def close(self) -> None:
        self.transport.close()


def _bind(sql: str, params: Params | None) -> tuple[str, dict[str, Any]]:
    """``sql`` with ``{name:Type}`` placeholders, and the values they take."""
    values = used_params(sql, params)
    typed = {name: clickhouse_param(name, value) for name, value in values.items()}
    text = rewrite_params(sql, lambda name: _placeholder(name, typed[name][0]))
    return text, {name: value for name, (kind, value) in typed.items() if kind != "NULL"}


def clickhouse_param(name: str, value: Any) -> tuple[str, Any]:
    """The ClickHouse type of a ``$name`` parameter and its value as the transports take it.

    Times travel as UTC text with microseconds (``DateTime64(6, 'UTC')``), so no client time
    zone can shift them; ``None`` becomes a literal ``NULL``.
    """
    if value is None:
        return "NULL", None
    if isinstance(value, bool):
        return "Bool", value
    if isinstance(value, int):
        return "Int64", value
    if isinstance(value, float):
        return "Float64", value
    if isinstance(value, str):
        return "String", value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise WarehouseQueryFailed(
                f"parameter {name} is a naive datetime; give it a time zone", field=name
            )
        return _TS_TYPE, _ts_text(value)
    if isinstance(value, date):
        return "Date", value.isoformat()
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = [clickhouse_param(name, item) for item in value]
        kinds = {kind for kind, _ in items}
        if len(kinds) > 1 or "NULL" in kinds:
            raise WarehouseQueryFailed(f"parameter {name} mixes value types", field=name)
        kind = kinds.pop() if kinds else "String"
        return f"Array({kind})", [item for _, item in items]
    raise WarehouseQueryFailed(f"parameter {name} has an unsupported type {type(value).__name__}", field=name)


def _placeholder(name: str, kind: str) -> str:
    return "NULL" if kind == "NULL" else f"{{{name}:{kind}}}"


def _ts_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _first_value(table: Any) -> int:
    return int(table.column(0)[0].as_py())


class ClickHouseConnectTransport:
    """A ClickHouse server over HTTP(S), through a clickhouse-connect client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        try:
            self.client.command(sql, parameters=dict(params or {}))
        except Exception as exc:
            raise WarehouseError(_first_line(exc)) from exc

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        try:
            return self.client.query_arrow(sql, parameters=dict(params or {}), use_strings=True)
        except Exception as exc:
            raise WarehouseError(_first_line(exc)) from exc

    def insert_arrow(self, table_name: str, data: Any) -> None:
        try:
            self.client.insert_arrow(table_name, data)
        except Exception as exc:
            raise WarehouseError(_first_line(exc)) from exc

    def close(self) -> None:
        self.client.close()


class ChdbTransport:
    """ClickHouse embedded in this process (chDB). One data directory per process at a time."""

    def __init__(self, path: str | None = None) -> None:
        from chdb import session as chdb_session

        # chdb's Python API is untyped; keep it behind this one attribute.
        session_class: Any = chdb_session.Session
        self.session: Any = session_class(path or ":memory:")

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._run(sql, "CSV", params)

    def query_arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._run(sql, "ArrowTable", params)

    def insert_arrow(self, table_name: str, data: Any) -> None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, data.schema) as writer:
            writer.write_table(data)
        try:
            inserter = self.session.send_insert(f"INSERT INTO {table_name} ({_COLUMNS})", "ArrowStream")
            inserter.append(sink.getvalue().to_pybytes())
            inserter.finish()
        except RuntimeError as exc:
            raise WarehouseError(_first_line(exc)) from exc

    def close(self) -> None:
        self.session.close()

    def _run(self, sql: str, fmt: str, params: Mapping[str, Any] | None) -> Any:
        # chDB takes parameter values as ClickHouse text; format them exactly as
        # clickhouse-connect does for a server, so both transports bind identically.
        from clickhouse_connect.driver.binding import format_bind_value

        text = {name: format_bind_value(value) for name, value in (params or {}).items()}
        try:
            return self.session.query(sql, fmt, params=text or None)
        except RuntimeError as exc:
            raise WarehouseError(_first_line(exc)) from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
