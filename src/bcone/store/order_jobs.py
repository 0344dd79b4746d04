"""Background work of the orders side: unpaid orders whose stock hold expired are cancelled.

Every worker checks about once a minute (one indexed read) whether any held reservation has
expired, and queues one ``store.expire_orders`` job per tenant that has some (deduplicated while
queued or running). The job cancels those orders, giving back their stock and coupon uses; it is
safe to run twice (an order already cancelled or paid is skipped).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bcone.core.db import Database
from bcone.core.jobs import JobContext, enqueue, job_handler
from bcone.core.periodic import periodic
from bcone.core.tenancy import unscoped
from bcone.store import service
from bcone.store.order_models import StockReservation

EXPIRE_JOB = "store.expire_orders"
EXPIRY_CHECK_SECONDS = 60.0


@job_handler(EXPIRE_JOB)
def expire_orders_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Cancel the tenant's unpaid orders whose hold expired, in batches of 500."""
    cancelled = 0
    while True:
        with ctx.session() as session:
            done = service.expire_orders(session=session, limit=500)
        cancelled += done
        if done < 500:
            return {"cancelled": cancelled}


@periodic("store.schedule_expiry", every_seconds=EXPIRY_CHECK_SECONDS)
def schedule_expiry(db: Database) -> None:
    """Queue ``store.expire_orders`` for every tenant holding expired reservations."""
    now = datetime.now(UTC)
    with db.session(write=False) as session:
        unscoped(session)
        tenants = list(
            session.scalars(
                select(StockReservation.tenant_id)
                .where(StockReservation.status == "held", StockReservation.expires_at < now)
                .distinct()
            )
        )
    if not tenants:
        return
    with db.session() as session:
        unscoped(session)
        for tenant_id in tenants:
            enqueue(session, EXPIRE_JOB, {}, tenant_id=tenant_id, dedupe_key=f"{EXPIRE_JOB}:{tenant_id}")
