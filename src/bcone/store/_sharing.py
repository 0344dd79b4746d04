"""Share links, share visits and customer binding (锁客).

A share link carries its sharer (a storefront: the partner, shop assistant or KOC who shares it).
Opening it records a visit and the event ``share.clicked``, and binds the consumer to the sharer
for the tenant's binding period (default 30 days). The first binding wins while it is valid: a
consumer opening another sharer's link keeps their binding; once it has expired, the next link
opened takes it over. ``store_bindings`` holds one row per consumer, so concurrent first visits
cannot both bind (the unique key lets one insert through; the other reads the winner), and an
expired row is taken over by one conditional ``UPDATE … WHERE expires_at <= now``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.db import utcnow
from bcone.core.events import append_event
from bcone.core.ids import new_token
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.store._storefronts import (
    get_store_settings,
    record_visit,
    require_storefront,
    resolve_sku,
    storefront_names,
)
from bcone.store.errors import ShareLinkNotFound
from bcone.store.models import CustomerBinding, ShareLink, Storefront, StorefrontVisit
from bcone.store.schemas import BindingOut, ShareLinkIn, ShareLinkOut

SHARE_CHANNEL = "wechat"


def aware(value: datetime) -> datetime:
    """SQLite hands back UTC datetimes without a zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _link_out(session: Session, row: ShareLink, *, visits: int | None = None) -> ShareLinkOut:
    fronts = storefront_names({row.storefront_id, row.sharer_storefront_id}, session=session)
    target, sharer = fronts[row.storefront_id], fronts[row.sharer_storefront_id]
    if visits is None:
        visits = int(
            session.scalar(
                select(func.count())
                .select_from(StorefrontVisit)
                .where(StorefrontVisit.share_link_id == row.id)
            )
            or 0
        )
    query = f"share={row.token}" + (f"&sku={row.sku_id}" if row.sku_id else "")
    return ShareLinkOut(
        id=row.id,
        token=row.token,
        storefront_id=row.storefront_id,
        storefront_slug=target.slug,
        sharer_storefront_id=row.sharer_storefront_id,
        sharer_name=sharer.name,
        sku_id=row.sku_id,
        url=f"/s/{target.slug}?{query}",
        visits=visits,
        created_at=row.created_at,
    )


def create_share_link(data: ShareLinkIn, *, session: Session) -> ShareLinkOut:
    """A share link to a storefront carrying its sharer; the same sharer, storefront and SKU get
    the same link back."""
    target = require_storefront(session, data.storefront_id)
    sharer = require_storefront(session, data.sharer_storefront_id or target.id, field="sharer_storefront_id")
    sku_id = resolve_sku(session, sku_id=data.sku_id).id if data.sku_id else None
    existing = session.scalar(
        select(ShareLink).where(
            ShareLink.storefront_id == target.id,
            ShareLink.sharer_storefront_id == sharer.id,
            ShareLink.sku_id.is_(None) if sku_id is None else ShareLink.sku_id == sku_id,
        )
    )
    if existing is not None:
        return _link_out(session, existing)
    row = ShareLink(
        token=new_token(nbytes=12), storefront_id=target.id, sharer_storefront_id=sharer.id, sku_id=sku_id
    )
    session.add(row)
    session.flush()
    return _link_out(session, row, visits=0)


def find_share_link(token: str, *, session: Session) -> ShareLink | None:
    """The link of ``token`` (any tenant when the session is unscoped: the public page)."""
    return session.scalar(select(ShareLink).where(ShareLink.token == token.strip()))


def get_share_link(token: str, *, session: Session) -> ShareLinkOut:
    row = find_share_link(token, session=session)
    if row is None:
        raise ShareLinkNotFound("no such share link", field="share")
    return _link_out(session, row)


def list_share_links(
    params: PageParams,
    *,
    session: Session,
    sharer_storefront_id: str | None = None,
    storefront_id: str | None = None,
) -> Page[ShareLinkOut]:
    stmt = select(ShareLink).order_by(ShareLink.created_at.desc(), ShareLink.id)
    if sharer_storefront_id:
        stmt = stmt.where(ShareLink.sharer_storefront_id == sharer_storefront_id)
    if storefront_id:
        stmt = stmt.where(ShareLink.storefront_id == storefront_id)
    rows, total = paginate_rows(session, stmt, params)
    return Page(
        items=[_link_out(session, r) for r in rows], total=total, page=params.page, page_size=params.page_size
    )


