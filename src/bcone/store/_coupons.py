"""Coupons: a fixed amount off, a percentage off, or an amount off above a spend threshold.

A coupon belongs to one tenant (a code of another brand is simply unknown), is valid inside its
window and while ``active``, and may be limited per consumer and in total. Both limits are
counted by conditional updates (``used < limit``), so they hold under concurrency; a cancelled
or expired order gives its use back.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.ids import new_id
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant
from bcone.store.errors import CouponExists, CouponNotApplicable, CouponNotFound
from bcone.store.order_models import Coupon, CouponUse
from bcone.store.order_schemas import CouponIn, CouponOut, CouponStatus

FIELD = "coupon_code"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _out(row: Coupon) -> CouponOut:
    return CouponOut.model_validate(row, from_attributes=True)


def _by_code(session: Session, code: str) -> Coupon | None:
    return session.scalars(select(Coupon).where(Coupon.code == code.upper())).one_or_none()


def create_coupon(data: CouponIn, *, session: Session) -> CouponOut:
    """A coupon; codes are stored upper case and are unique within the brand."""
    values = data.model_dump()
    values["code"] = data.code.upper()
    if _by_code(session, values["code"]) is not None:
        raise CouponExists(f"a coupon {values['code']} exists", field="code")
    row = Coupon(used_count=0, **values)
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise CouponExists(f"a coupon {values['code']} exists", field="code") from None
    return _out(row)


def get_coupon(coupon_id: str, *, session: Session) -> CouponOut:
    row = session.get(Coupon, coupon_id)
    if row is None or row.tenant_id != current_tenant(session):
        raise CouponNotFound(f"no coupon {coupon_id}", field="coupon_id")
    return _out(row)


def set_coupon_status(coupon_id: str, status: CouponStatus, *, session: Session) -> CouponOut:
    row = session.scalars(select(Coupon).where(Coupon.id == coupon_id)).one_or_none()
    if row is None:
        raise CouponNotFound(f"no coupon {coupon_id}", field="coupon_id")
    row.status = status
    session.flush()
    return _out(row)


def list_coupons(
    params: PageParams, *, session: Session, status: CouponStatus | None = None
) -> Page[CouponOut]:
    """Coupons, newest first; ``q`` searches code and name."""
    stmt = select(Coupon).order_by(Coupon.created_at.desc(), Coupon.id)
    if status:
        stmt = stmt.where(Coupon.status == status)
    if params.q:
        q = params.q
        stmt = stmt.where(
            Coupon.code.contains(q.upper(), autoescape=True) | Coupon.name.contains(q, autoescape=True)
        )
    rows, total = paginate_rows(session, stmt, params)
    return Page(items=[_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size)


def discount_of(coupon: Coupon | CouponOut, subtotal_fen: int) -> int:
    """The discount a coupon gives on ``subtotal_fen`` (never more than the subtotal)."""
    if coupon.kind == "fixed":
        discount = coupon.amount_fen
    elif coupon.kind == "threshold":
        discount = coupon.amount_fen if subtotal_fen >= coupon.min_spend_fen else 0
    else:
        discount = subtotal_fen * coupon.percent_off // 100
        if coupon.max_discount_fen is not None:
            discount = min(discount, coupon.max_discount_fen)
    return max(0, min(discount, subtotal_fen))


def check_coupon(code: str, subtotal_fen: int, *, session: Session, now: datetime | None = None) -> Coupon:
    """The usable coupon ``code`` for an order of ``subtotal_fen``; 4xx naming ``coupon_code``."""
    now = now or datetime.now(UTC)
    row = _by_code(session, code)
    if row is None:
        raise CouponNotFound(f"there is no coupon {code.upper()}", field=FIELD)
    if row.status != "active":
        raise CouponNotApplicable(f"the coupon {row.code} is disabled", field=FIELD, reason="disabled")
    if row.starts_at is not None and _aware(row.starts_at) > now:
        raise CouponNotApplicable(
            f"the coupon {row.code} is not valid yet", field=FIELD, reason="not_started"
        )
    if row.ends_at is not None and _aware(row.ends_at) <= now:
        raise CouponNotApplicable(f"the coupon {row.code} has expired", field=FIELD, reason="expired")
    if row.min_spend_fen and subtotal_fen < row.min_spend_fen:
        raise CouponNotApplicable(
            f"the coupon {row.code} needs a spend of at least {row.min_spend_fen} fen",
            field=FIELD,
            reason="below_threshold",
        )
    if row.total_limit is not None and row.used_count >= row.total_limit:
        raise CouponNotApplicable(f"the coupon {row.code} is used up", field=FIELD, reason="used_up")
    return row


def take(session: Session, coupon: Coupon, consumer_key: str) -> None:
    """Count one use of ``coupon`` by ``consumer_key``; 4xx when a limit is reached."""
    stmt = update(Coupon).where(Coupon.id == coupon.id)
    if coupon.total_limit is not None:
        stmt = stmt.where(Coupon.used_count < coupon.total_limit)
    taken = session.execute(
        stmt.values(used_count=Coupon.used_count + 1).execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        raise CouponNotApplicable(f"the coupon {coupon.code} is used up", field=FIELD, reason="used_up")
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    limit = coupon.per_consumer_limit
    upsert = (
        insert(CouponUse)
        .values(
            id=new_id(),
            tenant_id=current_tenant(session),
            coupon_id=coupon.id,
            consumer_key=consumer_key,
            used=1,
        )
        .on_conflict_do_update(
            index_elements=["tenant_id", "coupon_id", "consumer_key"],
            set_={"used": CouponUse.used + 1},
            where=(CouponUse.used < limit) if limit is not None else None,
        )
        .returning(CouponUse.used)
    )
    if (limit is not None and limit < 1) or session.execute(upsert).first() is None:
        raise CouponNotApplicable(
            f"you have already used the coupon {coupon.code} {limit} time(s)",
            field=FIELD,
            reason="consumer_limit",
        )


def give_back(session: Session, coupon_id: str, consumer_key: str) -> None:
    """An order holding the coupon was cancelled or expired: its use counts no more."""
    session.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.used_count > 0)
        .values(used_count=Coupon.used_count - 1)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CouponUse)
        .where(CouponUse.coupon_id == coupon_id, CouponUse.consumer_key == consumer_key, CouponUse.used > 0)
        .values(used=CouponUse.used - 1)
        .execution_options(synchronize_session=False)
    )
