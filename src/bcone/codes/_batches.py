"""Batches: commission a counter range of codes for a SKU, list them, void a leaked one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuOut
from bcone.codes import _cache
from bcone.codes._space import locked_space
from bcone.codes.errors import BatchNotFound, BatchVoided, SkuWithoutGtin, UnknownSku
from bcone.codes.models import CodeBatch
from bcone.codes.schemas import BatchIn, BatchOut, BatchStatus
from bcone.core.db import utcnow
from bcone.core.errors import NotFound
from bcone.core.geo import require_division
from bcone.core.pagination import Page, PageParams, paginate_rows


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; bcone stores UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def batch_out(row: CodeBatch) -> BatchOut:
    return BatchOut(
        id=row.id,
        sku_id=row.sku_id,
        sku_code=row.sku_code,
        gtin=row.gtin,
        count=row.range_end - row.range_start,
        level=row.level,
        lot=row.lot,
        production_date=row.production_date,
        expiry_date=row.expiry_date,
        regions=list(row.regions or []),
        key_version=row.key_version,
        range_start=row.range_start,
        range_end=row.range_end,
        status=row.status,
        voided_at=aware(row.voided_at),
        void_reason=row.void_reason,
        created_at=aware(row.created_at) or row.created_at,
    )


def batch_row(session: Session, batch_id: str) -> CodeBatch:
    row = session.scalars(select(CodeBatch).where(CodeBatch.id == batch_id)).one_or_none()
    if row is None:
        raise BatchNotFound(f"no code batch {batch_id}", field="batch_id")
    return row


def _sku(data: BatchIn, session: Session) -> SkuOut:
    try:
        if data.sku_id:
            return catalog.get_sku(data.sku_id, session=session)
        assert data.sku_code is not None
        return catalog.get_sku_by_code(data.sku_code, session=session)
    except NotFound:
        field = "sku_id" if data.sku_id else "sku_code"
        raise UnknownSku(f"no SKU {data.sku_id or data.sku_code} in this catalog", field=field) from None


def create_batch(data: BatchIn, *, session: Session, secret_key: str) -> BatchOut:
    """Commission ``data.count`` codes for a SKU: one row holding a fresh counter range.

    The SKU must have a GTIN (codes are GS1 Digital Link URLs); the regions must be known
    division codes. The range comes from the tenant's counter under a row lock, so two batches
    never share a counter, and the batch uses the tenant's current key version.
    """
    sku = _sku(data, session)
    if not sku.gtin:
        raise SkuWithoutGtin(f"SKU {sku.sku_code} has no GTIN; add its barcode first", field="sku_id")
    for index, code in enumerate(data.regions):
        require_division(code, field=f"regions[{index}]")
    space = locked_space(session, secret_key=secret_key)
    start = space.next_counter
    space.next_counter = start + data.count
    row = CodeBatch(
        sku_id=sku.id,
        sku_code=sku.sku_code,
        gtin=sku.gtin,
        level=data.level,
        lot=data.lot or "",
        production_date=data.production_date,
        expiry_date=data.expiry_date,
        regions=sorted(set(data.regions)),
        key_version=space.current_key_version,
        range_start=start,
        range_end=start + data.count,
        status="active",
    )
    session.add(row)
    session.flush()
    _cache.forget_batches()
    return batch_out(row)


def get_batch(batch_id: str, *, session: Session) -> BatchOut:
    """One batch; 404 when unknown or another tenant's."""
    return batch_out(batch_row(session, batch_id))


def list_batches(
    params: PageParams,
    *,
    session: Session,
    status: BatchStatus | None = None,
    sku_id: str | None = None,
) -> Page[BatchOut]:
    """Batches, newest first; ``q`` searches SKU code, GTIN and lot."""
    stmt = select(CodeBatch).order_by(CodeBatch.range_start.desc())
    if params.q:
        q = params.q
        stmt = stmt.where(
            or_(
                CodeBatch.sku_code.icontains(q, autoescape=True),
                CodeBatch.gtin.icontains(q, autoescape=True),
                CodeBatch.lot.icontains(q, autoescape=True),
            )
        )
    if status:
        stmt = stmt.where(CodeBatch.status == status)
    if sku_id:
        stmt = stmt.where(CodeBatch.sku_id == sku_id)
    rows, total = paginate_rows(session, stmt, params)
    return Page(items=[batch_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size)


def void_batch(batch_id: str, *, session: Session, reason: str = "") -> BatchOut:
    """Withdraw a batch (its codes leaked): from now on every one of its codes checks not genuine."""
    row = batch_row(session, batch_id)
    if row.status == "voided":
        raise BatchVoided(f"batch {batch_id} is already voided", field="batch_id")
    row.status = "voided"
    row.voided_at = utcnow()
    row.void_reason = reason
    session.flush()
    _cache.forget_batches()
    return batch_out(row)
