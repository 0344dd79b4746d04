"""Pages of the store domain: the consumers' storefront (H5) and share poster, the partner
portal, and the console pages for storefronts, price rules, commission rules, settlements and
sales by sharer.

The storefront page ``/s/{slug}`` is public. Its consumer identity is the development identity
of the H5 pages (as on the scan page): ``openid`` from the query or the cookie; a visitor with
neither gets a random one in the ``openid`` cookie, so the later checkout sees the same consumer.
With ``?share=<token>`` the visit is attributed to the link's sharer and binds the consumer.
"""

from __future__ import annotations

import io
import re
import secrets
from typing import Annotated, Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import escape
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.db import Database
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import BconeError, NotFound
from bcone.core.pagination import PageParams
from bcone.core.tenancy import unscoped
from bcone.network import service as network
from bcone.store import service
from bcone.store.api import partner_org_ids, visible_storefront
from bcone.store.errors import ShareLinkNotFound, StorefrontNotFound
from bcone.store.messages import register as _register_messages
from bcone.store.schemas import (
    CommissionRuleIn,
    ListingIn,
    PriceRuleIn,
    ShareLinkIn,
    StorefrontIn,
    StorefrontOut,
    StoreSettingsIn,
)
from bcone.web.deps import ConsolePrincipal
from bcone.web.i18n import translate
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import flash, redirect_to, render, render_list

_register_messages()
register_nav_item(NavItem("nav.store", "/store/storefronts", "box", 47, prefixes=("/store",)))
register_nav_item(NavItem("nav.store_portal", "/store/portal", "inbox", 48, partner=True))

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES))]
PortalReader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES, Role.partner))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]
Owner = Annotated[Principal, Depends(require_roles())]

OPENID_COOKIE = "openid"
OPENID_MAX_AGE = 365 * 24 * 3600
_OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PARTNER_TYPES = ("distributor", "wholesaler", "store", "shop_assistant", "koc")
CHANNELS = ("store", "tmall", "jd", "douyin")
COMMISSION_STATUSES = ("pending", "settled", "clawed_back", "cancelled")


def _error(exc: Exception) -> dict[str, str]:
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


