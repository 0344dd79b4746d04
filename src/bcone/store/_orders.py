"""Orders: carts, checkout, payment, the order states, fulfilment actions, refunds, platform orders.

States::

    created ──pay──▶ paid ──assign──▶ assigned ──ship──▶ shipped ──deliver──▶ completed
       │                                  │   └──ready──▶ ready_for_pickup ──pickup──▶ completed
       └──cancel / expire──▶ cancelled    └──decline──▶ (next candidate) assigned | paid
    paid, assigned, shipped, ready_for_pickup, completed ──refund──▶ refunded

Every change locks the order row first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write
transactions are serial), checks the move is allowed (else 409 ``order_state_conflict``) and
records a timeline entry. Payments: a callback marks its payment ``succeeded`` only from
``pending`` under the same lock, so a callback delivered twice (or twice at once) pays the order
once. The storefront side (prices, bindings, commissions) is called through the store service.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuOut
from bcone.core import geo
from bcone.core.errors import NotFound
from bcone.core.events import append_event
from bcone.core.ids import new_id
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import bind_tenant, unscoped
from bcone.network import service as network
from bcone.store import _coupons, _fulfilment, _stock
from bcone.store._payments import PaymentProvider
from bcone.store.errors import (
    InvalidOrder,
    OrderNotFound,
    OrderStateConflict,
    OutOfStock,
    PaymentMismatch,
    PaymentNotFound,
)
from bcone.store.order_models import Cart, Order, OrderEvent, OrderLine, Payment
from bcone.store.order_schemas import (
    AddressIn,
    CartItemIn,
    CartLineOut,
    CartOut,
    Channel,
    CheckoutIn,
    ImportResult,
    OrderEventOut,
    OrderLineOut,
    OrderOut,
    OrderStatus,
    PaymentNotice,
    PaymentOut,
    PlatformOrderIn,
    QuoteOut,
)
from bcone.store.schemas import OrderForCommission, OrderLineForCommission

ACTIVE_STATUSES = ("paid", "assigned", "shipped", "ready_for_pickup")
REFUNDABLE = ("paid", "assigned", "shipped", "ready_for_pickup", "completed")


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- reading ---------------------------------------------------------------------------------


def _lines(session: Session, order_id: str) -> list[OrderLine]:
    return list(
        session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.position))
    )


def _out(
    session: Session, row: Order, *, detail: bool = False, lines: Sequence[OrderLine] | None = None
) -> OrderOut:
    out = OrderOut.model_validate(row, from_attributes=True)
    if detail:
        if lines is None:
            lines = _lines(session, row.id)
        out.lines = [OrderLineOut.model_validate(x, from_attributes=True) for x in lines]
        events = session.scalars(
            select(OrderEvent).where(OrderEvent.order_id == row.id).order_by(OrderEvent.at)
        )
        out.timeline = [OrderEventOut.model_validate(e, from_attributes=True) for e in events]
    return out


def _row(session: Session, order_id: str, *, lock: bool = False) -> Order:
    stmt = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).one_or_none()
    if row is None:
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    return row


def _in_scope(session: Session, row: Order, scope_org_id: str | None) -> None:
    """A partner sees orders its organisation (or one below it) fulfils or sold."""
    if scope_org_id is None:
        return
    subtree = set(network.organization_subtree_ids(scope_org_id, session=session))
    if row.assigned_org_id not in subtree and row.storefront_org_id not in subtree:
        raise OrderNotFound(f"no order {row.id}", field="order_id")


def get_order(order_id: str, *, session: Session, scope_org_id: str | None = None) -> OrderOut:
    """One order with its lines and timeline; 404 outside the tenant or the partner's scope."""
    row = _row(session, order_id)
    _in_scope(session, row, scope_org_id)
    return _out(session, row, detail=True)


def get_order_by_number(number: str, *, session: Session) -> OrderOut:
    row = session.scalars(select(Order).where(Order.number == number)).one_or_none()
    if row is None:
        raise OrderNotFound(f"no order {number}", field="number")
    return _out(session, row, detail=True)


