"""Storefronts: one cloud store per partner, its assortment and the partner's prices, visits and
the tenant's cloud-store settings.

A storefront belongs to an organisation of the network (distributor, wholesaler, store) or to a
staff member (shop assistant, KOC). Its assortment is its own listings; a storefront without any
sells what its organisation's storefront lists (a shop assistant sells their store's goods), and
with neither the whole active brand catalog at list price.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuOut
from bcone.core.db import utcnow
from bcone.core.errors import NotFound
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.tenancy import current_tenant
from bcone.network import service as network
from bcone.store.errors import (
    InvalidStorefront,
    SlugTaken,
    StorefrontExists,
    StorefrontNotFound,
    UnknownSku,
)
from bcone.store.models import (
    DEFAULT_BINDING_DAYS,
    DEFAULT_RETURN_WINDOW_DAYS,
    CustomerBinding,
    Storefront,
    StorefrontListing,
    StorefrontVisit,
    StoreSettings,
)
from bcone.store.schemas import (
    ListingIn,
    ListingOut,
    StorefrontIn,
    StorefrontOut,
    StorefrontUpdate,
    StoreSettingsIn,
    StoreSettingsOut,
    VisitStats,
)

ORG_PARTNER_TYPES = frozenset({"distributor", "wholesaler", "store"})
STAFF_PARTNER_TYPES = frozenset({"shop_assistant", "koc"})
MAX_ASSORTMENT = 200


# --- settings ---------------------------------------------------------------------------------


def get_store_settings(*, session: Session) -> StoreSettingsOut:
    row = session.scalar(select(StoreSettings))
    if row is None:
        return StoreSettingsOut(
            binding_days=DEFAULT_BINDING_DAYS, return_window_days=DEFAULT_RETURN_WINDOW_DAYS
        )
    return StoreSettingsOut(binding_days=row.binding_days, return_window_days=row.return_window_days)


def update_store_settings(data: StoreSettingsIn, *, session: Session) -> StoreSettingsOut:
    row = session.scalar(select(StoreSettings))
    if row is None:
        row = StoreSettings(tenant_id=current_tenant(session))
        session.add(row)
    row.binding_days = data.binding_days
    row.return_window_days = data.return_window_days
    session.flush()
    return get_store_settings(session=session)


# --- storefronts ------------------------------------------------------------------------------


def storefront_out(row: Storefront) -> StorefrontOut:
    return StorefrontOut(
        id=row.id,
        partner_type=row.partner_type,
        org_id=row.org_id,
        staff_id=row.staff_id,
        name=row.name,
        contact_name=row.contact_name,
        contact_phone=row.contact_phone,
        slug=row.slug,
        status=row.status,
        url=f"/s/{row.slug}",
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def require_storefront(session: Session, storefront_id: str, *, field: str = "storefront_id") -> Storefront:
    row = session.get(Storefront, storefront_id) if storefront_id else None
    if row is None or row.tenant_id != current_tenant(session):
        raise StorefrontNotFound(f"no storefront {storefront_id}", field=field)
    return row


def _new_slug() -> str:
    return "s-" + secrets.token_hex(5)


def _insert(session: Session, row: Storefront, *, slug_given: bool) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        taken_by_partner = session.scalar(select(Storefront.id).where(Storefront.owner_id == row.owner_id))
        if taken_by_partner is not None:
            field = "org_id" if row.partner_type in ORG_PARTNER_TYPES else "staff_id"
            raise StorefrontExists(
                f"this partner already has storefront {taken_by_partner}", field=field
            ) from None
        if slug_given:
            raise SlugTaken(f"the address {row.slug!r} is taken", field="slug") from None
        raise


def create_storefront(data: StorefrontIn, *, session: Session) -> StorefrontOut:
    """A storefront for a partner; 404 naming ``org_id``/``staff_id`` for an unknown partner, 409
    when the partner has one already or the slug is taken."""
    partner_type: str
    org_id: str | None
    staff_id: str | None
    if data.org_id:
        org = network.get_organization(data.org_id, session=session)
        partner_type, owner_id, org_id, staff_id = org.kind, org.id, org.id, None
        name, contact_name, contact_phone = org.name, org.contact_name, org.contact_phone or ""
    else:
        staff = network.get_staff(data.staff_id or "", session=session)
        if staff.kind not in STAFF_PARTNER_TYPES:
            raise InvalidStorefront(
                "only shop assistants and KOCs have storefronts (sales reps sell for the brand)",
                field="staff_id",
            )
        partner_type, owner_id, org_id, staff_id = staff.kind, staff.id, staff.org_id, staff.id
        name, contact_name, contact_phone = staff.name, staff.name, staff.phone
    row = Storefront(
        partner_type=partner_type,
        owner_id=owner_id,
        org_id=org_id,
        staff_id=staff_id,
        name=data.name or name,
        contact_name=data.contact_name if data.contact_name is not None else contact_name,
        contact_phone=data.contact_phone if data.contact_phone is not None else contact_phone,
        slug=data.slug or _new_slug(),
        status=data.status,
    )
    _insert(session, row, slug_given=data.slug is not None)
    return storefront_out(row)


def storefront_for_partner(owner_id: str, *, session: Session) -> StorefrontOut | None:
    """The storefront of an organisation or staff member, if it has one."""
    row = session.scalar(select(Storefront).where(Storefront.owner_id == owner_id))
    return None if row is None else storefront_out(row)


def ensure_storefront(
    *, session: Session, org_id: str | None = None, staff_id: str | None = None
) -> StorefrontOut:
    """The partner's storefront, opened with the partner's name and contact if it has none."""
    owner = org_id or staff_id or ""
    found = storefront_for_partner(owner, session=session)
    if found is not None:
        return found
    try:
        return create_storefront(StorefrontIn(org_id=org_id, staff_id=staff_id), session=session)
    except StorefrontExists:  # opened concurrently
        found = storefront_for_partner(owner, session=session)
        if found is None:
            raise
        return found


def get_storefront(storefront_id: str, *, session: Session) -> StorefrontOut:
    return storefront_out(require_storefront(session, storefront_id))


def find_storefront_by_slug(slug: str, *, session: Session) -> tuple[str, StorefrontOut] | None:
    """(tenant id, storefront) for a public address; the session must be unscoped (the public
    page does not know the tenant yet)."""
    row = session.scalar(select(Storefront).where(Storefront.slug == slug.strip().lower()))
    return None if row is None else (row.tenant_id, storefront_out(row))


def get_storefront_by_slug(slug: str, *, session: Session) -> StorefrontOut:
    row = session.scalar(select(Storefront).where(Storefront.slug == slug.strip().lower()))
    if row is None:
        raise StorefrontNotFound(f"no storefront {slug!r}", field="slug")
    return storefront_out(row)


def update_storefront(storefront_id: str, data: StorefrontUpdate, *, session: Session) -> StorefrontOut:
    row = require_storefront(session, storefront_id)
    sent = data.model_fields_set
    for key in ("name", "contact_name", "contact_phone", "status"):
        value = getattr(data, key)
        if key in sent and value is not None:
            setattr(row, key, value)
    if "slug" in sent and data.slug and data.slug != row.slug:
        row.slug = data.slug
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:
            raise SlugTaken(f"the address {data.slug!r} is taken", field="slug") from None
    row.updated_at = utcnow()
    session.flush()
    return storefront_out(row)


def list_storefronts(
    params: PageParams,
    *,
    session: Session,
    partner_type: str | None = None,
    status: str | None = None,
    org_ids: list[str] | None = None,
) -> Page[StorefrontOut]:
    """Storefronts by name; ``q`` searches name, slug and contact; ``org_ids`` limits them to
    those organisations (and their shop assistants' and KOCs' storefronts)."""
    stmt = select(Storefront).order_by(Storefront.name, Storefront.id)
    if params.q:
        q = params.q
        stmt = stmt.where(
            or_(
                Storefront.name.icontains(q, autoescape=True),
                Storefront.slug.icontains(q, autoescape=True),
                Storefront.contact_name.icontains(q, autoescape=True),
                Storefront.contact_phone.icontains(q, autoescape=True),
            )
        )
    if partner_type:
        stmt = stmt.where(Storefront.partner_type == partner_type)
    if status:
        stmt = stmt.where(Storefront.status == status)
    if org_ids is not None:
        stmt = stmt.where(Storefront.org_id.in_(org_ids))
    rows, total = paginate_rows(session, stmt, params)
    return Page(
        items=[storefront_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size
    )


def storefront_names(ids: set[str], *, session: Session) -> dict[str, Storefront]:
    if not ids:
        return {}
    return {r.id: r for r in session.scalars(select(Storefront).where(Storefront.id.in_(ids)))}


def parent_storefront(row: Storefront, *, session: Session) -> Storefront | None:
    """Level 2 of a storefront: a shop assistant's or KOC's organisation, an organisation's parent
    in the network tree (a store's wholesaler or distributor). Opened when it has none yet."""
    if row.staff_id is not None:
        parent_org = row.org_id
    elif row.org_id is not None:
        parent_org = network.get_organization(row.org_id, session=session).parent_id
    else:
        parent_org = None
    if parent_org is None:
        return None
    found = ensure_storefront(session=session, org_id=parent_org)
    return require_storefront(session, found.id)


# --- assortment and partner prices ------------------------------------------------------------


def resolve_sku(session: Session, *, sku_id: str | None = None, sku_code: str | None = None) -> SkuOut:
    """A SKU by id or code; 422 ``unknown_sku`` naming the field when there is none."""
    try:
        if sku_id:
            return catalog.get_sku(sku_id, session=session)
        return catalog.get_sku_by_code(sku_code or "", session=session)
    except NotFound:
        field = "sku_id" if sku_id else "sku_code"
        raise UnknownSku(f"no SKU {sku_id or sku_code!r}", field=field) from None


def sku_by_id_or_code(session: Session, value: str) -> SkuOut:
    """A SKU given by id or code (the orders side passes either)."""
    try:
        return catalog.get_sku(value, session=session)
    except NotFound:
        try:
            return catalog.get_sku_by_code(value, session=session)
        except NotFound:
            raise UnknownSku(f"no SKU {value!r}", field="sku") from None


def assortment_owner(row: Storefront, *, session: Session) -> Storefront | None:
    """The storefront whose listings ``row`` sells: its own, else its organisation's (for a shop
    assistant or KOC), else None (the whole brand catalog)."""
    if _listing_count(session, row.id):
        return row
    if row.staff_id is not None and row.org_id is not None:
        org_front = session.scalar(select(Storefront).where(Storefront.owner_id == row.org_id))
        if org_front is not None and _listing_count(session, org_front.id):
            return org_front
    return None


def _listing_count(session: Session, storefront_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(StorefrontListing)
            .where(StorefrontListing.storefront_id == storefront_id)
        )
        or 0
    )


