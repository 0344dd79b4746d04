"""The embedded warehouse: one DuckDB file (default ``./bcone-data/warehouse.duckdb``).

A DuckDB file is locked by the process that opens it for writing, and ``bcone serve`` and a
``bcone events flush`` in a shell may both want it. So no connection is kept: every operation
opens its own (reads open read-only) and closes it at once, and a lock held by another process
is waited for, retrying with a growing pause, up to :data:`DUCKDB_LOCK_WAIT_SECONDS`; past that
:class:`WarehouseBusy` says who holds it. A bulk writer may keep one connection for a short
window with :meth:`DuckDBWarehouse.hold` (the flush does, a second or so at a time), because
each open and close of a file costs a checkpoint. ``duckdb:///:memory:`` keeps one private
database for the lifetime of the object instead (tests, throw-away runs).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from bcone.core.warehouse.port import (
    ERASED_COPY_COLUMNS,
    EVENT_COLUMNS,
    EVENTS_TABLE,
    Dialect,
    EventBatch,
    Params,
    QueryResult,
    WarehouseBusy,
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
    scope_to_tenant,
    summary_table,
    used_params,
)

# How long an operation waits for another process's lock on the DuckDB file. A flush batch holds
# it for a fraction of a second, so 30 s rides out a busy flusher without hanging a request forever.
DUCKDB_LOCK_WAIT_SECONDS = 30.0
# Waiters poll often, and a bulk writer pauses a little longer than one poll after each hold
# window, so a waiting process gets the file between windows instead of starving.
_FIRST_PAUSE_SECONDS = 0.01
_MAX_PAUSE_SECONDS = 0.05
_HANDOVER_SECONDS = 0.1
# Substrings of DuckDB's messages for "someone else has this file open in another mode".
_LOCK_MESSAGES = ("Could not set lock on file", "different configuration than existing connections")

MEMORY = ":memory:"

EVENTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (
    event_id    VARCHAR NOT NULL,
    tenant_id   VARCHAR NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,
    type        VARCHAR NOT NULL,
    profile_id  VARCHAR,
    identities  VARCHAR NOT NULL,
    org_id      VARCHAR,
    sku         VARCHAR,
    region      VARCHAR,
    amount      BIGINT,
    properties  VARCHAR NOT NULL
)
"""

_COLUMNS = ", ".join(EVENT_COLUMNS)
_BATCH_COLUMNS = ", ".join(f"b.{name}" for name in EVENT_COLUMNS)
# Idempotent: an event already stored (same tenant and event_id) is skipped. The inner query
# finds the batch's events that are stored, looking only at stored ids inside the batch's id
# range; the batch is the small side of that join, so DuckDB also pushes its ids into the scan.
_INSERT_NEW = f"""
INSERT INTO {EVENTS_TABLE} ({_COLUMNS})
SELECT {_BATCH_COLUMNS} FROM bcone_batch AS b
ANTI JOIN (
    SELECT e.tenant_id, e.event_id FROM {EVENTS_TABLE} AS e
    SEMI JOIN bcone_batch AS n ON e.event_id = n.event_id AND e.tenant_id = n.tenant_id
    WHERE e.event_id BETWEEN $lo AND $hi
) AS s ON s.event_id = b.event_id AND s.tenant_id = b.tenant_id
"""