def list_orders(
    params: PageParams,
    *,
    session: Session,
    status: OrderStatus | None = None,
    channel: Channel | None = None,
    storefront_id: str | None = None,
    assigned_org_id: str | None = None,
    consumer_key: str | None = None,
    scope_org_id: str | None = None,
) -> Page[OrderOut]:
    """Orders, newest first; ``q`` matches the number, the platform's id, the buyer's name or phone."""
    stmt = select(Order).order_by(Order.created_at.desc(), Order.id.desc())
    if status:
        stmt = stmt.where(Order.status == status)
    if channel:
        stmt = stmt.where(Order.channel == channel)
    if storefront_id:
        stmt = stmt.where(Order.storefront_id == storefront_id)
    if assigned_org_id:
        stmt = stmt.where(Order.assigned_org_id == assigned_org_id)
    if consumer_key:
        stmt = stmt.where(Order.consumer_key == consumer_key)
    if scope_org_id is not None:
        subtree = network.organization_subtree_ids(scope_org_id, session=session)
        stmt = stmt.where(or_(Order.assigned_org_id.in_(subtree), Order.storefront_org_id.in_(subtree)))
    if params.q:
        q = params.q
        stmt = stmt.where(
            or_(
                Order.number.contains(q, autoescape=True),
                Order.external_id.contains(q, autoescape=True),
                Order.buyer_name.contains(q, autoescape=True),
                Order.buyer_phone.contains(q, autoescape=True),
            )
        )
    rows, total = paginate_rows(session, stmt, params)
    return Page(
        items=[_out(session, r) for r in rows], total=total, page=params.page, page_size=params.page_size
    )


def list_orders_for_org(
    *,
    session: Session,
    org_id: str,
    params: PageParams | None = None,
    status: OrderStatus | None = None,
) -> Page[OrderOut]:
    """Orders an organisation fulfils (assigned to it), newest first: the partner portal's list."""
    return list_orders(params or PageParams(), session=session, status=status, assigned_org_id=org_id)


# --- timeline --------------------------------------------------------------------------------


def _log(
    session: Session,
    row: Order,
    action: str,
    *,
    actor: str = "",
    org_id: str | None = None,
    note: str = "",
    at: datetime | None = None,
) -> None:
    session.add(
        OrderEvent(
            order_id=row.id,
            action=action,
            status=row.status,
            actor=actor[:100],
            org_id=org_id,
            note=note[:300],
            at=at or _now(),
        )
    )


# --- pricing and carts -----------------------------------------------------------------------


def _sku(session: Session, value: str, field: str) -> SkuOut:
    from bcone.store.errors import UnknownSku

    def load() -> SkuOut | None:
        try:
            return catalog.get_sku(value, session=session)
        except NotFound:
            try:
                return catalog.get_sku_by_code(value, session=session)
            except NotFound:
                return None

    sku = _fulfilment.cached(session, ("sku", value), load)
    if sku is None:
        raise UnknownSku(f"no SKU {value!r}", field=field)
    return sku


def _unit_price(
    session: Session, storefront_id: str | None, sku: SkuOut, region: str | None, field: str
) -> int:
    """The price from the storefront's rules (the store service), or the list price without one."""
    if sku.status != "active":
        from bcone.store.errors import UnknownSku

        raise UnknownSku(f"{sku.sku_code} is not on sale", field=field)
    if not storefront_id:
        return sku.list_price_fen
    from bcone.store import service as store

    return _fulfilment.cached(
        session,
        ("price", storefront_id, sku.id, region),
        lambda: store.resolve_price(session=session, storefront_id=storefront_id, sku=sku.id, region=region),
    )


def _merge(items: Sequence[CartItemIn]) -> dict[str, int]:
    merged: dict[str, int] = {}
    for item in items:
        merged[item.sku_id] = merged.get(item.sku_id, 0) + item.quantity
    return merged


def _price_lines(
    session: Session, storefront_id: str | None, items: Sequence[CartItemIn], region: str | None
) -> tuple[list[tuple[SkuOut, int, int]], int]:
    """``[(sku, quantity, unit price)]`` and the subtotal."""
    lines: dict[str, tuple[SkuOut, int, int]] = {}
    for i, item in enumerate(items):
        field = f"items.{i}.sku_id"
        sku = _sku(session, item.sku_id, field)
        if sku.id in lines:
            prev = lines[sku.id]
            lines[sku.id] = (sku, prev[1] + item.quantity, prev[2])
            continue
        lines[sku.id] = (sku, item.quantity, _unit_price(session, storefront_id, sku, region, field))
    out = list(lines.values())
    return out, sum(q * p for _, q, p in out)


def _cart_lines(priced: list[tuple[SkuOut, int, int]]) -> list[CartLineOut]:
    return [
        CartLineOut(
            sku_id=s.id, sku_code=s.sku_code, name=s.name, quantity=q, unit_price_fen=p, line_fen=q * p
        )
        for s, q, p in priced
    ]


def _cart_row(session: Session, cart_id: str) -> Cart:
    row = session.scalars(select(Cart).where(Cart.id == cart_id)).one_or_none()
    if row is None:
        raise NotFound(f"no cart {cart_id}", field="cart_id")
    return row


def _cart_out(session: Session, row: Cart) -> CartOut:
    items = [CartItemIn(sku_id=i["sku_id"], quantity=i["quantity"]) for i in row.items]
    priced, subtotal = _price_lines(session, row.storefront_id, items, None) if items else ([], 0)
    return CartOut(
        id=row.id,
        storefront_id=row.storefront_id,
        consumer_key=row.consumer_key,
        lines=_cart_lines(priced),
        subtotal_fen=subtotal,
    )