def listing_price(session: Session, row: Storefront, sku_id: str) -> tuple[bool, int | None]:
    """(sold here, partner price or None) of one SKU in ``row``'s assortment."""
    owner = assortment_owner(row, session=session)
    if owner is None:
        return True, None
    listing = session.scalar(
        select(StorefrontListing).where(
            StorefrontListing.storefront_id == owner.id, StorefrontListing.sku_id == sku_id
        )
    )
    if listing is None or not listing.active:
        return False, None
    return True, listing.price_fen


def _listing_out(sku: SkuOut, listing: StorefrontListing | None) -> ListingOut:
    price = listing.price_fen if listing is not None else None
    return ListingOut(
        sku_id=sku.id,
        sku_code=sku.sku_code,
        name=sku.name,
        product_name=sku.product_name,
        category=sku.product_line,
        specification=sku.specification,
        unit=sku.unit,
        list_price_fen=sku.list_price_fen,
        price_fen=price,
        effective_price_fen=sku.list_price_fen if price is None else price,
        active=listing.active if listing is not None else True,
        listed=listing is not None,
    )


def set_listing(storefront_id: str, data: ListingIn, *, session: Session) -> ListingOut:
    """Add a SKU to a storefront's assortment or change its price; a price outside the brand's
    rules for the storefront's region is refused (422 naming ``price_fen``)."""
    from bcone.store._pricing import check_price  # the pricing module reads listings too

    row = require_storefront(session, storefront_id)
    sku = resolve_sku(session, sku_id=data.sku_id, sku_code=data.sku_code)
    if data.price_fen is not None:
        check_price(
            session,
            sku=sku,
            price_fen=data.price_fen,
            region=storefront_region(session, row),
            field="price_fen",
        )
    listing = session.scalar(
        select(StorefrontListing).where(
            StorefrontListing.storefront_id == row.id, StorefrontListing.sku_id == sku.id
        )
    )
    if listing is None:
        listing = StorefrontListing(storefront_id=row.id, sku_id=sku.id)
        session.add(listing)
    listing.price_fen = data.price_fen
    listing.active = data.active
    session.flush()
    return _listing_out(sku, listing)


