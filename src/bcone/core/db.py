"""SQLAlchemy 2.0: the declarative base, engines for SQLite (WAL) and PostgreSQL, sessions.

The entry point owns the transaction: a request, a job or a CLI command opens one session with
:func:`Database.session` and commits once. Services only ``flush()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool

from bcone.core.ids import new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# How long SQLite waits for another writer before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_BEGIN_OPTION = "sqlite_begin"
# session.info key: True for a unit of work that may write (on SQLite it holds the write lock).
WRITES_KEY = "writes"
# Threads that run blocking database work for async request handlers (run_blocking). Readers get
# few: their work is mostly Python holding the GIL, and every extra thread contending for it costs
# CPU (measured on 2 cores: 1.6x the CPU per request with 40 threads, 1.3x with 4). Units of work
# that may write get as many as FastAPI's own thread pool (40), because on SQLite they wait for
# the write lock; they have their own threads so that waiting never holds up a read.
DATABASE_READ_THREADS = 2
DATABASE_WRITE_THREADS = 40

P = ParamSpec("P")
R = TypeVar("R")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (SQLite hands back naive ones, stored as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


def normalise_url(url: str) -> str:
    """Map plain ``postgresql://`` URLs to the psycopg 3 driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL, foreign keys and a busy timeout."""
    url = normalise_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        in_memory = database in ("", ":memory:")
        if not in_memory:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        if in_memory:
            kwargs["poolclass"] = StaticPool
        else:
            # SQLite connections are cheap; size the pool to FastAPI's thread pool (40) so a
            # request never waits for a connection that another idle thread holds.
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 20
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine, wal=not in_memory)
        return engine
    kwargs["pool_pre_ping"] = True
    kwargs["pool_size"] = 10
    kwargs["max_overflow"] = 20
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; let SQLAlchemy
    # emit BEGIN itself (the documented recipe), so nested transactions work in tests.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes fails at once with "database is
        # locked" when another writer committed in between (SQLite cannot wait there). Units of
        # work that may write therefore take the write lock up front (BEGIN IMMEDIATE), where
        # SQLite does wait (busy_timeout); read-only ones stay deferred and run concurrently.
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        if mode == "DEFERRED":
            # Straight to the driver: a deferred BEGIN takes no lock and cannot fail, and every
            # read request starts with one, where the full statement machinery costs more.
            conn.connection.driver_connection.execute("BEGIN DEFERRED")
        else:
            conn.exec_driver_sql(f"BEGIN {mode}")


_executors: dict[bool, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def _database_executor(writes: bool) -> ThreadPoolExecutor:
    executor = _executors.get(writes)
    if executor is None:
        with _executors_lock:
            executor = _executors.get(writes)
            if executor is None:
                size = DATABASE_WRITE_THREADS if writes else DATABASE_READ_THREADS
                name = "bcone-db-write" if writes else "bcone-db-read"
                executor = _executors[writes] = ThreadPoolExecutor(size, thread_name_prefix=name)
    return executor


def _writes(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a call works in a unit of work that may write (a session among its arguments)."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, Session):
            return bool(value.info.get(WRITES_KEY))
    return False


async def run_blocking(fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``fn`` in a database thread and return its result, never blocking the event loop.

    For async request handlers and dependencies: database calls (and waits for a pooled
    connection or SQLite's write lock) happen in the thread, so other requests keep being served.
    A call whose session (an argument) may write runs in the writers' threads, others in the
    readers' (see ``DATABASE_READ_THREADS``).
    A thinner hop than FastAPI's thread pool for sync functions (anyio's ``to_thread``), which
    costs about three times as much CPU per call. ``fn`` sees the caller's context variables.
    Like anyio's, a cancelled caller still waits for ``fn`` to finish (it may be using the
    request's session), then the cancellation goes on.
    """
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    future = _database_executor(_writes(args, kwargs)).submit(call)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        while not future.done():  # not started yet: cancelled with the caller; running: wait
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait((asyncio.wrap_future(future),))
        raise


def end_unit_of_work(session: Session, *, commit: bool) -> None:
    """Commit (or roll back) and close ``session``; a failed commit is rolled back and raised."""
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, echo=echo)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        # Same pool; on SQLite its transactions begin IMMEDIATE (ignored by other databases).
        self.write_sessionmaker = sessionmaker(
            bind=self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def open_session(self, *, tenant_id: str | None = None, write: bool = True) -> Session:
        """A new session (no I/O yet: it takes a connection on first use); end it with
        :func:`end_unit_of_work`. Prefer :meth:`session`, which does both."""
        session = (self.write_sessionmaker if write else self.sessionmaker)()
        session.info[WRITES_KEY] = write
        if tenant_id is not None:
            session.info["tenant_id"] = tenant_id
        return session

    @contextmanager
    def session(self, *, tenant_id: str | None = None, write: bool = True) -> Iterator[Session]:
        """One unit of work: commits once on success, rolls back on any error.

        ``write=False`` marks a read-only unit of work (GET requests): on SQLite it does not take
        the write lock, so reads run side by side.
        """
        session = self.open_session(tenant_id=tenant_id, write=write)
        try:
            yield session
        except BaseException:
            end_unit_of_work(session, commit=False)
            raise
        end_unit_of_work(session, commit=True)

    def dispose(self) -> None:
        self.engine.dispose()