def get_cart(
    *, session: Session, storefront_id: str | None, consumer_key: str, create: bool = True
) -> CartOut:
    """The consumer's cart in a storefront (an empty one is created on first use)."""
    stmt = select(Cart).where(Cart.consumer_key == consumer_key)
    stmt = (
        stmt.where(Cart.storefront_id == storefront_id)
        if storefront_id
        else stmt.where(Cart.storefront_id.is_(None))
    )
    row = session.scalars(stmt.limit(1)).first()
    if row is None:
        row = Cart(storefront_id=storefront_id, consumer_key=consumer_key, items=[])
        if create:
            session.add(row)
            session.flush()
    return _cart_out(session, row)


def set_cart_item(cart_id: str, sku_id: str, quantity: int, *, session: Session) -> CartOut:
    """Set a SKU's quantity in the cart (0 removes it); the SKU must be sold by the storefront."""
    if quantity < 0 or quantity > 10_000:
        raise InvalidOrder("the quantity is between 0 and 10000", field="quantity")
    row = _cart_row(session, cart_id)
    sku = _sku(session, sku_id, "sku_id")
    if quantity:
        _unit_price(session, row.storefront_id, sku, None, "sku_id")
    items = [i for i in row.items if i["sku_id"] != sku.id]
    if quantity:
        items.append({"sku_id": sku.id, "quantity": quantity})
    row.items = items
    row.updated_at = _now()
    session.flush()
    return _cart_out(session, row)


def clear_cart(cart_id: str, *, session: Session) -> None:
    row = _cart_row(session, cart_id)
    row.items = []
    session.flush()


# --- checkout --------------------------------------------------------------------------------


