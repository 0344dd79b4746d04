"""The flush: outbox rows to the warehouse, in batches, exactly once.

Each batch is claimed, written to the warehouse (which skips events it already holds), then
deleted from the outbox in the claim's transaction: a crash before the delete leaves the rows
to the next flush, and the warehouse's check makes that second write a no-op for what already
arrived. So a retry never doubles an event and a crash never loses one.

Claims:

- PostgreSQL: ``SELECT ... ORDER BY seq LIMIT n FOR UPDATE SKIP LOCKED``. Several flushers run
  side by side, each on other rows; the claim's transaction deletes the rows.
- SQLite: rows are read without a lock, then, under ``BEGIN IMMEDIATE`` (the single write lock),
  checked still there (``count`` over their seq range) and deleted by that range. Rows commit in
  seq order under that lock, so no row can appear inside a range already read; if another
  flusher took some of them meanwhile, what is left in the range is read again under the lock.

The next batch is claimed and converted to Arrow in a helper thread while this one is written
(read-ahead of one batch), so reading the outbox and writing the warehouse use both cores.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import pyarrow as pa  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.pool import StaticPool

from bcone.core.db import Database
from bcone.core.errors import ValidationFailed
from bcone.core.events.outbox import EPOCH, MICROSECOND, outbox
from bcone.core.jobs import JobContext, enqueue, job_handler
from bcone.core.periodic import periodic
from bcone.core.settings import get_settings
from bcone.core.tenancy import unscoped
from bcone.core.warehouse import EVENT_ARROW_SCHEMA, Warehouse, open_warehouse

# How long the flush keeps the warehouse's write resources between releases. For DuckDB that
# is the file lock: a request or a CLI command wanting the file waits about this long, while the
# flush saves the checkpoint that each open and close of the file costs.
WAREHOUSE_HOLD_SECONDS = 2.0

_COLUMNS = (
    "seq, event_id, tenant_id, ts_us, type, profile_id, identities, org_id, sku, region, amount, properties"
)
_ROW = pa.struct([pa.field("seq", pa.int64()), *EVENT_ARROW_SCHEMA])
_TS = _ROW.get_field_index("ts")
_ROW_AS_READ = pa.struct([f.with_type(pa.int64()) if i == _TS else f for i, f in enumerate(_ROW)])


@dataclass(frozen=True)
class FlushResult:
    """What one :func:`flush_outbox` call moved."""

    events: int
    batches: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Claim:
    """One batch of outbox rows (Arrow, seq first) and, on PostgreSQL, the open transaction
    that holds their row locks and will delete them."""

    rows: Any
    lo: int
    hi: int
    conn: Any | None = None

    def release(self) -> None:
        if self.conn is not None:
            _rollback_quietly(self.conn, postgres=True)
            self.conn.close()
            self.conn = None


def flush_outbox(
    db: Database,
    warehouse: Warehouse,
    *,
    batch_size: int | None = None,
    max_batches: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> FlushResult:
    """Move outbox rows to the warehouse, oldest first, until the outbox is empty (or
    ``max_batches``); ``on_batch`` hears how many events each batch moved."""
    size = batch_size or get_settings().outbox_batch_size
    if size <= 0:
        raise ValidationFailed("batch_size must be positive", field="batch_size")
    started = time.perf_counter()
    moved = batches = 0
    pending: _Claim | None = None
    claims = _claims(db, size, max_batches)
    # An in-memory SQLite database is one connection: reading ahead would share it across threads.
    ahead = None if isinstance(db.engine.pool, StaticPool) else _ReadAhead(claims)
    try:
        pending = next(ahead or claims, None)
        while pending is not None:
            # Hold the warehouse for a window of batches, then let go so that other users of an
            # embedded DuckDB file get their turn.
            window_ends = time.monotonic() + WAREHOUSE_HOLD_SECONDS
            with warehouse.hold():
                while pending is not None:
                    count = _move(db, warehouse, pending)
                    pending = None
                    if count:
                        moved += count
                        batches += 1
                        if on_batch is not None:
                            on_batch(count)
                    pending = next(ahead or claims, None)
                    if time.monotonic() >= window_ends:
                        break
    finally:
        if pending is not None:
            pending.release()
        if ahead is not None:
            ahead.close()
        claims.close()
    return FlushResult(events=moved, batches=batches, seconds=time.perf_counter() - started)


def _claims(db: Database, size: int, max_batches: int | None) -> Generator[_Claim, None, None]:
    """The batches to flush, oldest first: claimed (PostgreSQL) or read for checking (SQLite)."""
    batches = _claim_postgres(db, size) if db.dialect == "postgresql" else _read_sqlite(db, size)
    with contextlib.closing(batches):  # gives the SQLite reader back at once if stopped early
        for taken, claim in enumerate(batches, start=1):
            yield claim
            if claim.rows.num_rows < size or taken == max_batches:
                return  # the outbox ran dry, or enough batches


def _claim_postgres(db: Database, size: int) -> Generator[_Claim, None, None]:
    while True:
        conn = db.engine.raw_connection()
        try:
            cur = conn.cursor()
            cur.execute(
                f"SELECT {_COLUMNS} FROM outbox ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED", (size,)
            )
            rows = cur.fetchall()
        except BaseException:
            _rollback_quietly(conn, postgres=True)
            conn.close()
            raise
        if not rows:
            _rollback_quietly(conn, postgres=True)
            conn.close()
            return
        yield _Claim(_rows_to_arrow(rows), rows[0][0], rows[-1][0], conn)


def _read_sqlite(db: Database, size: int) -> Generator[_Claim, None, None]:
    reader = db.engine.raw_connection()
    try:
        cur = reader.cursor()
        after = 0
        while True:
            cur.execute(f"SELECT {_COLUMNS} FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?", (after, size))
            rows = cur.fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield _Claim(_rows_to_arrow(rows), rows[0][0], after)
    finally:
        reader.close()


def _move(db: Database, warehouse: Warehouse, claim: _Claim) -> int:
    """Write one claimed batch to the warehouse, then delete it from the outbox and commit."""
    if claim.conn is not None:
        conn, claim.conn = claim.conn, None
        try:
            warehouse.insert_events(claim.rows.drop_columns(["seq"]))
            # Only now, with the events safe in the warehouse, may they leave the outbox.
            seqs = claim.rows.column("seq").to_pylist()
            conn.cursor().execute("DELETE FROM outbox WHERE seq = ANY(%s::bigint[])", (seqs,))
            conn.commit()
        except BaseException:
            _rollback_quietly(conn, postgres=True)
            raise
        finally:
            conn.close()
        return int(claim.rows.num_rows)
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute("SELECT count(*) FROM outbox WHERE seq BETWEEN ? AND ?", (claim.lo, claim.hi))
        rows = claim.rows
        counted = cur.fetchone()
        if (counted[0] if counted else 0) != rows.num_rows:
            # Another flusher took some of these rows since they were read: take what is left.
            cur.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE seq BETWEEN ? AND ? ORDER BY seq", (claim.lo, claim.hi)
            )
            rows = _rows_to_arrow(cur.fetchall())
        if rows.num_rows:
            warehouse.insert_events(rows.drop_columns(["seq"]))
            cur.execute("DELETE FROM outbox WHERE seq BETWEEN ? AND ?", (claim.lo, claim.hi))
        cur.execute("COMMIT")
        return int(rows.num_rows)
    except BaseException:
        _rollback_quietly(conn, postgres=False)
        raise
    finally:
        conn.close()


def _rollback_quietly(conn: Any, *, postgres: bool) -> None:
    # The original error is what matters; a failing rollback (no transaction begun, a lost
    # connection) must not hide it, and the pool discards a broken connection anyway.
    with contextlib.suppress(Exception):
        if postgres:
            conn.rollback()
        else:
            conn.cursor().execute("ROLLBACK")


def _rows_to_arrow(rows: Sequence[Any]) -> Any:
    """Outbox rows (seq, then the event columns) as one Arrow table, converted in C++ in one
    pass; ``ts_us`` becomes the warehouse's UTC timestamp without leaving Arrow."""
    if not rows:
        return pa.Table.from_pylist([], schema=pa.schema(list(_ROW)))
    columns = pa.array(rows, type=_ROW_AS_READ).flatten()
    columns[_TS] = columns[_TS].cast(pa.timestamp("us", tz="UTC"))
    return pa.Table.from_arrays(columns, schema=pa.schema(list(_ROW)))


