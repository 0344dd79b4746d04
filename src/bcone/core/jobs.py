"""Background jobs: one interface, in-process by default, ``bcone worker`` processes in production.

A service calls :func:`enqueue` inside its own transaction, so a job exists if and only if the
caller commits. Workers claim due jobs one at a time under a lease: on PostgreSQL with
``SELECT ... FOR UPDATE SKIP LOCKED`` (many workers never wait on each other), on SQLite with one
atomic ``UPDATE ... RETURNING`` (writers are serialised by the database). While a handler runs, a
lease keeper extends the lease; a worker that dies leaves a lease that expires, and the job is
claimed again. Every state change after the claim is fenced by ``locked_by``: a worker that lost
its lease cannot overwrite the outcome of the worker that took over.

Handlers run at least once: one that crashes after committing its work but before the job is
marked done runs again, so a handler must be idempotent (natural keys, ``ON CONFLICT``, checks).
The worker loop itself lives in :mod:`bcone.core.worker`.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.dml import Update

from bcone.core.db import SQLITE_BUSY_TIMEOUT_MS, Base, Database, IdMixin, TimestampMixin, utcnow
from bcone.core.ids import new_id
from bcone.core.tenancy import TENANT_KEY, unscoped

logger = logging.getLogger(__name__)

JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
JOB_STATES: tuple[JobState, ...] = ("queued", "running", "succeeded", "failed", "cancelled")

# A lease long enough that the keeper (every third of it) renews it well before it runs out,
# short enough that a crashed worker's job is taken over within a minute.
DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_MAX_ATTEMPTS = 3
# Progress is best effort: on SQLite it never waits longer than this for the write lock (the
# handler itself may hold it), it skips the update instead.
PROGRESS_BUSY_TIMEOUT_MS = 200

_JSON = JSON().with_variant(JSONB(), "postgresql")
_ACTIVE = "status IN ('queued', 'running')"


class Job(IdMixin, TimestampMixin, Base):
    """One unit of background work and its outcome."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        Index("ix_jobs_status_run_at", "status", "run_at"),
        # One pending job per dedupe key (e.g. a single queued "events.flush").
        Index(
            "uq_jobs_dedupe_key_active",
            "dedupe_key",
            unique=True,
            postgresql_where=text(_ACTIVE),
            sqlite_where=text(_ACTIVE),
        ),
    )

    tenant_id: Mapped[str | None] = mapped_column(String(36), index=True)  # None: platform work
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(_JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher runs first
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=DEFAULT_MAX_ATTEMPTS)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_message: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[dict[str, Any] | None] = mapped_column(_JSON)
    error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobStatus(BaseModel):
    """What the console shows for a job: state, progress bar, outcome."""

    id: str
    tenant_id: str | None
    name: str
    status: JobState
    progress: float
    progress_message: str | None
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    error: str | None


class LeaseLost(RuntimeError):
    """The job was taken over by another worker (expired lease) or cancelled; stop working on it."""


# --- registry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload."""

    db: Database
    job_id: str
    name: str
    tenant_id: str | None
    attempt: int
    worker_id: str
    lease_seconds: float = DEFAULT_LEASE_SECONDS

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work bound to the job's tenant (unscoped for platform jobs); commits once."""
        with self.db.session(tenant_id=self.tenant_id) as session:
            if self.tenant_id is None:
                unscoped(session)
            yield session

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Record progress (0..1) in its own short transaction; raises :class:`LeaseLost`."""
        write_progress(self, min(1.0, max(0.0, float(fraction))), message)


JobFunction = Callable[[JobContext, dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class JobHandler:
    name: str
    fn: JobFunction
    lease_seconds: float


_HANDLERS: dict[str, JobHandler] = {}


def job_handler(
    name: str, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
) -> Callable[[JobFunction], JobFunction]:
    """Register ``fn(ctx, payload) -> dict | None`` as the handler of jobs called ``name``."""
    if lease_seconds <= 0:
        raise ValueError("lease_seconds must be positive")

    def register(fn: JobFunction) -> JobFunction:
        existing = _HANDLERS.get(name)
        same = existing is not None and (existing.fn.__module__, existing.fn.__qualname__) == (
            fn.__module__,
            fn.__qualname__,
        )
        if existing is not None and not same:
            raise ValueError(
                f"job {name!r} already has a handler: {existing.fn.__module__}.{existing.fn.__qualname__}"
            )
        _HANDLERS[name] = JobHandler(name, fn, lease_seconds)
        return fn

    return register


def registered_jobs() -> list[str]:
    """Names of the jobs this process can run."""
    return sorted(_HANDLERS)


# --- enqueue, read, cancel -------------------------------------------------------------------


def enqueue(
    session: Session,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    tenant_id: str | None = None,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    priority: int = 0,
) -> str:
    """Add a job to the caller's transaction and return its id; it exists only if the caller commits.

    With ``dedupe_key``, while a job with that key is queued or running, that job's id is returned
    and nothing is added. ``tenant_id=None`` is platform work; a session bound to a tenant may
    only enqueue jobs for that tenant or for the platform.
    """
    bound = session.info.get(TENANT_KEY)
    if tenant_id is not None and bound is not None and tenant_id != bound:
        raise ValueError("a tenant's unit of work cannot enqueue a job for another tenant")
    if not name or max_attempts < 1:
        raise ValueError("a job needs a name and max_attempts >= 1")
    payload = payload or {}
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"job payload must be JSON: {exc}") from exc
    if run_at is not None:
        if run_at.tzinfo is None:
            raise ValueError("run_at must be timezone-aware")
        run_at = run_at.astimezone(UTC)
    if dedupe_key is not None and (existing := _active_with_key(session, dedupe_key)) is not None:
        return existing
    job = Job(
        id=new_id(),
        tenant_id=tenant_id,
        name=name,
        payload=payload,
        status="queued",
        priority=priority,
        attempts=0,
        max_attempts=max_attempts,
        run_at=run_at or utcnow(),
        progress=0.0,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        session.add(job)
    else:
        # A concurrent transaction may add the same key first: the unique index says so, and
        # the savepoint keeps the caller's transaction usable.
        try:
            with session.begin_nested():
                session.add(job)
        except IntegrityError:
            existing = _active_with_key(session, dedupe_key)
            if existing is None:
                raise
            return existing
    session.info[_ENQUEUED_KEY] = True
    return job.id


def _active_with_key(session: Session, dedupe_key: str) -> str | None:
    stmt = select(Job.id).where(Job.dedupe_key == dedupe_key, Job.status.in_(("queued", "running")))
    return session.scalar(stmt)


def get_job(session: Session, job_id: str) -> JobStatus | None:
    """The job's status, or None. Not tenant-scoped: the caller checks ``tenant_id``."""
    job = session.get(Job, job_id)
    if job is None:
        return None
    return JobStatus(
        id=job.id,
        tenant_id=job.tenant_id,
        name=job.name,
        status=job.status,
        progress=job.progress,
        progress_message=job.progress_message,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        run_at=_aware(job.run_at),
        created_at=_aware(job.created_at),
        started_at=_aware(job.started_at) if job.started_at else None,
        finished_at=_aware(job.finished_at) if job.finished_at else None,
        result=job.result,
        error=job.error,
    )