def _allocate(total_discount: int, priced: list[tuple[SkuOut, int, int]]) -> list[int]:
    """Split a discount over lines in proportion to their amounts (largest remainder, exact)."""
    amounts = [q * p for _, q, p in priced]
    subtotal = sum(amounts)
    if not subtotal or not total_discount:
        return [0] * len(amounts)
    shares = [total_discount * a // subtotal for a in amounts]
    rest = total_discount - sum(shares)
    order = sorted(range(len(amounts)), key=lambda i: (-(total_discount * amounts[i] % subtotal), i))
    for i in order[:rest]:
        shares[i] += 1
    return shares


def quote(data: CheckoutIn, *, session: Session, now: datetime | None = None) -> QuoteOut:
    """Prices, the coupon's discount and the total, without writing anything."""
    division = geo.require_division(data.address.division_code, field="address.division_code")
    priced, subtotal = _price_lines(session, data.storefront_id, data.items, division.code)
    discount = 0
    if data.coupon_code:
        coupon = _coupons.check_coupon(data.coupon_code, subtotal, session=session, now=now)
        discount = _coupons.discount_of(coupon, subtotal)
    return QuoteOut(
        lines=_cart_lines(priced),
        subtotal_fen=subtotal,
        discount_fen=discount,
        total_fen=subtotal - discount,
        coupon_code=data.coupon_code.upper() if data.coupon_code else None,
    )


def _number(now: datetime) -> str:
    return f"{now + timedelta(hours=8):%y%m%d}{secrets.randbelow(10**10):010d}"


def _storefront(session: Session, storefront_id: str | None) -> tuple[str | None, str | None]:
    """(storefront id, its organisation) of an active storefront; 4xx naming ``storefront_id``."""
    if not storefront_id:
        return None, None
    from bcone.store import service as store

    front = _fulfilment.cached(
        session, ("storefront", storefront_id), lambda: store.get_storefront(storefront_id, session=session)
    )
    if front.status != "active":
        raise InvalidOrder("this storefront is paused", field="storefront_id")
    return front.id, front.org_id


def _sharer(session: Session, consumer_key: str, storefront_id: str | None) -> str | None:
    from bcone.store import service as store

    binding = store.current_binding(session=session, consumer_key=consumer_key)
    return binding.sharer_storefront_id if binding is not None else storefront_id


def checkout(data: CheckoutIn, *, session: Session, now: datetime | None = None) -> OrderOut:
    """Turn items into an order: prices, coupon, stock held at the fulfilling organisation.

    4xx naming the field for an unknown division (``address.division_code``), SKU
    (``items.N.sku_id``), storefront, or coupon (``coupon_code``); 409 ``out_of_stock`` when no
    organisation that may fulfil the order holds the items. Nothing is written on any error.
    """
    now = now or _now()
    division = geo.require_division(data.address.division_code, field="address.division_code")
    storefront_id, storefront_org_id = _storefront(session, data.storefront_id)
    priced, subtotal = _price_lines(session, storefront_id, data.items, division.code)
    coupon = None
    discount = 0
    if data.coupon_code:
        coupon = _coupons.check_coupon(data.coupon_code, subtotal, session=session, now=now)
        discount = _coupons.discount_of(coupon, subtotal)
    settings = _fulfilment.get_order_settings(session=session)
    expires_at = now + timedelta(minutes=settings.reservation_minutes)
    address: AddressIn = data.address
    order = Order(
        id=new_id(),
        number=_number(now),
        channel="store",
        storefront_id=storefront_id,
        storefront_org_id=storefront_org_id,
        sharer_id=_sharer(session, data.consumer_key, storefront_id),
        consumer_key=data.consumer_key,
        buyer_name=address.name,
        buyer_phone=address.phone,
        division_code=division.code,
        address_line=address.line,
        lng=address.lng,
        lat=address.lat,
        fulfilment=data.fulfilment,
        status="created",
        subtotal_fen=subtotal,
        discount_fen=discount,
        total_fen=subtotal - discount,
        paid_fen=0,
        refunded_fen=0,
        coupon_id=coupon.id if coupon else None,
        coupon_code=coupon.code if coupon else None,
        accepted=False,
        declined_org_ids=[],
        note=data.note,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(order)
    shares = _allocate(discount, priced)
    lines = []
    for position, ((sku, quantity, price), share) in enumerate(zip(priced, shares, strict=True)):
        lines.append(
            OrderLine(
                id=new_id(),
                order_id=order.id,
                position=position,
                sku_id=sku.id,
                sku_code=sku.sku_code,
                name=sku.name,
                category=sku.product_line or sku.product_name,
                quantity=quantity,
                unit_price_fen=price,
                discount_fen=share,
                paid_fen=quantity * price - share,
            )
        )
    session.add_all(lines)
    created = OrderEvent(
        id=new_id(), order_id=order.id, action="created", status="created", actor="consumer", at=now
    )
    session.add(created)
    if coupon is not None:
        _coupons.take(session, coupon, data.consumer_key)
    append_event(
        session,
        type="order.created",
        event_id=f"order.created:{order.id}",
        ts=now,
        org_id=storefront_org_id,
        region=division.code,
        amount=order.total_fen,
        identities=[("consumer", data.consumer_key)],
        properties={"order_id": order.id, "channel": "store", "sharer_id": order.sharer_id},
    )
    session.flush()
    # The stock hold comes last: its row lock (contended in a flash sale) is then held only
    # until the caller commits, not while the rest of the order is written.
    holder = _fulfilment.place(
        session,
        order_id=order.id,
        items={sku.id: quantity for sku, quantity, _ in priced},
        division_code=division.code,
        lng=address.lng,
        lat=address.lat,
        storefront_org_id=storefront_org_id,
        expires_at=expires_at,
    )
    if holder is None:
        raise OutOfStock("no store or distributor near this address has these items in stock", field="items")
    out = OrderOut.model_validate(order, from_attributes=True)
    out.lines = [OrderLineOut.model_validate(x, from_attributes=True) for x in lines]
    out.timeline = [OrderEventOut.model_validate(created, from_attributes=True)]
    return out


# --- payment ---------------------------------------------------------------------------------


def _payment_out(row: Payment, pay_params: dict[str, str] | None = None) -> PaymentOut:
    out = PaymentOut.model_validate(row, from_attributes=True)
    out.pay_params = pay_params or {}
    return out


def start_payment(
    order_id: str,
    *,
    session: Session,
    provider: PaymentProvider,
    payer_openid: str | None = None,
    now: datetime | None = None,
) -> PaymentOut:
    """Open a payment of an unpaid order with ``provider``; what the H5 page needs to pay."""
    return _open_payment(session, _row(session, order_id, lock=True), provider, payer_openid, now or _now())


def start_consumer_payment(
    order_id: str,
    consumer_key: str,
    *,
    session: Session,
    provider: PaymentProvider,
    now: datetime | None = None,
) -> PaymentOut:
    """:func:`start_payment` for the order's buyer (404 ``order_not_found`` for anyone else),
    reading the order once: the consumer's pay button."""
    order = _row(session, order_id, lock=True)
    if order.consumer_key != consumer_key:
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    return _open_payment(session, order, provider, consumer_key, now or _now())


def _open_payment(
    session: Session, order: Order, provider: PaymentProvider, payer_openid: str | None, now: datetime
) -> PaymentOut:
    if order.status != "created":
        raise OrderStateConflict(f"a {order.status} order cannot be paid", field="status")
    expires = _aware(order.expires_at)
    if expires is not None and expires <= now:
        raise OrderStateConflict("the order's stock hold has expired", field="status")
    payment = Payment(
        order_id=order.id,
        provider=provider.name,
        out_trade_no=new_id().replace("-", ""),
        amount_fen=order.total_fen,
        status="pending",
        created_at=now,
    )
    prepay_id, params = provider.prepare(
        out_trade_no=payment.out_trade_no,
        amount_fen=order.total_fen,
        description=f"订单 {order.number}",
        payer_openid=payer_openid,
    )
    payment.prepay_id = prepay_id
    session.add(payment)
    session.flush()
    return _payment_out(payment, params)


def get_payment(out_trade_no: str, *, session: Session) -> PaymentOut:
    row = session.scalars(select(Payment).where(Payment.out_trade_no == out_trade_no)).one_or_none()
    if row is None:
        raise PaymentNotFound(f"no payment {out_trade_no}", field="out_trade_no")
    return _payment_out(row)


def apply_payment_notice(notice: PaymentNotice, *, session: Session) -> OrderOut:
    """Apply a verified provider callback: the order is paid once, however often it arrives."""
    # The payment and its order, both locked, in one statement.
    found = session.execute(
        select(Payment, Order)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.out_trade_no == notice.out_trade_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None:
        raise PaymentNotFound(f"no payment {notice.out_trade_no}", field="out_trade_no")
    payment, order = found
    if notice.trade_state != "SUCCESS" or payment.status != "pending":
        return _out(session, order, detail=True)  # not paid, or already applied: nothing changes
    if notice.amount_fen != payment.amount_fen:
        raise PaymentMismatch(
            f"the callback pays {notice.amount_fen} fen, the payment is {payment.amount_fen}", field="amount"
        )
    payment.status = "succeeded"
    payment.transaction_id = notice.transaction_id[:64]
    payment.paid_at = notice.paid_at
    if order.status != "created":
        # Paid after it was cancelled (its hold expired): the money is recorded for a refund.
        _log(session, order, "paid_after_cancel", actor="payment", note=notice.transaction_id)
        session.flush()
        return _out(session, order, detail=True)
    lines = _mark_paid(session, order, notice.paid_at)
    return _out(session, order, detail=True, lines=lines)


def _mark_paid(session: Session, order: Order, paid_at: datetime) -> list[OrderLine]:
    """Paid, and assigned to the organisation holding its stock; returns the order's lines.

    Reads (lines, the holder) come before the order changes, so the order is written once."""
    lines = _lines(session, order.id)
    holder = _stock.keep(session, order.id)
    order.status = "paid"
    order.paid_fen = order.total_fen
    order.paid_at = paid_at
    order.expires_at = None
    order.pickup_code = f"{secrets.randbelow(10**6):06d}" if order.fulfilment == "pickup" else None
    now = _now()
    _log(session, order, "paid", actor="payment", at=now)
    if holder is not None:
        # Written with the payment in one flush: a later stamp keeps the timeline's order.
        _assign(session, order, holder, at=now + timedelta(microseconds=1))
    session.flush()
    append_event(
        session,
        type="order.paid",
        event_id=f"order.paid:{order.id}",
        ts=paid_at,
        org_id=order.storefront_org_id,
        region=order.division_code,
        amount=order.paid_fen,
        identities=[("consumer", order.consumer_key)],
        properties={"order_id": order.id, "channel": order.channel, "sharer_id": order.sharer_id},
    )
    _accrue(session, order, lines, paid_at)
    return lines


def _accrue(session: Session, order: Order, lines: list[OrderLine], paid_at: datetime) -> None:
    """Pending commissions for the sharer (the store service; idempotent per order)."""
    if not order.storefront_id:
        return
    from bcone.store import service as store

    store.accrue_commissions(
        session=session,
        order=OrderForCommission(
            order_id=order.id,
            consumer_key=order.consumer_key,
            storefront_id=order.storefront_id,
            lines=[
                OrderLineForCommission(
                    sku=x.sku_id or x.sku_code, category=x.category, quantity=x.quantity, paid_fen=x.paid_fen
                )
                for x in lines
            ],
            paid_at=paid_at,
        ),
    )


def _assign(session: Session, order: Order, org_id: str, *, at: datetime | None = None) -> None:
    order.status = "assigned"
    order.assigned_org_id = org_id
    order.assigned_at = at or _now()
    order.accepted = False
    _log(session, order, "assigned", actor="system", org_id=org_id, at=order.assigned_at)


# --- fulfilment actions ----------------------------------------------------------------------

_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": (("assigned",), "assigned"),
    "decline": (("assigned",), "assigned"),
    "ship": (("assigned",), "shipped"),
    "ready": (("assigned",), "ready_for_pickup"),
    "deliver": (("shipped",), "completed"),
    "pickup": (("ready_for_pickup",), "completed"),
    "cancel": (("created",), "cancelled"),
    "refund": (REFUNDABLE, "refunded"),
}


def _check_move(order: Order, action: str, scope_org_id: str | None) -> None:
    allowed, _ = _MOVES[action]
    if order.status not in allowed:
        raise OrderStateConflict(f"the order is {order.status} and cannot {action}", field="status")
    partner_action = action in ("accept", "decline", "ship", "ready", "deliver", "pickup")
    if scope_org_id is not None and partner_action and order.assigned_org_id != scope_org_id:
        raise OrderStateConflict("this order is not assigned to your organisation", field="assigned_org_id")


def accept_order(order_id: str, *, session: Session, org_id: str | None = None, actor: str = "") -> OrderOut:
    """The assigned organisation takes the order (``org_id``: the partner acting, if any)."""
    order = _row(session, order_id, lock=True)
    _check_move(order, "accept", org_id)
    if not order.accepted:
        order.accepted = True
        _log(session, order, "accepted", actor=actor, org_id=order.assigned_org_id)
        session.flush()
    return _out(session, order, detail=True)


def decline_order(
    order_id: str, *, session: Session, org_id: str | None = None, actor: str = "", reason: str = ""
) -> OrderOut:
    """The assigned organisation gives the order back: its stock hold moves to the next candidate
    (or, when none has the goods, the order waits as ``paid`` for the brand)."""
    order = _row(session, order_id, lock=True)
    _check_move(order, "decline", org_id)
    if order.accepted:
        raise OrderStateConflict("an accepted order cannot be declined", field="accepted")
    declined = order.assigned_org_id
    _stock.release(session, order.id)
    _log(session, order, "declined", actor=actor, org_id=declined, note=reason)
    order.declined_org_ids = [*order.declined_org_ids, *([declined] if declined else [])]
    items: dict[str, int] = {}
    for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)):
        if line.sku_id:
            items[line.sku_id] = items.get(line.sku_id, 0) + line.quantity
    holder = _fulfilment.place(
        session,
        order_id=order.id,
        items=items,
        division_code=order.division_code or "",
        lng=order.lng,
        lat=order.lat,
        storefront_org_id=order.storefront_org_id,
        expires_at=None,
        exclude=order.declined_org_ids,
    )
    if holder is None:
        order.status = "paid"
        order.assigned_org_id = None
        _log(session, order, "unassigned", actor="system", note="no other organisation has the goods")
    else:
        _assign(session, order, holder)
    session.flush()
    return _out(session, order, detail=True)


