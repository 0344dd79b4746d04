"""The summary refresh as a background job, and the periodic task that schedules it.

``analytics.refresh_summaries`` rebuilds the summary tables (see :mod:`bcone.analytics._summaries`)
of every tenant whose events changed since the last build, or of one tenant (payload
``tenant_id``; ``force`` rebuilds even fresh ones). Each worker checks every
:data:`REFRESH_CHECK_SECONDS` whether an ``events.flush`` job has finished since the last refresh
was queued and, if so, enqueues one (a single dedupe key: one refresh queued or running at a
time). A tenant whose summaries are still fresh costs the job one small read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bcone.analytics import service
from bcone.core.db import Database, as_utc
from bcone.core.jobs import Job, JobContext, enqueue, job_handler
from bcone.core.periodic import periodic
from bcone.core.settings import get_settings
from bcone.core.tenancy import unscoped
from bcone.core.warehouse import open_warehouse

JOB = "analytics.refresh_summaries"
FLUSH_JOB = "events.flush"
REFRESH_DEDUPE_KEY = JOB
# Reports fall back to the raw events while the summaries are stale, so this is a matter of speed,
# not of correctness: at most every five minutes keeps the dashboard fast without rebuilding
# after every small flush.
REFRESH_CHECK_SECONDS = 300.0
# A refresh of ten million events takes about a minute on two cores; the lease leaves room.
REFRESH_LEASE_SECONDS = 1800.0


@job_handler(JOB, lease_seconds=REFRESH_LEASE_SECONDS)
def refresh_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``analytics.refresh_summaries``: payload ``tenant_id`` (optional) and ``force``."""
    tenant_id = payload.get("tenant_id") or None
    force = bool(payload.get("force", False))
    with open_warehouse(get_settings()) as warehouse:
        results = service.refresh_summaries(warehouse, tenant_id, force=force)
    ctx.progress(1.0, f"{len(results)} tenants")
    return {
        "tenants": {
            r.tenant_id: {"skipped": r.skipped, "events": r.events, "seconds": round(r.seconds, 3)}
            for r in results
        }
    }


@periodic("analytics.schedule_refresh", every_seconds=REFRESH_CHECK_SECONDS)
def schedule_refresh(db: Database) -> None:
    """Queue ``analytics.refresh_summaries`` when a flush finished after the last one was queued."""
    with db.session(write=False) as session:
        unscoped(session)
        flushed = session.scalar(
            select(func.max(Job.finished_at)).where(Job.name == FLUSH_JOB, Job.status == "succeeded")
        )
        queued = session.scalar(select(func.max(Job.created_at)).where(Job.name == JOB))
    if flushed is None or (queued is not None and as_utc(queued) >= as_utc(flushed)):
        return
    with db.session() as session:
        unscoped(session)
        enqueue(session, JOB, {}, dedupe_key=REFRESH_DEDUPE_KEY)
