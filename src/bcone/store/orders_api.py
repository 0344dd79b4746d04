"""HTTP API of the store's order side: orders and their fulfilment, payments and their callbacks,
coupons, stock, platform orders, and the consumer's checkout.

- Brand roles read orders, coupons and stock; marketers (and owners, admins) manage coupons,
  stock, imports, cancellations and refunds. A partner user sees the orders its organisation
  fulfils or sold and acts on those assigned to it: accept, decline, ship, ready for pickup,
  delivered, picked up (with the pickup code).
- The consumer's endpoints (``/store/public/{slug}/…``) need no login: the storefront's address
  names the brand, and the consumer is the ``openid`` (cookie, or ``X-Consumer-Key`` header).
- Payment callbacks (``/store/payments/{provider}/{tenant_id}/notify``) are verified by the
  provider (WeChat Pay: platform signature and AEAD resource; simulator: HMAC) before anything is
  written; a tampered one gets 401 and changes nothing. A callback delivered twice pays once.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Request, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.db import run_blocking
from bcone.core.deps import PageDep, SessionDep, SettingsDep, require_roles
from bcone.core.errors import Forbidden, Unauthenticated
from bcone.core.pagination import Page
from bcone.core.settings import Settings
from bcone.core.tenancy import bind_tenant, current_tenant, unscoped
from bcone.network import service as network
from bcone.store import order_jobs as _order_jobs  # noqa: F401  (registers the order expiry job)
from bcone.store import service
from bcone.store._orders import start_consumer_payment
from bcone.store._payments import SimulatorProvider
from bcone.store.errors import PaymentProviderUnavailable
from bcone.store.order_schemas import (
    Channel,
    CheckoutIn,
    CouponIn,
    CouponOut,
    CouponStatus,
    ImportResult,
    OrderActionIn,
    OrderOut,
    OrderSettingsIn,
    OrderSettingsOut,
    OrderStatus,
    PaymentNotice,
    PaymentOut,
    PlatformOrderIn,
    QuoteOut,
    StockAdjustIn,
    StockOut,
)

router = APIRouter(tags=["store orders"])

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES, Role.partner))]
Fulfiller = Annotated[Principal, Depends(require_roles(Role.marketer, Role.partner))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]
StockEditor = Annotated[Principal, Depends(require_roles(Role.marketer, Role.partner))]
Owner = Annotated[Principal, Depends(require_roles())]

PartnerAction = Literal["accept", "decline", "ship", "ready", "deliver", "pickup"]


class CountOut(BaseModel):
    count: int


class CallbackAck(BaseModel):
    code: str = "SUCCESS"
    message: str = "OK"


def _scope(principal: Principal) -> str | None:
    return network.partner_scope(principal)


def _actor(principal: Principal) -> str:
    return principal.display_name or principal.user_id or principal.api_key_id or ""


def provider_of(request: Request, session: Session) -> service.PaymentProvider:
    settings: Settings = request.app.state.settings
    return service.provider_for(current_tenant(session), settings, base_url=str(request.base_url))


# --- orders ----------------------------------------------------------------------------------


@router.get("/store/orders")
def list_orders(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    status: OrderStatus | None = None,
    channel: Channel | None = None,
    storefront_id: str | None = None,
    assigned_org_id: str | None = None,
) -> Page[OrderOut]:
    """Orders of every channel, newest first; ``q`` matches number, platform id, buyer name or phone.
    A partner sees the orders its organisation (or one below it) fulfils or sold."""
    return service.list_orders(
        page,
        session=session,
        status=status,
        channel=channel,
        storefront_id=storefront_id,
        assigned_org_id=assigned_org_id,
        scope_org_id=_scope(principal),
    )


@router.get("/store/orders/{order_id}")
def get_order(order_id: str, principal: Reader, session: SessionDep) -> OrderOut:
    """One order with its lines and timeline."""
    return service.get_order(order_id, session=session, scope_org_id=_scope(principal))


@router.post("/store/orders/{order_id}/cancel", name="cancel_order_brand")
def cancel_order(
    order_id: str, principal: Editor, session: SessionDep, body: OrderActionIn | None = None
) -> OrderOut:
    """Cancel an unpaid order (its stock and coupon are given back)."""
    reason = body.reason if body else ""
    return service.cancel_order(order_id, session=session, actor=_actor(principal), reason=reason)


@router.post("/store/orders/{order_id}/refund")
def refund_order(
    order_id: str, request: Request, principal: Editor, session: SessionDep, body: OrderActionIn | None = None
) -> OrderOut:
    """Refund a paid order in full through its payment provider; commissions are clawed back."""
    return service.refund_order(
        order_id,
        session=session,
        provider=provider_of(request, session),
        actor=_actor(principal),
        reason=body.reason if body else "",
    )


@router.post("/store/orders/{order_id}/{action}")
def act_on_order(
    order_id: str,
    action: PartnerAction,
    principal: Fulfiller,
    session: SessionDep,
    body: OrderActionIn | None = None,
) -> OrderOut:
    """The fulfilling organisation's steps: ``accept``, ``decline`` (the next candidate gets it),
    ``ship``, ``ready`` (for pickup), ``deliver`` (delivery confirmed), ``pickup`` (with the
    consumer's 6-digit ``pickup_code``). 409 ``order_state_conflict`` for a move the state forbids."""
    body = body or OrderActionIn()
    org_id = principal.org_id if principal.is_partner else None
    if principal.is_partner and org_id is None:
        raise Forbidden("this partner user is not linked to an organisation", field="org_id")
    actor = _actor(principal)
    if action == "accept":
        return service.accept_order(order_id, session=session, org_id=org_id, actor=actor)
    if action == "decline":
        return service.decline_order(
            order_id, session=session, org_id=org_id, actor=actor, reason=body.reason
        )
    if action == "ship":
        return service.ship_order(order_id, session=session, org_id=org_id, actor=actor)
    if action == "ready":
        return service.ready_order(order_id, session=session, org_id=org_id, actor=actor)
    if action == "deliver":
        return service.confirm_delivery(order_id, session=session, org_id=org_id, actor=actor)
    return service.confirm_pickup(
        order_id, body.pickup_code or "", session=session, org_id=org_id, actor=actor
    )


@router.post("/store/orders-expire")
def expire_orders(_: Owner, session: SessionDep) -> CountOut:
    """Cancel unpaid orders whose stock hold expired (the periodic job does the same)."""
    return CountOut(count=service.expire_orders(session=session))


@router.post("/store/platform-orders")
def import_platform_orders(body: list[PlatformOrderIn], _: Editor, session: SessionDep) -> ImportResult:
    """Orders from Tmall, JD and Douyin (kept by channel and platform id; re-sending is safe)."""
    return service.import_platform_orders(body, session=session)


# --- coupons, stock, settings ----------------------------------------------------------------


@router.get("/store/coupons")
def list_coupons(
    _: Reader, session: SessionDep, page: PageDep, status: CouponStatus | None = None
) -> Page[CouponOut]:
    return service.list_coupons(page, session=session, status=status)


@router.post("/store/coupons", status_code=status.HTTP_201_CREATED)
def create_coupon(body: CouponIn, _: Editor, session: SessionDep) -> CouponOut:
    """A coupon: ``fixed``, ``percent`` or ``threshold`` (amount off from a spend)."""
    return service.create_coupon(body, session=session)


@router.post("/store/coupons/{coupon_id}/{action}")
def change_coupon(
    coupon_id: str, action: Literal["enable", "disable"], _: Editor, session: SessionDep
) -> CouponOut:
    return service.set_coupon_status(
        coupon_id, "active" if action == "enable" else "disabled", session=session
    )


@router.get("/store/stock")
def list_stock(
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    org_id: str | None = None,
    sku_id: str | None = None,
) -> Page[StockOut]:
    """Stock per organisation and SKU (a partner sees its own organisation's)."""
    scope = _scope(principal)
    if scope is not None:
        org_id = scope
    return service.list_stock(page, session=session, org_id=org_id, sku_id=sku_id)


@router.post("/store/stock/adjustments")
def adjust_stock(body: StockAdjustIn, principal: StockEditor, session: SessionDep) -> StockOut:
    """Add or remove units on hand; never below what is reserved (409)."""
    scope = _scope(principal)
    if scope is not None and body.org_id not in network.organization_subtree_ids(scope, session=session):
        raise Forbidden("that organisation is outside yours", field="org_id")
    return service.adjust_stock(body, session=session)


@router.get("/store/order-settings")
def get_order_settings(_: Reader, session: SessionDep) -> OrderSettingsOut:
    return service.get_order_settings(session=session)


@router.put("/store/order-settings")
def update_order_settings(body: OrderSettingsIn, _: Owner, session: SessionDep) -> OrderSettingsOut:
    """The stores' service radius (km) and how long checkout holds stock (minutes)."""
    return service.update_order_settings(body, session=session)


# --- the consumer's side ---------------------------------------------------------------------


def consumer_key_of(request: Request, header: str | None) -> str:
    key = header or request.cookies.get("openid") or request.query_params.get("openid")
    if not key:
        raise Unauthenticated("open the store in WeChat (no consumer identity)", field="openid")
    return key[:128]


ConsumerHeader = Annotated[str | None, Header(alias="X-Consumer-Key")]


@router.post("/store/public/{slug}/quote")
def public_quote(slug: str, body: CheckoutIn, session: SessionDep) -> QuoteOut:
    """Prices, discount and total of a would-be order, writing nothing."""
    _, storefront_id = service.open_storefront(slug, session=session)
    return service.quote(body.model_copy(update={"storefront_id": storefront_id}), session=session)


# Checkouts in progress per process: a flash sale queues every buyer on one stock row, and a
# holder of that row's lock must get the CPU to commit. Waiting here (without a thread or a
# database connection) keeps the lock holders few and the pool free for payments.
CHECKOUT_SLOTS = 8
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _checkout_slots() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(CHECKOUT_SLOTS)
    return slots


def _checkout_now(slug: str, body: CheckoutIn, *, session: Session) -> OrderOut:
    _, storefront_id = service.open_storefront(slug, session=session)
    order = service.checkout(body.model_copy(update={"storefront_id": storefront_id}), session=session)
    # Committed here, in the thread that holds the stock row's lock: a commit deferred to other
    # threads (busy with checkouts queued on that very lock) could wait for them forever.
    session.commit()
    return order


@router.post("/store/public/{slug}/checkout", status_code=status.HTTP_201_CREATED)
async def public_checkout(slug: str, body: CheckoutIn, session: SessionDep) -> OrderOut:
    """Place an order in the storefront at ``/s/<slug>``: stock is held until it is paid."""
    async with _checkout_slots():
        return await run_blocking(_checkout_now, slug, body, session=session)


@router.get("/store/public/{slug}/orders/{order_id}")
def public_order(
    slug: str, order_id: str, request: Request, session: SessionDep, consumer: ConsumerHeader = None
) -> OrderOut:
    service.open_storefront(slug, session=session)
    return service.consumer_order(order_id, consumer_key_of(request, consumer), session=session)


def _pay_now(
    slug: str, order_id: str, request: Request, consumer: str | None, *, session: Session
) -> PaymentOut:
    service.open_storefront(slug, session=session)
    key = consumer_key_of(request, consumer)
    payment = start_consumer_payment(order_id, key, session=session, provider=provider_of(request, session))
    session.commit()  # in this thread: no second hop to a database thread to commit
    return payment


@router.post("/store/public/{slug}/orders/{order_id}/pay")
async def public_pay(
    slug: str, order_id: str, request: Request, session: SessionDep, consumer: ConsumerHeader = None
) -> PaymentOut:
    """Open the payment: WeChat JSAPI parameters, or the simulator's page in development."""
    return await run_blocking(_pay_now, slug, order_id, request, consumer, session=session)


@router.post("/store/public/{slug}/orders/{order_id}/cancel")
def public_cancel(
    slug: str, order_id: str, request: Request, session: SessionDep, consumer: ConsumerHeader = None
) -> OrderOut:
    service.open_storefront(slug, session=session)
    key = consumer_key_of(request, consumer)
    return service.cancel_order(order_id, session=session, actor="consumer", consumer_key=key)


@router.post("/store/public/{slug}/orders/{order_id}/received")
def public_received(
    slug: str, order_id: str, request: Request, session: SessionDep, consumer: ConsumerHeader = None
) -> OrderOut:
    """The consumer confirms a shipped order arrived."""
    service.open_storefront(slug, session=session)
    service.consumer_order(order_id, consumer_key_of(request, consumer), session=session)
    return service.confirm_delivery(order_id, session=session, actor="consumer")


def simulate_payment(
    out_trade_no: str, *, session: Session, settings: Settings, trade_state: str = "SUCCESS"
) -> OrderOut:
    """The simulator's "pay" button: sign a callback as the simulator and apply it as a real one."""
    provider = service.provider_for(current_tenant(session), settings)
    if not isinstance(provider, SimulatorProvider):
        raise PaymentProviderUnavailable("this brand pays through a real provider", field="provider")
    payment = service.get_payment(out_trade_no, session=session)
    headers, body = provider.notification(out_trade_no, payment.amount_fen, trade_state=trade_state)
    return service.apply_payment_notice(provider.parse_notification(headers, body), session=session)


def _simulate_now(slug: str, out_trade_no: str, settings: Settings, *, session: Session) -> OrderOut:
    service.open_storefront(slug, session=session)
    order = simulate_payment(out_trade_no, session=session, settings=settings)
    session.commit()  # in this thread, as for checkout and pay
    return order


@router.post("/store/public/{slug}/payments/{out_trade_no}/simulate")
async def public_simulate(
    slug: str, out_trade_no: str, session: SessionDep, settings: SettingsDep
) -> OrderOut:
    """Development only: pay a pending payment through the simulator."""
    return await run_blocking(_simulate_now, slug, out_trade_no, settings, session=session)


@router.post("/store/payments/{provider}/{tenant_id}/notify")
async def payment_callback(
    provider: Literal["simulator", "wechat_jsapi"], tenant_id: str, request: Request, session: SessionDep
) -> CallbackAck:
    """A provider's payment callback: verified first (401 and nothing written when it does not),
    then applied once (a repeat is acknowledged and changes nothing)."""
    body = await request.body()
    headers = dict(request.headers)
    settings: Settings = request.app.state.settings
    unscoped(session)
    bind_tenant(session, tenant_id)
    verifier = service.provider_named(provider, tenant_id, settings)
    notice = verifier.parse_notification(headers, body)
    await run_blocking(_apply_now, notice, session=session)
    return CallbackAck()


def _apply_now(notice: PaymentNotice, *, session: Session) -> None:
    service.apply_payment_notice(notice, session=session)
    session.commit()  # in this thread, as for checkout