def cancel_job(session: Session, job_id: str) -> bool:
    """Cancel a queued job; returns False when it is already running or finished."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="cancelled", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def _aware(value: datetime) -> datetime:
    # SQLite stores the UTC wall time without its offset.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- wake-ups: a committed enqueue wakes in-process workers at once ---------------------------

_ENQUEUED_KEY = "bcone_jobs_enqueued"
_wake_events: set[threading.Event] = set()
_wake_lock = threading.Lock()


def register_wakeup(wake: threading.Event) -> None:
    with _wake_lock:
        _wake_events.add(wake)


def unregister_wakeup(wake: threading.Event) -> None:
    with _wake_lock:
        _wake_events.discard(wake)


@event.listens_for(Session, "after_commit")
def _wake_workers(session: Session) -> None:
    if session.info.pop(_ENQUEUED_KEY, False):
        with _wake_lock:
            for wake in _wake_events:
                wake.set()


@event.listens_for(Session, "after_rollback")
def _forget_enqueued(session: Session) -> None:
    session.info.pop(_ENQUEUED_KEY, None)


# --- leases and progress, shared by the runner ------------------------------------------------

_jobs: Table = Job.__table__  # type: ignore[assignment]


def _fenced(job_id: str, worker_id: str, values: dict[str, Any]) -> Update:
    # Every change after the claim names the worker holding the lease: one that lost it changes nothing.
    c = _jobs.c
    values.setdefault("updated_at", utcnow())
    return (
        update(_jobs).where(c.id == job_id, c.status == "running", c.locked_by == worker_id).values(**values)
    )


def _fenced_update(db: Database, job_id: str, worker_id: str, **values: Any) -> bool:
    with db.engine.begin() as conn:
        return bool(conn.execute(_fenced(job_id, worker_id, values)).rowcount)


def write_progress(ctx: JobContext, fraction: float, message: str | None) -> None:
    """Store progress and renew the lease, fenced by the worker; see :meth:`JobContext.progress`."""
    values: dict[str, Any] = {
        "progress": fraction,
        "progress_message": None if message is None else message[:500],
        "locked_until": utcnow() + timedelta(seconds=ctx.lease_seconds),
    }
    if ctx.db.dialect != "sqlite":
        held = _fenced_update(ctx.db, ctx.job_id, ctx.worker_id, **values)
    else:
        with ctx.db.engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={PROGRESS_BUSY_TIMEOUT_MS}")
            conn.commit()
            try:
                held = bool(conn.execute(_fenced(ctx.job_id, ctx.worker_id, values)).rowcount)
                conn.commit()
            except OperationalError:
                # Another connection (often the handler's own) holds the write lock: skip this update.
                conn.rollback()
                logger.debug("job %s: progress not recorded, the database is busy", ctx.job_id)
                return
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                conn.commit()
    if not held:
        raise LeaseLost(f"job {ctx.job_id} is no longer held by {ctx.worker_id}")


def run_pending(
    db: Database, *, worker_id: str, limit: int | None = None, now: datetime | None = None
) -> int:
    """Run due jobs one after another until none is due (or ``limit``); returns how many ran."""
    # The runner imports this module; importing it here, at call time, keeps the import one-way.
    from bcone.core.job_runner import run_due_jobs

    return run_due_jobs(db, worker_id=worker_id, limit=limit, now=now)