def _progress(order_id: str, action: str, *, session: Session, org_id: str | None, actor: str) -> Order:
    order = _row(session, order_id, lock=True)
    _check_move(order, action, org_id)
    if action in ("ship", "ready") and not order.accepted:
        raise OrderStateConflict("accept the order first", field="accepted")
    if action == "ship" and order.fulfilment != "delivery":
        raise OrderStateConflict("a pickup order is made ready, not shipped", field="fulfilment")
    if action == "ready" and order.fulfilment != "pickup":
        raise OrderStateConflict("a delivery order is shipped, not made ready", field="fulfilment")
    return order


def ship_order(order_id: str, *, session: Session, org_id: str | None = None, actor: str = "") -> OrderOut:
    order = _progress(order_id, "ship", session=session, org_id=org_id, actor=actor)
    order.status, order.shipped_at = "shipped", _now()
    _log(session, order, "shipped", actor=actor, org_id=order.assigned_org_id)
    session.flush()
    return _out(session, order, detail=True)


def ready_order(order_id: str, *, session: Session, org_id: str | None = None, actor: str = "") -> OrderOut:
    order = _progress(order_id, "ready", session=session, org_id=org_id, actor=actor)
    order.status, order.ready_at = "ready_for_pickup", _now()
    if not order.pickup_code:
        order.pickup_code = f"{secrets.randbelow(10**6):06d}"
    _log(session, order, "ready_for_pickup", actor=actor, org_id=order.assigned_org_id)
    session.flush()
    return _out(session, order, detail=True)


