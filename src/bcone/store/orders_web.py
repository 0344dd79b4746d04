"""Pages of the store's order side.

Consumer (mobile H5, public, standalone pages): ``/s/{slug}/buy`` (the cart and checkout; the
storefront's "buy" links add ``?sku=`` to the cart), ``/s/{slug}/orders`` and
``/s/{slug}/orders/{id}`` (status, pay, cancel, pickup code, confirm receipt), and the payment
simulator's page ``/s/pay/{trade}`` (development). The consumer is the storefront's ``openid``
cookie (see ``web.py``).

Console: ``/store/orders`` (filters by status, channel and storefront, search, pages),
``/store/orders/{id}`` (lines, timeline and the fulfilment actions; a partner user sees and acts
on its own organisation's orders), ``/store/coupons`` and ``/store/stock``. The partial
``store/_orders_to_fulfil.html`` lists a page of orders with their next action, for the portal.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.db import Database, run_blocking
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import BconeError
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings
from bcone.core.tenancy import bind_tenant, unscoped
from bcone.network import service as network
from bcone.store import service
from bcone.store.order_messages import register as _register_messages
from bcone.store.order_schemas import (
    Channel,
    CheckoutIn,
    CouponIn,
    CouponStatus,
    OrderOut,
    OrderStatus,
    StockAdjustIn,
)
from bcone.store.orders_api import simulate_payment
from bcone.store.wechatpay_jsapi import WechatPayJsapiProvider
from bcone.web.deps import ConsolePrincipal
from bcone.web.templating import flash, redirect_to, render, render_list

_register_messages()

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES, Role.partner))]
Fulfiller = Annotated[Principal, Depends(require_roles(Role.marketer, Role.partner))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]

OPENID_COOKIE = "openid"
STATUSES = (
    "created",
    "paid",
    "assigned",
    "shipped",
    "ready_for_pickup",
    "completed",
    "cancelled",
    "refunded",
)
CHANNELS = ("store", "tmall", "jd", "douyin")
NEXT_ACTIONS = {
    ("assigned", False): ("accept", "decline"),
    ("assigned", True): ("ship", "ready"),
    ("shipped", True): ("deliver",),
    ("ready_for_pickup", True): ("pickup",),
}


def next_actions(order: OrderOut) -> tuple[str, ...]:
    """The fulfilment steps an order can take now (ship for delivery, ready for pickup)."""
    actions = NEXT_ACTIONS.get((order.status, order.accepted), ())
    if "ship" in actions:
        return ("ship",) if order.fulfilment == "delivery" else ("ready",)
    return actions


def _errors(exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "form"
        return {field: str(first["msg"]), "form": f"{field}: {first['msg']}"}
    if isinstance(exc, BconeError):
        return {exc.field or "form": exc.detail, "form": exc.detail}
    raise exc


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}


# --- consumer pages (public, mobile H5) ------------------------------------------------------


def _consumer(request: Request) -> str | None:
    return request.cookies.get(OPENID_COOKIE) or request.query_params.get("openid") or None


def _open(request: Request, slug: str) -> tuple[Database, str, str]:
    """(database, tenant id, storefront id) of the storefront at ``slug``."""
    db: Database = request.app.state.db
    with db.session(write=False) as session:
        tenant_id, storefront_id = service.open_storefront(slug, session=session)
    return db, tenant_id, storefront_id


def _h5(request: Request, template: str, ctx: dict[str, Any], status_code: int = 200) -> Response:
    return render(request, template, ctx, status_code=status_code)


def _cart_page(
    request: Request,
    session: Session,
    slug: str,
    storefront_id: str,
    consumer: str,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    quote: Any = None,
    status_code: int = 200,
) -> Response:
    front = service.get_storefront(storefront_id, session=session)
    cart = service.get_cart(session=session, storefront_id=storefront_id, consumer_key=consumer, create=False)
    ctx = {
        "front": front,
        "slug": slug,
        "cart": cart,
        "form": form or {"fulfilment": "delivery"},
        "errors": errors or {},
        "quote": quote,
    }
    return _h5(request, "store/cart.html", ctx, status_code)


@router.get("/s/{slug}/buy")
def cart_page(
    request: Request,
    slug: str,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    qty: Annotated[int, Query(ge=1, le=99)] = 1,
) -> Response:
    """The cart and checkout of a storefront; ``?sku=`` (the storefront's "buy" link) adds one."""
    db, tenant_id, storefront_id = _open(request, slug)
    consumer = _consumer(request)
    if consumer is None:  # no identity yet: the storefront page gives one
        return redirect_to(f"/s/{slug}", status_code=303)
    with db.session(tenant_id=tenant_id) as session:
        if sku:
            cart = service.get_cart(session=session, storefront_id=storefront_id, consumer_key=consumer)
            have = next((x.quantity for x in cart.lines if sku in (x.sku_id, x.sku_code)), 0)
            try:
                service.set_cart_item(cart.id, sku, max(have, qty), session=session)
            except BconeError as exc:
                return _cart_page(
                    request,
                    session,
                    slug,
                    storefront_id,
                    consumer,
                    errors=_errors(exc),
                    status_code=exc.status,
                )
            return redirect_to(f"/s/{slug}/buy")
        return _cart_page(request, session, slug, storefront_id, consumer)


def _update_cart(request: Request, slug: str, form: dict[str, str]) -> Response:
    db, tenant_id, storefront_id = _open(request, slug)
    consumer = _consumer(request)
    if consumer is None:
        return redirect_to(f"/s/{slug}")
    with db.session(tenant_id=tenant_id) as session:
        cart = service.get_cart(session=session, storefront_id=storefront_id, consumer_key=consumer)
        try:
            with session.begin_nested():
                for key, value in form.items():
                    if key.startswith("qty_"):
                        service.set_cart_item(cart.id, key[4:], int(value or 0), session=session)
        except (BconeError, ValueError) as exc:
            err = (
                exc
                if isinstance(exc, BconeError)
                else BconeError("quantity must be a number", field="quantity")
            )
            return _cart_page(
                request, session, slug, storefront_id, consumer, errors=_errors(err), status_code=422
            )
    return redirect_to(f"/s/{slug}/buy")


@router.post("/s/{slug}/cart")
async def update_cart(request: Request, slug: str) -> Response:
    """Change quantities (``qty_<sku id>``; 0 removes a line)."""
    form = await _form(request)
    return await run_blocking(_update_cart, request, slug, form)


def _checkout_in(
    form: dict[str, str], storefront_id: str, consumer: str, items: list[dict[str, Any]]
) -> CheckoutIn:
    lng = form.get("lng") or None
    lat = form.get("lat") or None
    return CheckoutIn.model_validate(
        {
            "storefront_id": storefront_id,
            "consumer_key": consumer,
            "items": items,
            "address": {
                "name": form.get("name", ""),
                "phone": form.get("phone", ""),
                "division_code": form.get("division_code", ""),
                "line": form.get("line", ""),
                "lng": lng,
                "lat": lat,
            },
            "fulfilment": form.get("fulfilment") or "delivery",
            "coupon_code": form.get("coupon_code") or None,
        }
    )


def _place(
    request: Request, slug: str, storefront_id: str, consumer: str, form: dict[str, str], *, session: Session
) -> Response:
    """Check out the cart in one unit of work, committed in this (database) thread."""
    try:
        cart = service.get_cart(session=session, storefront_id=storefront_id, consumer_key=consumer)
        items = [{"sku_id": x.sku_id, "quantity": x.quantity} for x in cart.lines]
        try:
            if not items:
                raise BconeError("the cart is empty", field="items")
            data = _checkout_in(form, storefront_id, consumer, items)
            with session.begin_nested():
                order = service.checkout(data, session=session)
                service.clear_cart(cart.id, session=session)
        except (BconeError, ValidationError) as exc:
            session.rollback()
            status = exc.status if isinstance(exc, BconeError) else 422
            errors = {k.removeprefix("address."): v for k, v in _errors(exc).items()}
            return _cart_page(
                request, session, slug, storefront_id, consumer, form=form, errors=errors, status_code=status
            )
        session.commit()
    finally:
        session.close()
    return redirect_to(f"/s/{slug}/orders/{order.id}")


@router.post("/s/{slug}/buy")
async def place_order(request: Request, slug: str) -> Response:
    """Check out the cart; on bad input the page comes back naming the field, nothing written."""
    _, tenant_id, storefront_id = await run_blocking(_open, request, slug)
    consumer = _consumer(request)
    if consumer is None:
        return redirect_to(f"/s/{slug}")
    form = await _form(request)
    db: Database = request.app.state.db
    session = db.open_session(tenant_id=tenant_id)  # a write session: the writers' threads run it
    return await run_blocking(_place, request, slug, storefront_id, consumer, form, session=session)


@router.get("/s/{slug}/orders")
def my_orders(request: Request, slug: str) -> Response:
    db, tenant_id, storefront_id = _open(request, slug)
    consumer = _consumer(request)
    with db.session(tenant_id=tenant_id, write=False) as session:
        front = service.get_storefront(storefront_id, session=session)
        orders = (
            service.list_orders(PageParams(page_size=50), session=session, consumer_key=consumer).items
            if consumer
            else []
        )
    return _h5(request, "store/order_list.html", {"front": front, "slug": slug, "orders": orders})


@router.get("/s/{slug}/orders/{order_id}")
def order_page(request: Request, slug: str, order_id: str) -> Response:
    """The consumer's order: status, items, what to do next (pay, pickup code, confirm receipt)."""
    db, tenant_id, storefront_id = _open(request, slug)
    with db.session(tenant_id=tenant_id, write=False) as session:
        front = service.get_storefront(storefront_id, session=session)
        order = service.consumer_order(order_id, _consumer(request) or "", session=session)
        fulfiller = None
        if order.assigned_org_id:
            fulfiller = network.get_organization(order.assigned_org_id, session=session).name
    ctx = {"front": front, "slug": slug, "order": order, "fulfiller": fulfiller}
    return _h5(request, "store/order.html", ctx)


@router.post("/s/{slug}/orders/{order_id}/{action}")
def order_action(request: Request, slug: str, order_id: str, action: str) -> Response:
    """``pay`` (the simulator's page, or WeChat's JSAPI in WeChat), ``cancel``, ``received``."""
    db, tenant_id, _ = _open(request, slug)
    consumer = _consumer(request) or ""
    settings: Settings = request.app.state.settings
    with db.session(tenant_id=tenant_id) as session:
        service.consumer_order(order_id, consumer, session=session)
        if action == "pay":
            provider = service.provider_for(tenant_id, settings, base_url=str(request.base_url))
            payment = service.start_payment(
                order_id, session=session, provider=provider, payer_openid=consumer
            )
            if isinstance(provider, WechatPayJsapiProvider):
                ctx = {"slug": slug, "order_id": order_id, "params": json.dumps(payment.pay_params)}
                return _h5(request, "store/pay_wechat.html", ctx)
            return redirect_to(payment.pay_params.get("pay_url", f"/s/{slug}/orders/{order_id}"))
        if action == "cancel":
            service.cancel_order(order_id, session=session, actor="consumer", consumer_key=consumer)
        elif action == "received":
            service.confirm_delivery(order_id, session=session, actor="consumer")
        else:
            raise BconeError(f"unknown action {action!r}", field="action")
    return redirect_to(f"/s/{slug}/orders/{order_id}")


def _payment_context(request: Request, trade: str) -> tuple[Database, str, dict[str, Any]]:
    db: Database = request.app.state.db
    with db.session(write=False) as session:
        unscoped(session)
        tenant_id, order_id = service.find_payment(trade, session=session)
        bind_tenant(session, tenant_id)
        payment = service.get_payment(trade, session=session)
        order = service.get_order(order_id, session=session)
        slug = (
            service.get_storefront(order.storefront_id, session=session).slug if order.storefront_id else ""
        )
    return db, tenant_id, {"payment": payment, "order": order, "slug": slug}


@router.get("/s/pay/{trade}")
def simulator_page(request: Request, trade: str) -> Response:
    """The development payment simulator: what WeChat Pay's sheet would show, with a pay button."""
    _, _, ctx = _payment_context(request, trade)
    return _h5(request, "store/pay_simulator.html", ctx)


@router.post("/s/pay/{trade}")
def simulator_pay(request: Request, trade: str) -> Response:
    db, tenant_id, ctx = _payment_context(request, trade)
    settings: Settings = request.app.state.settings
    with db.session(tenant_id=tenant_id) as session:
        simulate_payment(trade, session=session, settings=settings)
    return redirect_to(f"/s/{ctx['slug']}/orders/{ctx['order'].id}")


# --- console: orders -------------------------------------------------------------------------


def _scope(principal: Principal) -> str | None:
    return network.partner_scope(principal)


@router.get("/store/orders")
def orders_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    status: OrderStatus | None = None,
    channel: Channel | None = None,
    storefront_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Response:
    """Every channel's orders: filter by status, channel and storefront; search; pages."""
    result = service.list_orders(
        page,
        session=session,
        status=status,
        channel=channel,
        storefront_id=storefront_id or None,
        scope_org_id=_scope(principal),
    )
    fronts = service.list_storefronts(PageParams(page_size=200), session=session).items
    ctx = {
        "result": result,
        "results_target": "order-results",
        "statuses": STATUSES,
        "channels": CHANNELS,
        "storefronts": fronts,
        "front_names": {f.id: f.name for f in fronts},
        "filters": {"status": status or "", "channel": channel or "", "storefront_id": storefront_id or ""},
    }
    return render_list(request, "store/orders.html", "store/_order_results.html", ctx)


def _order_detail(
    request: Request, principal: Principal, session: Session, order_id: str, **extra: Any
) -> Response:
    order = service.get_order(order_id, session=session, scope_org_id=_scope(principal))
    names: dict[str, str] = {}
    for org_id in {order.assigned_org_id, order.storefront_org_id, *(e.org_id for e in order.timeline)} - {
        None
    }:
        try:
            names[str(org_id)] = network.get_organization(str(org_id), session=session).name
        except BconeError:
            names[str(org_id)] = str(org_id)
    sharer = None
    if order.sharer_id:
        try:
            sharer = service.get_storefront(order.sharer_id, session=session).name
        except BconeError:
            sharer = order.sharer_id
    may_act = not principal.is_partner or principal.org_id == order.assigned_org_id
    division = network.division_label(order.division_code) if order.division_code else None
    ctx = {
        "order": order,
        "names": names,
        "sharer": sharer,
        "division": division,
        "actions": next_actions(order) if may_act else (),
        "can_manage": not principal.is_partner and principal.has_role(Role.marketer),
        "errors": {},
        **extra,
    }
    return render(request, "store/order_detail.html", ctx, status_code=400 if extra.get("errors") else 200)


@router.get("/store/orders/{order_id}")
def order_detail(
    request: Request, order_id: str, _: ConsolePrincipal, principal: Reader, session: SessionDep
) -> Response:
    return _order_detail(request, principal, session, order_id)


@router.post("/store/orders/{order_id}/act")
async def order_act(
    request: Request, order_id: str, _: ConsolePrincipal, principal: Fulfiller, session: SessionDep
) -> Response:
    """A fulfilment step (or, for the brand, cancel or refund) from the console or the portal."""
    form = await _form(request)
    action = form.get("action", "")
    org_id = principal.org_id if principal.is_partner else None
    actor = principal.display_name
    settings: Settings = request.app.state.settings
    try:
        with session.begin_nested():
            if action == "accept":
                order = service.accept_order(order_id, session=session, org_id=org_id, actor=actor)
            elif action == "decline":
                order = service.decline_order(
                    order_id, session=session, org_id=org_id, actor=actor, reason=form.get("reason", "")
                )
            elif action == "ship":
                order = service.ship_order(order_id, session=session, org_id=org_id, actor=actor)
            elif action == "ready":
                order = service.ready_order(order_id, session=session, org_id=org_id, actor=actor)
            elif action == "deliver":
                order = service.confirm_delivery(order_id, session=session, org_id=org_id, actor=actor)
            elif action == "pickup":
                order = service.confirm_pickup(
                    order_id, form.get("pickup_code", ""), session=session, org_id=org_id, actor=actor
                )
            elif action in ("cancel", "refund") and not principal.is_partner:
                if action == "cancel":
                    order = service.cancel_order(
                        order_id, session=session, actor=actor, reason=form.get("reason", "")
                    )
                else:
                    provider = service.provider_for(principal.tenant_id or "", settings)
                    order = service.refund_order(
                        order_id,
                        session=session,
                        provider=provider,
                        actor=actor,
                        reason=form.get("reason", ""),
                    )
            else:
                raise BconeError(f"unknown action {action!r}", field="action")
    except BconeError as exc:
        return _order_detail(request, principal, session, order_id, errors=_errors(exc))
    target = form.get("next", "")
    response = redirect_to(target if target.startswith("/store/") else f"/store/orders/{order_id}")
    flash(request, response, "orders.done", number=order.number)
    return response


# --- console: coupons and stock --------------------------------------------------------------


def _coupons_page(
    request: Request, session: Session, page: PageParams, principal: Principal, **extra: Any
) -> Response:
    status: CouponStatus | None = None
    wanted = request.query_params.get("status")
    if wanted in ("active", "disabled"):
        status = wanted  # type: ignore[assignment]
    ctx = {
        "result": service.list_coupons(page, session=session, status=status),
        "results_target": "coupon-results",
        "can_edit": principal.has_role(Role.marketer) and not principal.is_partner,
        "form": {"kind": "fixed"},
        "errors": {},
        **extra,
    }
    return (
        render_list(request, "store/coupons.html", "store/_coupon_results.html", ctx)
        if not extra.get("errors")
        else render(request, "store/coupons.html", ctx, status_code=422)
    )


@router.get("/store/coupons")
def coupons_page(
    request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep, page: PageDep
) -> Response:
    return _coupons_page(request, session, page, principal)


def _none_if_blank(form: dict[str, str], *names: str) -> dict[str, Any]:
    return {k: (v if v != "" else None) for k, v in form.items() if k in names}


@router.post("/store/coupons")
async def create_coupon_form(
    request: Request, _: ConsolePrincipal, principal: Editor, session: SessionDep
) -> Response:
    form = await _form(request)
    fields = (
        "code",
        "name",
        "kind",
        "amount_fen",
        "percent_off",
        "min_spend_fen",
        "max_discount_fen",
        "starts_at",
        "ends_at",
        "per_consumer_limit",
        "total_limit",
    )
    data = _none_if_blank(form, *fields)
    for name in ("amount_fen", "percent_off", "min_spend_fen"):
        if data.get(name) is None:
            data.pop(name, None)
    for name in ("starts_at", "ends_at"):
        if data.get(name) and len(str(data[name])) <= 16:  # a datetime-local value: China time
            data[name] = f"{data[name]}+08:00"
    try:
        with session.begin_nested():
            coupon = service.create_coupon(CouponIn.model_validate(data), session=session)
    except (ValidationError, BconeError) as exc:
        return _coupons_page(request, session, PageParams(), principal, form=form, errors=_errors(exc))
    response = redirect_to("/store/coupons")
    flash(request, response, "coupons.saved", code=coupon.code)
    return response


@router.post("/store/coupons/{coupon_id}/toggle")
async def toggle_coupon(
    request: Request, coupon_id: str, _: ConsolePrincipal, principal: Editor, session: SessionDep
) -> Response:
    coupon = service.get_coupon(coupon_id, session=session)
    service.set_coupon_status(
        coupon_id, "disabled" if coupon.status == "active" else "active", session=session
    )
    return redirect_to("/store/coupons")


def _stock_page(
    request: Request, session: Session, page: PageParams, principal: Principal, **extra: Any
) -> Response:
    scope = _scope(principal)
    org_ref = (request.query_params.get("org_id") or "").strip()
    sku_ref = (request.query_params.get("sku_id") or "").strip()
    org_id = scope or (_org_ref(session, org_ref) if org_ref else None)
    sku_id = _sku_ref(session, sku_ref) if sku_ref else None
    ctx = {
        "result": service.list_stock(page, session=session, org_id=org_id, sku_id=sku_id),
        "filters": {"org": org_ref, "sku": sku_ref},
        "results_target": "stock-results",
        "can_edit": principal.has_role(Role.marketer, Role.partner),
        "reasons": ("receipt", "count", "damage", "return", "transfer"),
        "form": {"org_id": scope or "", "reason": "receipt"},
        "errors": {},
        **extra,
    }
    if extra.get("errors"):
        return render(request, "store/stock.html", ctx, status_code=422)
    return render_list(request, "store/stock.html", "store/_stock_results.html", ctx)


@router.get("/store/stock")
def stock_page(
    request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep, page: PageDep
) -> Response:
    return _stock_page(request, session, page, principal)


@router.post("/store/stock")
async def adjust_stock_form(
    request: Request,
    _: ConsolePrincipal,
    principal: Annotated[Principal, Depends(require_roles(Role.marketer, Role.partner))],
    session: SessionDep,
) -> Response:
    form = await _form(request)
    try:
        data = StockAdjustIn.model_validate(
            {
                "org_id": _org_ref(session, form.get("org_id", "")),
                "sku_id": _sku_ref(session, form.get("sku_id", "")),
                "delta": form.get("delta") or 0,
                "reason": form.get("reason") or "receipt",
            }
        )
        scope = _scope(principal)
        if scope is not None and data.org_id not in network.organization_subtree_ids(scope, session=session):
            raise BconeError("that organisation is outside yours", field="org_id")
        with session.begin_nested():
            service.adjust_stock(data, session=session)
    except (ValidationError, BconeError) as exc:
        return _stock_page(request, session, PageParams(), principal, form=form, errors=_errors(exc))
    response = redirect_to("/store/stock")
    flash(request, response, "stock.saved")
    return response


def _org_ref(session: Session, ref: str) -> str:
    """An organisation id from an id or a partner code."""
    try:
        return network.get_organization_by_code(ref, session=session).id
    except BconeError:
        return ref


def _sku_ref(session: Session, ref: str) -> str:
    from bcone.catalog import service as catalog

    try:
        return catalog.get_sku_by_code(ref, session=session).id
    except BconeError:
        return ref
