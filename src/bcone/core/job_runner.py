"""Claiming and running jobs: leases, retries with backoff, and the outcome of each attempt.

The public entry points are :func:`bcone.core.jobs.run_pending` and :mod:`bcone.core.worker`;
this module is their engine. See :mod:`bcone.core.jobs` for the guarantees.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, or_, select, update

from bcone.core.db import Database, utcnow
from bcone.core.jobs import (
    _HANDLERS,
    DEFAULT_LEASE_SECONDS,
    JobContext,
    _fenced_update,
    _jobs,
)

logger = logging.getLogger(__name__)

# Retries wait 10 s, 20 s, 40 s ... (doubling), never more than an hour.
RETRY_BASE_SECONDS = 10.0
RETRY_MAX_SECONDS = 3600.0
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    name: str
    tenant_id: str | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def _due(now: datetime) -> Any:
    c = _jobs.c
    return or_(
        and_(c.status == "queued", c.run_at <= now),
        and_(c.status == "running", c.locked_until < now, c.attempts < c.max_attempts),
    )


def claim_next(db: Database, *, worker_id: str, now: datetime | None = None) -> ClaimedJob | None:
    """Lease the next due job this process has a handler for, or None; safe with many workers."""
    if not _HANDLERS:
        return None
    now = now or utcnow()
    c = _jobs.c
    names = sorted(_HANDLERS)
    pick = (
        select(c.id)
        .where(_due(now), c.name.in_(names))
        .order_by(c.priority.desc(), c.run_at, c.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
        .scalar_subquery()
    )
    lease_until = case(
        {n: now + timedelta(seconds=_HANDLERS[n].lease_seconds) for n in names},
        value=c.name,
        else_=now + timedelta(seconds=DEFAULT_LEASE_SECONDS),
    )
    stmt = (
        update(_jobs)
        .where(c.id == pick, _due(now))
        .values(
            status="running",
            locked_by=worker_id,
            locked_until=lease_until,
            attempts=c.attempts + 1,
            started_at=now,
            updated_at=now,
        )
        .returning(c.id, c.name, c.tenant_id, c.payload, c.attempts, c.max_attempts)
    )
    # An idle poll only reads: on SQLite a write would take the database's single write lock.
    if not _exists(db, select(c.id).where(_due(now), c.name.in_(names)).limit(1)):
        return None
    with db.engine.begin() as conn:
        row = conn.execute(stmt).first()
    if row is None:
        return None
    return ClaimedJob(
        row.id, row.name, row.tenant_id, dict(row.payload or {}), row.attempts, row.max_attempts
    )


def fail_expired(db: Database, *, now: datetime | None = None) -> int:
    """Mark failed the jobs whose worker vanished on their last allowed attempt."""
    now = now or utcnow()
    c = _jobs.c
    stmt = (
        update(_jobs)
        .where(c.status == "running", c.locked_until < now, c.attempts >= c.max_attempts)
        .values(
            status="failed",
            error="the worker stopped before finishing (lease expired) on the last attempt",
            locked_by=None,
            locked_until=None,
            finished_at=now,
            updated_at=now,
        )
    )
    if not _exists(db, select(c.id).where(c.status == "running", c.locked_until < now).limit(1)):
        return 0
    with db.engine.begin() as conn:
        return int(conn.execute(stmt).rowcount)


def _exists(db: Database, query: Select[Any]) -> bool:
    # A read of its own: on SQLite a transaction that read and then writes can fail at once with
    # "database is locked" (its snapshot went stale) instead of waiting for the lock.
    with db.engine.connect() as conn:
        return conn.execute(query).first() is not None


def run_due_jobs(
    db: Database,
    *,
    worker_id: str,
    limit: int | None = None,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run due jobs until none is due (or ``limit``), stopping between two jobs once ``stop`` is set."""
    fail_expired(db, now=now)
    ran = 0
    while (limit is None or ran < limit) and not (stop is not None and stop.is_set()):
        job = claim_next(db, worker_id=worker_id, now=now)
        if job is None:
            break
        run_claimed(db, job, worker_id=worker_id, now=now)
        ran += 1
    return ran


def run_claimed(db: Database, job: ClaimedJob, *, worker_id: str, now: datetime | None = None) -> bool:
    """Run one claimed job's handler and record the outcome; True when it succeeded.

    A retry is due ``retry_delay`` after ``now`` (the clock the caller claimed with; default: the
    time of the failure).
    """
    handler = _HANDLERS[job.name]
    ctx = JobContext(db, job.id, job.name, job.tenant_id, job.attempts, worker_id, handler.lease_seconds)
    keeper = _LeaseKeeper(ctx)
    keeper.start()
    try:
        result = handler.fn(ctx, job.payload)
        if result is not None:
            json.dumps(result)  # a result that cannot be stored is a failure of this attempt
    except Exception as exc:
        keeper.stop()
        logger.exception("job %s (%s) failed on attempt %d", job.id, job.name, job.attempts)
        _record_failure(db, job, worker_id, exc, now=now or utcnow())
        return False
    keeper.stop()
    _finish(db, job.id, worker_id, status="succeeded", result=result, progress=1.0)
    return True


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: doubling, capped."""
    return timedelta(seconds=min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1)))


def _record_failure(db: Database, job: ClaimedJob, worker_id: str, exc: Exception, *, now: datetime) -> None:
    error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    if job.attempts >= job.max_attempts:
        _finish(db, job.id, worker_id, status="failed", error=error)
        return
    _fenced_update(
        db,
        job.id,
        worker_id,
        status="queued",
        run_at=now + retry_delay(job.attempts),
        error=error,
        locked_by=None,
        locked_until=None,
    )


def _finish(db: Database, job_id: str, worker_id: str, **values: Any) -> None:
    values.update(locked_by=None, locked_until=None, finished_at=utcnow())
    if not _fenced_update(db, job_id, worker_id, **values):
        logger.warning("job %s: lease lost before it finished; the outcome is the other worker's", job_id)


class _LeaseKeeper(threading.Thread):
    """Renews a running job's lease every third of its length until stopped."""

    def __init__(self, ctx: JobContext) -> None:
        super().__init__(name=f"lease-{ctx.job_id}", daemon=True)
        self._ctx = ctx
        self._stopped = threading.Event()

    def run(self) -> None:
        ctx = self._ctx
        while not self._stopped.wait(ctx.lease_seconds / 3):
            until = utcnow() + timedelta(seconds=ctx.lease_seconds)
            try:
                if not _fenced_update(ctx.db, ctx.job_id, ctx.worker_id, locked_until=until):
                    return
            except Exception:  # a transient database error must not kill the keeper
                logger.warning("job %s: could not renew the lease", ctx.job_id, exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