def _complete(session: Session, order: Order, action: str, actor: str, now: datetime) -> None:
    order.status, order.completed_at = "completed", now
    _stock.commit(session, order.id)
    _log(session, order, action, actor=actor, org_id=order.assigned_org_id)
    append_event(
        session,
        type="order.completed",
        event_id=f"order.completed:{order.id}",
        ts=now,
        org_id=order.assigned_org_id,
        region=order.division_code,
        amount=order.paid_fen,
        identities=[("consumer", order.consumer_key)],
        properties={"order_id": order.id, "channel": order.channel, "sharer_id": order.sharer_id},
    )
    from bcone.store import service as store

    if order.storefront_id:
        store.mark_order_completed(session=session, order_id=order.id, completed_at=now)
    session.flush()


def confirm_delivery(
    order_id: str,
    *,
    session: Session,
    org_id: str | None = None,
    actor: str = "",
    now: datetime | None = None,
) -> OrderOut:
    """The shipped order arrived (confirmed by the store or the consumer): completed."""
    order = _progress(order_id, "deliver", session=session, org_id=org_id, actor=actor)
    _complete(session, order, "delivered", actor, now or _now())
    return _out(session, order, detail=True)


def confirm_pickup(
    order_id: str,
    pickup_code: str,
    *,
    session: Session,
    org_id: str | None = None,
    actor: str = "",
    now: datetime | None = None,
) -> OrderOut:
    """The consumer collected the order, proven by its 6-digit pickup code: completed."""
    order = _progress(order_id, "pickup", session=session, org_id=org_id, actor=actor)
    if not pickup_code or not order.pickup_code or not secrets.compare_digest(pickup_code, order.pickup_code):
        raise InvalidOrder("the pickup code is wrong", field="pickup_code")
    _complete(session, order, "picked_up", actor, now or _now())
    return _out(session, order, detail=True)


