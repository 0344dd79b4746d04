"""Background job of the ledger: sending a payout batch to its provider.

The provider is called outside any database transaction (on SQLite a transaction that may write
holds the write lock, and a batch of transfers takes seconds): one short unit of work reads the
lines to send, the provider is called, another short unit of work records what it accepted. A
retried job sends the same lines again, which is safe because providers are idempotent per line
(WeChat Pay dedupes by ``out_bill_no``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bcone.core.jobs import JobContext, enqueue, job_handler
from bcone.core.tenancy import current_tenant
from bcone.ledger import service
from bcone.ledger.errors import ProviderNotConfigured
from bcone.ledger.wechatpay import WechatTransferProvider, config_for

SUBMIT_JOB = "ledger.submit_payout_batch"


def enqueue_submission(batch_id: str, *, session: Session) -> str:
    """Queue the submission of a WeChat Pay batch in the caller's unit of work (once at a time)."""
    return enqueue(
        session,
        SUBMIT_JOB,
        {"batch_id": batch_id},
        tenant_id=current_tenant(session),
        dedupe_key=f"{SUBMIT_JOB}:{batch_id}",
    )


@job_handler(SUBMIT_JOB, lease_seconds=300)
def submit_payout_batch(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    batch_id = str(payload["batch_id"])
    config = config_for(ctx.tenant_id)
    if config is None:
        raise ProviderNotConfigured("WeChat Pay is not configured for this tenant", field="provider")
    provider = WechatTransferProvider(config)
    with ctx.session() as session:
        lines = service.lines_to_submit(batch_id, provider.name, session=session)
    results = provider.submit(lines)
    with ctx.session() as session:
        batch = service.record_submission(batch_id, results, session=session)
    return {"batch_id": batch_id, "submitted": len(results), "status": batch.status}