def _binding_out(session: Session, row: CustomerBinding, *, created: bool) -> BindingOut:
    sharer = session.scalar(select(Storefront.name).where(Storefront.id == row.sharer_storefront_id)) or ""
    return BindingOut(
        consumer_key=row.consumer_key,
        sharer_storefront_id=row.sharer_storefront_id,
        sharer_name=sharer,
        share_link_id=row.share_link_id,
        bound_at=aware(row.bound_at),
        expires_at=aware(row.expires_at),
        created=created,
    )


def _binding_row(session: Session, consumer_key: str) -> CustomerBinding | None:
    return session.scalar(
        select(CustomerBinding)
        .where(CustomerBinding.consumer_key == consumer_key)
        .execution_options(populate_existing=True)
    )


def current_binding(*, session: Session, consumer_key: str, at: datetime | None = None) -> BindingOut | None:
    """The consumer's valid binding at ``at`` (default now), or None."""
    row = _binding_row(session, consumer_key)
    if row is None or aware(row.expires_at) <= (at or utcnow()):
        return None
    return _binding_out(session, row, created=False)


def bind_consumer(
    session: Session,
    *,
    consumer_key: str,
    sharer_storefront_id: str,
    share_link_id: str | None,
    now: datetime,
) -> BindingOut:
    """Bind the consumer to the sharer unless a valid binding exists; returns the binding in force."""
    days = get_store_settings(session=session).binding_days
    expires = now + timedelta(days=days)
    row = _binding_row(session, consumer_key)
    if row is None:
        row = CustomerBinding(
            consumer_key=consumer_key,
            sharer_storefront_id=sharer_storefront_id,
            share_link_id=share_link_id,
            bound_at=now,
            expires_at=expires,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return _binding_out(session, row, created=True)
        except IntegrityError:  # bound concurrently: the other visit's binding stands
            winner = _binding_row(session, consumer_key)
            if winner is None:
                raise
            return _binding_out(session, winner, created=False)
    if aware(row.expires_at) > now:
        return _binding_out(session, row, created=False)
    taken = session.execute(
        update(CustomerBinding)
        .where(CustomerBinding.id == row.id, CustomerBinding.expires_at <= now)
        .values(
            sharer_storefront_id=sharer_storefront_id,
            share_link_id=share_link_id,
            bound_at=now,
            expires_at=expires,
        )
        .execution_options(synchronize_session=False)
    )
    refreshed = _binding_row(session, consumer_key)
    assert refreshed is not None
    return _binding_out(session, refreshed, created=bool(getattr(taken, "rowcount", 0)))


def attribute_visit(*, session: Session, share_token: str, consumer_key: str) -> BindingOut:
    """A consumer opened a share link: record the visit and ``share.clicked``, and bind the
    consumer to the link's sharer if they are not bound (the binding in force is returned).

    ``consumer_key`` is the consumer's WeChat openid (the development identity of the H5 pages).
    """
    link = find_share_link(share_token, session=session)
    if link is None:
        raise ShareLinkNotFound("no such share link", field="share")
    target = require_storefront(session, link.storefront_id)
    now = utcnow()
    visit = record_visit(
        session,
        target,
        consumer_key=consumer_key,
        share_link_id=link.id,
        sharer_storefront_id=link.sharer_storefront_id,
        at=now,
    )
    append_event(
        session,
        type="share.clicked",
        event_id=f"share.clicked:{visit.id}",
        ts=now,
        identities=[("wechat_openid", consumer_key)],
        org_id=target.org_id,
        sku=link.sku_id,
        properties={
            "content_id": target.id,
            "shared_by": link.sharer_storefront_id,
            "channel": SHARE_CHANNEL,
        },
    )
    return bind_consumer(
        session,
        consumer_key=consumer_key,
        sharer_storefront_id=link.sharer_storefront_id,
        share_link_id=link.id,
        now=now,
    )