def _int_or_none(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


# --- consumer pages (public) ------------------------------------------------------------------


def _consumer(request: Request, openid: str | None) -> tuple[str, bool]:
    """(consumer key, whether the cookie must be set)."""
    for candidate in (openid, request.cookies.get(OPENID_COOKIE)):
        if candidate and _OPENID.match(candidate):
            return candidate, candidate != request.cookies.get(OPENID_COOKIE)
    return "dev-" + secrets.token_urlsafe(12), True


def _open_storefront(request: Request, slug: str) -> tuple[Database, str, StorefrontOut]:
    db: Database = request.app.state.db
    with db.session(write=False) as session:
        unscoped(session)
        found = service.find_storefront_by_slug(slug, session=session)
    if found is None:
        raise StorefrontNotFound(f"no storefront {slug!r}", field="slug")
    return db, found[0], found[1]


@router.get("/s/{slug}")
def storefront_page(
    request: Request,
    slug: str,
    share: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    openid: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """A partner's cloud store (mobile H5): the brand's goods in the partner's assortment at the
    partner's prices, the partner's name and contact. ``?share=`` attributes the visit."""
    db, tenant_id, front = _open_storefront(request, slug)
    consumer, set_cookie = _consumer(request, openid)
    with db.session(tenant_id=tenant_id, write=True) as session:
        binding = None
        if share:
            try:
                binding = service.attribute_visit(session=session, share_token=share, consumer_key=consumer)
            except ShareLinkNotFound:
                binding = None
        if binding is None:
            service.record_storefront_visit(front.id, session=session, consumer_key=consumer)
            binding = service.current_binding(session=session, consumer_key=consumer)
        items = service.list_assortment(front.id, session=session, q=(q or "").strip() or None)
    ctx = {
        "front": front,
        "items": items if front.status == "active" else [],
        "binding": binding,
        "share": share or "",
        "q": q or "",
        "consumer": consumer,
    }
    response = render(request, "store/storefront.html", ctx)
    if set_cookie:
        response.set_cookie(OPENID_COOKIE, consumer, max_age=OPENID_MAX_AGE, samesite="lax")
    return response


def _share_url(request: Request, front: StorefrontOut, share: str | None) -> str:
    base = str(request.base_url).rstrip("/")
    return f"{base}/s/{front.slug}" + (f"?share={quote(share)}" if share else "")


@router.get("/s/{slug}/poster.svg")
def poster_svg(
    request: Request, slug: str, share: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The share poster: the storefront's name and contact and a QR code of the share link."""
    _, _, front = _open_storefront(request, slug)
    url = _share_url(request, front, share)
    qr = segno.make_qr(url, error="m")
    size = qr.symbol_size(scale=7, border=2)[0]
    locale = request.cookies.get("bcone_lang") or request.app.state.settings.default_locale
    title = escape(translate("store.h5.title", locale, name=front.name))
    scan = escape(translate("store.h5.scan_to_shop", locale))
    contact = escape(f"{front.contact_name} {front.contact_phone}".strip())
    width, height = 400, 140 + size + 90
    qr_x = (width - size) // 2
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<rect width="100%" height="100%" rx="16" fill="#c8102e"/>'
        f'<rect x="16" y="110" width="{width - 32}" height="{size + 80}" rx="12" fill="#fff"/>'
        f'<text x="{width // 2}" y="56" font-size="24" font-weight="bold" fill="#fff" text-anchor="middle" '
        f'font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif">{title}</text>'
        f'<text x="{width // 2}" y="88" font-size="15" fill="#fde7ea" text-anchor="middle" '
        f'font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif">{contact}</text>'
        f'<g transform="translate({qr_x},126)">{qr.svg_inline(scale=7, border=2)}</g>'
        f'<text x="{width // 2}" y="{126 + size + 40}" font-size="16" fill="#57606a" text-anchor="middle" '
        f'font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif">{scan}</text>'
        "</svg>"
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/s/{slug}/poster.png")
def poster_png(
    request: Request, slug: str, share: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The share link's QR code as a PNG (to save and print)."""
    _, _, front = _open_storefront(request, slug)
    buffer = io.BytesIO()
    segno.make_qr(_share_url(request, front, share), error="m").save(buffer, kind="png", scale=8, border=3)
    return Response(buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "no-store"})


# --- partner portal ---------------------------------------------------------------------------


def _portal_front(principal: Principal, session: Session, storefront_id: str | None) -> StorefrontOut | None:
    if storefront_id:
        return visible_storefront(principal, storefront_id, session)
    if principal.is_partner and principal.org_id:
        return service.storefront_for_partner(principal.org_id, session=session)
    return None


def _team(front: StorefrontOut, session: Session) -> list[StorefrontOut]:
    org_ids = (
        network.organization_subtree_ids(front.org_id, session=session)
        if front.org_id and not front.staff_id
        else []
    )
    if not org_ids:
        return [front]
    return service.list_storefronts(PageParams(page_size=200), session=session, org_ids=org_ids).items


@router.get("/store/portal")
def portal_page(
    request: Request,
    _: ConsolePrincipal,
    principal: PortalReader,
    session: SessionDep,
    page: PageDep,
    storefront_id: str | None = None,
) -> Response:
    """A partner's view: visits, orders to fulfil, commissions and settlements, leaderboard."""
    front = _portal_front(principal, session, storefront_id)
    if front is None:
        ctx: dict[str, Any] = {"front": None, "storefronts": _portal_choices(principal, session)}
        return render(request, "store/portal.html", ctx)
    team = _team(front, session)
    team_ids = [f.id for f in team]
    orders = None
    list_orders = getattr(service, "list_orders_for_org", None)
    if callable(list_orders) and front.org_id and not front.staff_id:
        orders = list_orders(session=session, org_id=front.org_id, params=PageParams(page_size=20))
    own_link = service.create_share_link(ShareLinkIn(storefront_id=front.id), session=session)
    ctx = {
        "front": front,
        "stats": service.visit_stats(team_ids, session=session),
        "orders": orders,
        "commissions": service.list_commissions(page, session=session, storefront_ids=[front.id]),
        "statement": service.partner_statement(front.id, PageParams(page_size=20), session=session),
        "leaderboard": service.sharer_leaderboard(
            session=session, org_ids=[f.org_id for f in team if f.org_id] or None
        ),
        "team": team,
        "share_link": own_link,
        "share_url": _share_url(request, front, own_link.token),
    }
    return render(request, "store/portal.html", ctx)


def _portal_choices(principal: Principal, session: Session) -> list[StorefrontOut]:
    if principal.is_partner:
        return []
    return service.list_storefronts(PageParams(page_size=50), session=session).items


# --- console: storefronts ---------------------------------------------------------------------


def _storefront_list(
    request: Request, session: Session, page: PageParams, *, status_code: int = 200, **extra: Any
) -> Response:
    partner_type = request.query_params.get("partner_type") or None
    status = request.query_params.get("status") or None
    result = service.list_storefronts(
        page,
        session=session,
        partner_type=partner_type if partner_type in PARTNER_TYPES else None,
        status=status if status in ("active", "paused") else None,
    )
    ctx = {
        "result": result,
        "filtered": bool(page.q or partner_type or status),
        "partner_types": PARTNER_TYPES,
        "results_target": "storefront-results",
        "form": {},
        "errors": {},
        **extra,
    }
    if status_code != 200:
        return render(request, "store/storefronts.html", ctx, status_code=status_code)
    return render_list(request, "store/storefronts.html", "store/_storefront_results.html", ctx)


@router.get("/store/storefronts")
def storefronts_page(
    request: Request, _: ConsolePrincipal, __: Reader, session: SessionDep, page: PageDep
) -> Response:
    """Every storefront, with search, filters, pages and the form that opens one."""
    return _storefront_list(request, session, page)


def _find_partner(session: Session, kind: str, ref: str) -> dict[str, str]:
    """The partner of the console form, by id or code: ``{"org_id": ...}`` or ``{"staff_id": ...}``."""
    if kind == "staff":
        try:
            return {"staff_id": network.get_staff(ref, session=session).id}
        except NotFound:
            found = network.list_staff(PageParams(q=ref, page_size=5), session=session).items
            match = [s for s in found if s.employee_code == ref]
            return {"staff_id": match[0].id if match else ref}
    try:
        return {"org_id": network.get_organization(ref, session=session).id}
    except NotFound:
        try:
            return {"org_id": network.get_organization_by_code(ref, session=session).id}
        except NotFound:
            return {"org_id": ref}


@router.post("/store/storefronts")
async def create_storefront_form(
    request: Request, _: ConsolePrincipal, __: Editor, session: SessionDep
) -> Response:
    data = await _form(request)
    try:
        owner = _find_partner(session, data.get("partner_kind", "org"), data.get("partner", ""))
        body = StorefrontIn.model_validate(
            {
                **owner,
                "name": data.get("name") or None,
                "slug": data.get("slug") or None,
                "contact_name": data.get("contact_name") or None,
                "contact_phone": data.get("contact_phone") or None,
            }
        )
        front = service.create_storefront(body, session=session)
    except (ValidationError, BconeError) as exc:
        session.rollback()
        errors = _error(exc)
        if "org_id" in errors or "staff_id" in errors:
            errors["partner"] = errors.pop("org_id", "") or errors.pop("staff_id", "")
        return _storefront_list(request, session, PageParams(), form=data, errors=errors, status_code=422)
    response = redirect_to(f"/store/storefronts/{front.id}")
    flash(request, response, "store.saved")
    return response


def _detail(
    request: Request, session: Session, front: StorefrontOut, principal: Principal, **extra: Any
) -> Response:
    ctx = {
        "front": front,
        "items": service.list_assortment(front.id, session=session),
        "links": service.list_share_links(PageParams(page_size=50), session=session, storefront_id=front.id),
        "stats": service.visit_stats([front.id], session=session),
        "statement": service.partner_statement(front.id, PageParams(page_size=10), session=session),
        "can_edit": principal.has_role(Role.marketer) or principal.is_partner,
        "form": {},
        "errors": {},
        **extra,
    }
    status = 422 if extra.get("errors") else 200
    return render(request, "store/storefront_detail.html", ctx, status_code=status)


@router.get("/store/storefronts/{storefront_id}")
def storefront_detail(
    request: Request, storefront_id: str, _: ConsolePrincipal, principal: PortalReader, session: SessionDep
) -> Response:
    """One storefront: its goods and prices, share links, visits and statement."""
    front = visible_storefront(principal, storefront_id, session)
    return _detail(request, session, front, principal)


_PartnerEditor = Annotated[Principal, Depends(require_roles(Role.marketer, Role.partner))]


@router.post("/store/storefronts/{storefront_id}/listings")
async def set_listing_form(
    request: Request, storefront_id: str, _: ConsolePrincipal, principal: _PartnerEditor, session: SessionDep
) -> Response:
    front = visible_storefront(principal, storefront_id, session)
    data = await _form(request)
    try:
        body = ListingIn.model_validate(
            {"sku_code": data.get("sku_code", ""), "price_fen": _int_or_none(data.get("price_fen"))}
        )
        service.set_listing(front.id, body, session=session)
    except (ValidationError, BconeError) as exc:
        session.rollback()
        return _detail(request, session, front, principal, form=data, errors=_error(exc))
    response = redirect_to(f"/store/storefronts/{front.id}")
    flash(request, response, "store.saved")
    return response


@router.post("/store/storefronts/{storefront_id}/listings/{sku_id}/delete")
def remove_listing_form(
    request: Request,
    storefront_id: str,
    sku_id: str,
    _: ConsolePrincipal,
    principal: _PartnerEditor,
    session: SessionDep,
) -> Response:
    front = visible_storefront(principal, storefront_id, session)
    service.remove_listing(front.id, sku_id, session=session)
    response = redirect_to(f"/store/storefronts/{front.id}")
    flash(request, response, "store.deleted")
    return response


@router.post("/store/storefronts/{storefront_id}/share-links")
async def share_link_form(
    request: Request, storefront_id: str, _: ConsolePrincipal, principal: PortalReader, session: SessionDep
) -> Response:
    front = visible_storefront(principal, storefront_id, session)
    data = await _form(request)
    sharer = data.get("sharer_storefront_id") or front.id
    visible_storefront(principal, sharer, session)
    service.create_share_link(
        ShareLinkIn(storefront_id=front.id, sharer_storefront_id=sharer), session=session
    )
    response = redirect_to(f"/store/storefronts/{front.id}")
    flash(request, response, "store.saved")
    return response


# --- console: price rules ---------------------------------------------------------------------


def _rules_page(
    request: Request, session: Session, page: PageParams, principal: Principal, **extra: Any
) -> Response:
    ctx = {
        "result": service.list_price_rules(page, session=session),
        "channels": CHANNELS,
        "can_edit": principal.has_role(Role.marketer),
        "results_target": "price-rule-results",
        "form": {},
        "errors": {},
        **extra,
    }
    status = 422 if extra.get("errors") else 200
    if status != 200:
        return render(request, "store/price_rules.html", ctx, status_code=status)
    return render_list(request, "store/price_rules.html", "store/_price_rule_results.html", ctx)


@router.get("/store/price-rules")
def price_rules_page(
    request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep, page: PageDep
) -> Response:
    """The brand's price bands per SKU, channel and region."""
    return _rules_page(request, session, page, principal)


@router.post("/store/price-rules")
async def create_price_rule_form(
    request: Request, _: ConsolePrincipal, principal: Editor, session: SessionDep
) -> Response:
    data = await _form(request)
    try:
        body = PriceRuleIn.model_validate(
            {
                "sku_code": data.get("sku_code", ""),
                "channel": data.get("channel") or None,
                "region_prefix": data.get("region_prefix", ""),
                "floor_fen": _int_or_none(data.get("floor_fen")),
                "ceiling_fen": _int_or_none(data.get("ceiling_fen")),
            }
        )
        service.create_price_rule(body, session=session)
    except (ValidationError, BconeError) as exc:
        session.rollback()
        return _rules_page(request, session, PageParams(), principal, form=data, errors=_error(exc))
    response = redirect_to("/store/price-rules")
    flash(request, response, "store.saved")
    return response


@router.post("/store/price-rules/{rule_id}/delete")
def delete_price_rule_form(
    request: Request, rule_id: str, _: ConsolePrincipal, __: Editor, session: SessionDep
) -> Response:
    service.delete_price_rule(rule_id, session=session)
    response = redirect_to("/store/price-rules")
    flash(request, response, "store.deleted")
    return response


# --- console: commission rules ----------------------------------------------------------------


def _commission_rules_page(
    request: Request, session: Session, page: PageParams, principal: Principal, **extra: Any
) -> Response:
    ctx = {
        "result": service.list_commission_rules(page, session=session),
        "partner_types": PARTNER_TYPES,
        "can_edit": principal.has_role(Role.marketer),
        "form": {},
        "errors": {},
        **extra,
    }
    return render(
        request, "store/commission_rules.html", ctx, status_code=422 if extra.get("errors") else 200
    )


@router.get("/store/commission-rules")
def commission_rules_page(
    request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep, page: PageDep
) -> Response:
    """Level-1 and level-2 commission rates per SKU or category and partner type."""
    return _commission_rules_page(request, session, page, principal)


@router.post("/store/commission-rules")
async def create_commission_rule_form(
    request: Request, _: ConsolePrincipal, principal: Editor, session: SessionDep
) -> Response:
    data = await _form(request)
    try:
        body = CommissionRuleIn.model_validate(
            {
                "partner_type": data.get("partner_type") or None,
                "sku_code": data.get("sku_code") or None,
                "category": data.get("category") or None,
                "level1_bp": data.get("level1_bp", ""),
                "level2_bp": data.get("level2_bp") or 0,
            }
        )
        service.create_commission_rule(body, session=session)
    except (ValidationError, BconeError) as exc:
        session.rollback()
        return _commission_rules_page(
            request, session, PageParams(), principal, form=data, errors=_error(exc)
        )
    response = redirect_to("/store/commission-rules")
    flash(request, response, "store.saved")
    return response


@router.post("/store/commission-rules/{rule_id}/delete")
def delete_commission_rule_form(
    request: Request, rule_id: str, _: ConsolePrincipal, __: Editor, session: SessionDep
) -> Response:
    service.delete_commission_rule(rule_id, session=session)
    response = redirect_to("/store/commission-rules")
    flash(request, response, "store.deleted")
    return response


# --- console: settlements and sales by sharer -------------------------------------------------


def _settlements(
    request: Request, session: Session, page: PageParams, principal: Principal, **extra: Any
) -> Response:
    status = request.query_params.get("status") or None
    ctx = {
        "result": service.list_commissions(
            page, session=session, status=status if status in COMMISSION_STATUSES else None
        ),
        "statuses": COMMISSION_STATUSES,
        "totals": service.commission_totals(None, session=session),
        "settings": service.get_store_settings(session=session),
        "can_settle": principal.has_role(),
        "filtered": bool(page.q or status),
        "results_target": "commission-results",
        "form": {},
        "errors": {},
        **extra,
    }
    if extra.get("errors"):
        return render(request, "store/settlements.html", ctx, status_code=422)
    return render_list(request, "store/settlements.html", "store/_commission_results.html", ctx)


@router.get("/store/settlements")
def settlements_page(
    request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep, page: PageDep
) -> Response:
    """Commissions by status with totals; owners settle due commissions and set the windows."""
    return _settlements(request, session, page, principal)


@router.post("/store/settlements/settle")
def settle_form(request: Request, _: ConsolePrincipal, __: Owner, session: SessionDep) -> Response:
    count = service.settle_due_commissions(session=session)
    response = redirect_to("/store/settlements")
    flash(request, response, "store.settled_count", count=str(count))
    return response


@router.post("/store/settlements/settings")
async def settings_form(
    request: Request, _: ConsolePrincipal, principal: Owner, session: SessionDep
) -> Response:
    data = await _form(request)
    try:
        service.update_store_settings(StoreSettingsIn.model_validate(data), session=session)
    except (ValidationError, BconeError) as exc:
        session.rollback()
        return _settlements(request, session, PageParams(), principal, form=data, errors=_error(exc))
    response = redirect_to("/store/settlements")
    flash(request, response, "store.saved")
    return response


@router.get("/store/sharers")
def sharers_page(request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep) -> Response:
    """Sales by sharer: visits, bound customers, orders, sales and commission per sharer."""
    ranks = service.sharer_leaderboard(
        session=session, org_ids=partner_org_ids(principal, session), limit=200
    )
    return render(request, "store/sharers.html", {"ranks": ranks})