class DuckDBWarehouse:
    """The warehouse port on a DuckDB file (or an in-memory database)."""

    dialect: Dialect = "duckdb"

    def __init__(self, path: str | Path, *, lock_wait_seconds: float = DUCKDB_LOCK_WAIT_SECONDS) -> None:
        self.path = str(path)
        self.lock_wait_seconds = lock_wait_seconds
        self.connections_opened = 0
        # The connection every operation branches from while one is kept: always for
        # :memory:, inside hold() for a file.
        self._base: duckdb.DuckDBPyConnection | None = None
        self._holds = 0
        self._guard = threading.Lock()
        if self.path == MEMORY:
            self._base = duckdb.connect(MEMORY)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep one connection, and so the file lock, across the operations in this block.

        Opening and closing a DuckDB file costs a checkpoint each time, so a bulk writer (the
        flush) holds it for a short window of batches; everyone else waits at most that long.
        """
        with self._guard:
            self._holds += 1
        try:
            yield
        finally:
            base = None
            with self._guard:
                self._holds -= 1
                if self._holds == 0 and self.path != MEMORY:
                    base, self._base = self._base, None
            if base is not None:
                base.close()
                time.sleep(_HANDOVER_SECONDS)

    def ensure_schema(self) -> None:
        with self._connect() as con:
            con.execute(EVENTS_DDL)

    def insert_events(self, batch: EventBatch) -> int:
        table = prepare_event_batch(batch)
        if table.num_rows == 0:
            return 0
        lo, hi = id_range(table)
        with self._connect() as con:
            con.register("bcone_batch", table)
            try:
                row = con.execute(_INSERT_NEW, {"lo": lo, "hi": hi}).fetchone()
            except duckdb.Error as exc:
                raise WarehouseError(f"insert into {self.path} failed: {_first_line(exc)}") from exc
            finally:
                con.unregister("bcone_batch")
        return int(row[0]) if row else 0

    def query(self, sql: str, params: Params | None = None, *, tenant_id: str | None = None) -> QueryResult:
        ensure_read_only(sql)
        if tenant_id is not None:
            sql, params = scope_to_tenant(sql, params, tenant_id)
        values = used_params(sql, params)
        with self._connect(read_only=True) as con:
            try:
                relation = con.sql(sql, params=values or None)
                answer = None if relation is None else relation.to_arrow_table()
            except duckdb.Error as exc:
                raise WarehouseQueryFailed(_first_line(exc), field="sql") from exc
        return QueryResult(columns=[], rows=[]) if answer is None else arrow_to_result(answer)

    def erase_profiles(self, tenant_id: str, profile_ids: Sequence[str]) -> int:
        if not profile_ids:
            return 0
        where = "tenant_id = $tenant AND profile_id IN (SELECT unnest($ids))"
        params = {"tenant": tenant_id, "ids": list(profile_ids)}
        with self._connect() as con:
            try:
                con.execute("BEGIN")
                con.execute(
                    f"INSERT INTO {EVENTS_TABLE} ({_COLUMNS}) SELECT 'erased:' || CAST(uuid() AS VARCHAR), "
                    f"{ERASED_COPY_COLUMNS} FROM {EVENTS_TABLE} WHERE {where}",
                    params,
                )
                row = con.execute(f"DELETE FROM {EVENTS_TABLE} WHERE {where}", params).fetchone()
                con.execute("COMMIT")
                con.execute("CHECKPOINT")  # the deleted rows leave the file's live blocks now
            except duckdb.Error as exc:
                con.execute("ROLLBACK")
                raise WarehouseError(f"erase in {self.path} failed: {_first_line(exc)}") from exc
        return int(row[0]) if row else 0

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
        keys = check_column_names(order_by, "order_by")  # DuckDB keeps no sort key; checked alike
        ensure_read_only(select_sql)
        sql, merged = scope_to_tenant(select_sql, params, tenant_id)
        values = used_params(sql, merged)
        values[TENANT_PARAM] = tenant_id
        rows = f"SELECT CAST(${TENANT_PARAM} AS VARCHAR) AS tenant_id, s.* FROM ({sql}) AS s"
        with self._connect() as con:
            try:
                columns = [str(c[0]) for c in con.execute(f"DESCRIBE {sql}", values).fetchall()]
            except duckdb.Error as exc:
                raise WarehouseQueryFailed(_first_line(exc), field="select_sql") from exc
            _check_summary_columns(columns)
            unknown = sorted(set(keys) - set(columns))
            if unknown:
                raise WarehouseQueryFailed(
                    f"order_by names no column of the summary: {unknown}", field="order_by"
                )
            try:
                con.execute("BEGIN")
                con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS {rows} LIMIT 0", values)
                con.execute(
                    f"DELETE FROM {table} WHERE tenant_id = ${TENANT_PARAM}", {TENANT_PARAM: tenant_id}
                )
                # Stored in key order: DuckDB's per-block min/max then skip the blocks a range
                # filter on the leading keys cannot match (a month of a two-year summary).
                ordered = f" ORDER BY {', '.join(keys)}" if keys else ""
                row = con.execute(f"INSERT INTO {table} BY NAME {rows}{ordered}", values).fetchone()
                con.execute("COMMIT")
            except duckdb.Error as exc:
                con.execute("ROLLBACK")
                raise WarehouseError(f"refresh of {table} failed: {_first_line(exc)}") from exc
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._guard:
            base, self._base = self._base, None
        if base is not None:
            base.close()

    @contextmanager
    def _connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._guard:
            if self._base is None and self.path == MEMORY:
                raise WarehouseError("the warehouse is closed")
            if self._base is None and self._holds:
                self._base = self._open_file(read_only=False)
                # A bulk writer keeps a core busy reading its source (the flush reads the next
                # outbox batch meanwhile); DuckDB taking every core as well only adds switching.
                self._base.execute(f"SET threads = {max(1, (os.cpu_count() or 2) - 1)}")
            base = self._base
        if base is not None:
            con = base.cursor()  # a connection of its own, to the database that base keeps open
        else:
            # A file that does not exist yet cannot be opened read-only; reading it is then the
            # same as reading an empty warehouse, which the missing table reports clearly.
            con = self._open_file(read_only=read_only and Path(self.path).exists())
        try:
            con.execute("SET TimeZone = 'UTC'")  # date_trunc and friends work in UTC, as in ClickHouse
            yield con
        finally:
            con.close()

    def _open_file(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_wait_seconds
        pause = _FIRST_PAUSE_SECONDS
        while True:
            try:
                con = duckdb.connect(self.path, read_only=read_only)
                self.connections_opened += 1
                return con
            except duckdb.Error as exc:
                if not _is_lock_conflict(exc):
                    raise
                if time.monotonic() + pause > deadline:
                    raise WarehouseBusy(
                        f"{self.path} stayed locked for {self.lock_wait_seconds:g}s: {_first_line(exc)}"
                    ) from exc
            time.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE_SECONDS)


def _check_summary_columns(columns: Sequence[str]) -> None:
    if "tenant_id" in columns:
        raise WarehouseQueryFailed(
            "a summary's statement must not produce tenant_id: the table adds it", field="select_sql"
        )
    if len(set(columns)) != len(columns):
        raise WarehouseQueryFailed("a summary's columns need distinct names", field="select_sql")


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return any(message in text for message in _LOCK_MESSAGES)


def _first_line(exc: BaseException) -> str:
    lines: Any = str(exc).splitlines()
    return str(lines[0]) if lines else type(exc).__name__