def remove_listing(storefront_id: str, sku_id: str, *, session: Session) -> None:
    row = require_storefront(session, storefront_id)
    listing = session.scalar(
        select(StorefrontListing).where(
            StorefrontListing.storefront_id == row.id, StorefrontListing.sku_id == sku_id
        )
    )
    if listing is None:
        raise UnknownSku(f"SKU {sku_id} is not in this storefront's assortment", field="sku_id")
    session.delete(listing)
    session.flush()


def list_assortment(storefront_id: str, *, session: Session, q: str | None = None) -> list[ListingOut]:
    """What a storefront sells (active listings only, or the brand catalog), with its prices."""
    row = require_storefront(session, storefront_id)
    owner = assortment_owner(row, session=session)
    if owner is None:
        skus = catalog.list_skus(PageParams(page_size=MAX_ASSORTMENT, q=q), session=session, status="active")
        return [_listing_out(s, None) for s in skus.items]
    listings = list(
        session.scalars(
            select(StorefrontListing)
            .where(StorefrontListing.storefront_id == owner.id)
            .order_by(StorefrontListing.created_at)
            .limit(MAX_ASSORTMENT)
        )
    )
    out = []
    for listing in listings:
        try:
            sku = catalog.get_sku(listing.sku_id, session=session)
        except NotFound:
            continue
        if sku.status != "active":
            continue
        if q and q.lower() not in f"{sku.sku_code} {sku.name} {sku.product_name}".lower():
            continue
        out.append(_listing_out(sku, listing))
    return out