def _release_unpaid(session: Session, order: Order, action: str, actor: str, note: str = "") -> None:
    order.status, order.cancelled_at, order.expires_at = "cancelled", _now(), None
    _stock.release(session, order.id)
    if order.coupon_id:
        _coupons.give_back(session, order.coupon_id, order.consumer_key)
    for payment in session.scalars(
        select(Payment).where(Payment.order_id == order.id, Payment.status == "pending")
    ):
        payment.status = "closed"
    _log(session, order, action, actor=actor, note=note)
    session.flush()


def cancel_order(
    order_id: str, *, session: Session, actor: str = "", reason: str = "", consumer_key: str | None = None
) -> OrderOut:
    """Cancel an unpaid order: its stock and coupon are given back (409 once paid: refund it)."""
    order = _row(session, order_id, lock=True)
    if consumer_key is not None and order.consumer_key != consumer_key:
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    _check_move(order, "cancel", None)
    _release_unpaid(session, order, "cancelled", actor, reason)
    return _out(session, order, detail=True)


def expire_orders(*, session: Session, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel unpaid orders whose stock hold has expired; returns how many (the job's body)."""
    now = now or _now()
    done = 0
    for order_id in _stock.expired_order_ids(session, now, limit):
        order = _row(session, order_id, lock=True)
        if order.status != "created":
            continue
        _release_unpaid(session, order, "expired", "system")
        done += 1
    return done


def refund_order(
    order_id: str, *, session: Session, provider: PaymentProvider | None, actor: str = "", reason: str = ""
) -> OrderOut:
    """Refund a paid order in full: the provider refunds, held stock returns, commissions are
    clawed back (a completed order's goods stay sold: returns are a stock adjustment)."""
    order = _row(session, order_id, lock=True)
    _check_move(order, "refund", None)
    if order.channel == "store":
        payment = session.scalars(
            select(Payment).where(Payment.order_id == order.id, Payment.status == "succeeded")
        ).first()
        if payment is not None:
            if provider is None:
                raise OrderStateConflict("no payment provider to refund through", field="provider")
            provider.refund(
                out_trade_no=payment.out_trade_no,
                out_refund_no=f"R{payment.out_trade_no[:31]}",
                amount_fen=payment.amount_fen,
                total_fen=payment.amount_fen,
            )
            payment.status = "refunded"
    now = _now()
    order.status, order.refunded_at, order.refunded_fen = "refunded", now, order.paid_fen
    _stock.release(session, order.id)
    _log(session, order, "refunded", actor=actor, note=reason)
    append_event(
        session,
        type="order.refunded",
        event_id=f"order.refunded:{order.id}",
        ts=now,
        org_id=order.storefront_org_id,
        region=order.division_code,
        amount=order.refunded_fen,
        identities=[("consumer", order.consumer_key)],
        properties={"order_id": order.id, "channel": order.channel, "sharer_id": order.sharer_id},
    )
    from bcone.store import service as store

    if order.storefront_id:
        store.claw_back_commissions(session=session, order_id=order.id, reason=reason or "refund")
    session.flush()
    return _out(session, order, detail=True)


# --- platform orders -------------------------------------------------------------------------

_PLATFORM_RANK = {"paid": 1, "shipped": 2, "completed": 3, "cancelled": 4, "refunded": 4}


def import_platform_orders(rows: Sequence[PlatformOrderIn], *, session: Session) -> ImportResult:
    """Orders from Tmall, JD and Douyin, kept by ``(channel, external_id)``: new ones are created,
    known ones move forward to the platform's status (never back). Marked by their channel in
    every order view; ``order.paid`` / ``order.completed`` / ``order.refunded`` events are recorded
    once each."""
    created = updated = unchanged = 0
    for data in rows:
        if data.division_code:
            geo.require_division(data.division_code, field="division_code")
        row = session.scalars(
            select(Order).where(Order.channel == data.channel, Order.external_id == data.external_id)
        ).one_or_none()
        total = sum(x.paid_fen for x in data.lines)
        if row is None:
            created_at = _aware(data.created_at) or _now()
            row = Order(
                id=new_id(),
                number=f"{data.channel.upper()[:2]}{data.external_id}"[:32],
                channel=data.channel,
                external_id=data.external_id,
                consumer_key=data.buyer_key,
                buyer_name=data.buyer_name,
                division_code=data.division_code,
                fulfilment="delivery",
                status=data.status,
                subtotal_fen=total,
                discount_fen=0,
                total_fen=total,
                paid_fen=0 if data.status == "cancelled" else total,
                refunded_fen=total if data.status == "refunded" else 0,
                accepted=True,
                declined_org_ids=[],
                created_at=created_at,
                paid_at=_aware(data.paid_at) or created_at,
            )
            session.add(row)
            for position, line in enumerate(data.lines):
                session.add(
                    OrderLine(
                        order_id=row.id,
                        position=position,
                        sku_id=None,
                        sku_code=line.sku_code,
                        name=line.name or line.sku_code,
                        quantity=line.quantity,
                        unit_price_fen=line.paid_fen // line.quantity,
                        discount_fen=0,
                        paid_fen=line.paid_fen,
                    )
                )
            _log(session, row, "imported", actor=data.channel)
            created += 1
        elif _PLATFORM_RANK[data.status] > _PLATFORM_RANK.get(row.status, 0):
            row.status = data.status
            if data.status == "refunded":
                row.refunded_fen = row.paid_fen
            _log(session, row, data.status, actor=data.channel)
            updated += 1
        else:
            unchanged += 1
            continue
        _platform_events(session, row, data)
    session.flush()
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def _platform_events(session: Session, row: Order, data: PlatformOrderIn) -> None:
    props: dict[str, Any] = {"order_id": row.id, "channel": row.channel, "external_id": row.external_id}
    common: dict[str, Any] = {
        "region": row.division_code,
        "identities": [(f"{row.channel}_buyer", row.consumer_key)],
        "properties": props,
    }
    if row.status != "cancelled":
        append_event(
            session,
            type="order.paid",
            event_id=f"order.paid:{row.id}",
            ts=_aware(row.paid_at),
            amount=row.paid_fen,
            **common,
        )
    if row.status == "completed":
        append_event(
            session,
            type="order.completed",
            event_id=f"order.completed:{row.id}",
            amount=row.paid_fen,
            **common,
        )
    if row.status == "refunded":
        append_event(
            session,
            type="order.refunded",
            event_id=f"order.refunded:{row.id}",
            amount=row.refunded_fen,
            **common,
        )


# --- the consumer's side ---------------------------------------------------------------------


def open_storefront(slug: str, *, session: Session) -> tuple[str, str]:
    """Bind an unscoped session to the tenant of the storefront at ``/s/<slug>``; returns
    ``(tenant id, storefront id)``, 404 ``storefront_not_found`` for an unknown or paused one."""
    from bcone.store._storefronts import find_storefront_by_slug
    from bcone.store.errors import StorefrontNotFound

    unscoped(session)
    key = (str(session.get_bind().engine.url), slug)
    hit = _storefront_slugs.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] == _fulfilment.reference_version() and hit[1] > now:
        found = hit[2]
    else:
        version = _fulfilment.reference_version()
        found = find_storefront_by_slug(slug, session=session)
        if version == _fulfilment.reference_version():
            if len(_storefront_slugs) > 10_000:
                _storefront_slugs.clear()
            _storefront_slugs[key] = (version, now + _fulfilment.REFERENCE_SECONDS, found)
    if found is None or found[1].status != "active":
        raise StorefrontNotFound(f"no storefront {slug!r}", field="slug")
    tenant_id, front = found
    bind_tenant(session, tenant_id)
    return tenant_id, front.id


# The public pages know the tenant only from the storefront's address, so this look-up comes
# before any tenant is bound; it follows the same rules as the other reference data (kept
# REFERENCE_SECONDS at most, dropped on a change made in this process).
_storefront_slugs: dict[tuple[str, str], tuple[int, float, Any]] = {}


def consumer_order(order_id: str, consumer_key: str, *, session: Session) -> OrderOut:
    """An order as its buyer sees it (404 for anyone else)."""
    row = _row(session, order_id)
    if row.consumer_key != consumer_key:
        raise OrderNotFound(f"no order {order_id}", field="order_id")
    return _out(session, row, detail=True)


def find_payment(out_trade_no: str, *, session: Session) -> tuple[str, str]:
    """``(tenant id, order id)`` of a payment, for the simulator's public page (unscoped session)."""
    row = session.execute(
        select(Payment.tenant_id, Payment.order_id).where(Payment.out_trade_no == out_trade_no)
    ).first()
    if row is None:
        raise PaymentNotFound(f"no payment {out_trade_no}", field="out_trade_no")
    return str(row[0]), str(row[1])