_END = object()


class _ReadAhead:
    """Runs the claims iterator one batch ahead in a helper thread."""

    def __init__(self, claims: Iterator[_Claim]) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(claims,), name="outbox-read-ahead", daemon=True
        )
        self._thread.start()

    def __iter__(self) -> Iterator[_Claim]:
        return self

    def __next__(self) -> _Claim:
        item = self._queue.get()
        if item is _END:
            self._queue.put(_END)  # stay exhausted
            raise StopIteration
        if isinstance(item, BaseException):
            raise item
        return cast(_Claim, item)

    def _run(self, claims: Iterator[_Claim]) -> None:
        try:
            for claim in claims:
                if not self._offer(claim):
                    claim.release()
                    return
            self._offer(_END)
        except BaseException as exc:
            self._offer(exc)

    def _offer(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Stop reading ahead and give back a batch that was claimed but not moved."""
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(queue.Empty):
            while True:
                item = self._queue.get_nowait()
                if isinstance(item, _Claim):
                    item.release()


@dataclass(frozen=True)
class OutboxStats:
    """The outbox backlog: events waiting for the warehouse, their time span and commonest types."""

    backlog: int
    oldest: datetime | None
    newest: datetime | None
    by_type: list[tuple[str, int]]


def outbox_stats(db: Database, *, top_types: int = 10) -> OutboxStats:
    """How many events wait in the outbox, the oldest and newest, and the commonest types."""
    with db.engine.connect() as conn:
        count, oldest, newest = conn.execute(
            select(func.count(), func.min(outbox.c.ts_us), func.max(outbox.c.ts_us))
        ).one()
        by_type = (
            conn.execute(
                select(outbox.c.type, func.count().label("n"))
                .group_by(outbox.c.type)
                .order_by(func.count().desc(), outbox.c.type)
                .limit(top_types)
            ).all()
            if top_types > 0 and count
            else []
        )
    return OutboxStats(
        backlog=int(count),
        oldest=None if oldest is None else EPOCH + int(oldest) * MICROSECOND,
        newest=None if newest is None else EPOCH + int(newest) * MICROSECOND,
        by_type=[(str(t), int(n)) for t, n in by_type],
    )


@job_handler("events.flush")
def flush_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``events.flush``: move the outbox to the configured warehouse.

    Payload (all optional): ``batch_size``, ``max_batches``. Safe to run again after a crash:
    the warehouse skips events it already holds.
    """
    backlog = outbox_stats(ctx.db, top_types=0).backlog
    moved = 0

    def report(count: int) -> None:
        nonlocal moved
        moved += count
        ctx.progress(moved / backlog if backlog else 1.0, f"{moved} events")

    with open_warehouse(get_settings()) as warehouse:
        result = flush_outbox(
            ctx.db,
            warehouse,
            batch_size=payload.get("batch_size"),
            max_batches=payload.get("max_batches"),
            on_batch=report,
        )
    return {"events": result.events, "batches": result.batches, "seconds": round(result.seconds, 3)}


# How often each worker checks the outbox for events to flush. Small enough that the overview
# is at most a few seconds behind; the check is one indexed read when the outbox is empty.
FLUSH_CHECK_SECONDS = 2.0
FLUSH_DEDUPE_KEY = "events.flush"


@periodic("events.schedule_flush", every_seconds=FLUSH_CHECK_SECONDS)
def schedule_flush(db: Database) -> None:
    """While the outbox holds events, make sure one ``events.flush`` job is queued or running."""
    with db.session(write=False) as session:
        unscoped(session)
        if session.execute(select(outbox.c.seq).limit(1)).first() is None:
            return
    with db.session() as session:
        unscoped(session)
        enqueue(session, "events.flush", {}, dedupe_key=FLUSH_DEDUPE_KEY)