def storefront_region(session: Session, row: Storefront) -> str | None:
    """The division code of the storefront's organisation (its prices obey that region's rules)."""
    if row.org_id is None:
        return None
    return network.get_organization(row.org_id, session=session).division_code


# --- visits -----------------------------------------------------------------------------------


def record_visit(
    session: Session,
    row: Storefront,
    *,
    consumer_key: str | None,
    share_link_id: str | None = None,
    sharer_storefront_id: str | None = None,
    at: datetime | None = None,
) -> StorefrontVisit:
    visit = StorefrontVisit(
        storefront_id=row.id,
        share_link_id=share_link_id,
        sharer_storefront_id=sharer_storefront_id,
        consumer_key=consumer_key,
        created_at=at or utcnow(),
    )
    session.add(visit)
    session.flush()
    return visit


def visit_stats(storefront_ids: list[str], *, session: Session, since: datetime | None = None) -> VisitStats:
    """Visits of these storefronts, how many came through a share link, distinct consumers, and
    the consumers bound to these storefronts as sharers."""
    stmt = select(
        func.count(),
        func.count(StorefrontVisit.share_link_id),
        func.count(func.distinct(StorefrontVisit.consumer_key)),
    ).where(StorefrontVisit.storefront_id.in_(storefront_ids))
    if since is not None:
        stmt = stmt.where(StorefrontVisit.created_at >= since)
    visits, shared, consumers = session.execute(stmt).one()
    bindings = session.scalar(
        select(func.count())
        .select_from(CustomerBinding)
        .where(
            CustomerBinding.sharer_storefront_id.in_(storefront_ids), CustomerBinding.expires_at > utcnow()
        )
    )
    return VisitStats(
        visits=int(visits or 0),
        share_visits=int(shared or 0),
        consumers=int(consumers or 0),
        bindings=int(bindings or 0),
    )


def record_storefront_visit(storefront_id: str, *, session: Session, consumer_key: str | None) -> None:
    """A visit of a storefront page without a share link."""
    record_visit(session, require_storefront(session, storefront_id), consumer_key=consumer_key)
