"""Profiles as people see them: lists and search, the detail with identifiers, links, merge audit,
recent events and the organisations the consumer dealt with."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bcone.cdp._identity import CdpConfig, load_config, rebuild, save_config, unlink
from bcone.cdp.errors import ProfileNotFound
from bcone.cdp.identifiers import NAMESPACE_BASES, identity_key, search_key
from bcone.cdp.models import Identifier, Link, MergeAudit, Profile
from bcone.cdp.schemas import (
    AuditOut,
    CdpSettingsIn,
    CdpSettingsOut,
    IdentifierOut,
    LinkedOrganization,
    LinkOut,
    ProfileDetail,
    ProfileEvent,
    ProfileSummary,
    RebuildOut,
    UnlinkOut,
)
from bcone.core.auth import Principal, Role
from bcone.core.errors import NotFound, ValidationFailed
from bcone.core.events import outbox
from bcone.core.jobs import JobContext, enqueue, job_handler
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.settings import Settings
from bcone.core.tenancy import current_tenant
from bcone.core.warehouse import WarehouseError, WarehouseQueryFailed, open_warehouse
from bcone.network import service as network

LIST_IDENTIFIERS = 4
RECENT_EVENTS = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _identifier_out(row: Identifier) -> IdentifierOut:
    return IdentifierOut(
        id=row.id,
        namespace=row.namespace,
        value=row.display,
        quarantined=row.quarantined,
        created_at=row.created_at,
    )


def list_profiles(params: PageParams, *, session: Session, secret_key: str) -> Page[ProfileSummary]:
    """Active profiles, newest first; ``q`` finds a phone or email (by its hash), an identifier
    value (exact or part of its display form) or a profile id."""
    stmt = select(Profile).where(Profile.status == "active")
    if params.q:
        found = search_key(params.q, identity_key(secret_key, current_tenant(session)))
        if found is not None:
            owners = select(Identifier.profile_id).where(
                Identifier.namespace == found[0], Identifier.key == found[1]
            )
        else:
            like = "%" + params.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            owners = select(Identifier.profile_id).where(
                or_(Identifier.key == params.q, Identifier.display.ilike(like, escape="\\"))
            )
        stmt = stmt.where(or_(Profile.id == params.q, Profile.id.in_(owners)))
    rows, total = paginate_rows(session, stmt.order_by(Profile.created_at.desc(), Profile.id.desc()), params)
    ids = [p.id for p in rows]
    counts: dict[str, int] = {}
    firsts: dict[str, list[IdentifierOut]] = {}
    if ids:
        counts = {
            pid: n
            for pid, n in session.execute(
                select(Identifier.profile_id, func.count())
                .where(Identifier.profile_id.in_(ids))
                .group_by(Identifier.profile_id)
            )
            if pid is not None
        }
        for ident in session.scalars(
            select(Identifier).where(Identifier.profile_id.in_(ids)).order_by(Identifier.id)
        ):
            bucket = firsts.setdefault(ident.profile_id or "", [])
            if len(bucket) < LIST_IDENTIFIERS:
                bucket.append(_identifier_out(ident))
    items = [
        ProfileSummary(
            id=p.id,
            created_at=p.created_at,
            updated_at=p.updated_at,
            identifier_count=counts.get(p.id, 0),
            identifiers=firsts.get(p.id, []),
        )
        for p in rows
    ]
    return Page(items=items, total=total, page=params.page, page_size=params.page_size)


def _live_profile(session: Session, profile_id: str) -> Profile:
    """The profile, or the one it was merged into (followed to the end)."""
    profile = session.get(Profile, profile_id)
    seen: set[str] = set()
    while (
        profile is not None and profile.status == "merged" and profile.merged_into and profile.id not in seen
    ):
        seen.add(profile.id)
        profile = session.get(Profile, profile.merged_into)
    if profile is None or profile.tenant_id != current_tenant(session):
        raise ProfileNotFound(f"no profile {profile_id}", field="profile_id")
    return profile


def merged_profile_ids(session: Session, profile_id: str) -> list[str]:
    """Every profile merged, directly or not, into ``profile_id``."""
    out: list[str] = []
    frontier = [profile_id]
    while frontier:
        found = list(session.scalars(select(Profile.id).where(Profile.merged_into.in_(frontier))))
        found = [f for f in found if f not in out and f != profile_id]
        out.extend(found)
        frontier = found
    return out


def _audit_out(row: MergeAudit) -> AuditOut:
    return AuditOut(
        id=row.id,
        at=row.at,
        kind=row.kind,
        profile_id=row.profile_id,
        other_profiles=json.loads(row.other_profiles),
        identifiers=json.loads(row.identifiers),
        event_id=row.event_id,
        actor=row.actor,
        reason=row.reason,
    )


def get_profile(profile_id: str, *, session: Session, settings: Settings) -> ProfileDetail:
    """A profile with its identifiers (display forms only), links, audit trail, recent events and
    the organisations of those events."""
    profile = _live_profile(session, profile_id)
    events = profile_events(profile.id, session=session, settings=settings)
    merged = merged_profile_ids(session, profile.id)
    idents = list(
        session.scalars(select(Identifier).where(Identifier.profile_id == profile.id).order_by(Identifier.id))
    )
    by_id = {i.id: i for i in idents}
    ids = list(by_id)
    links: list[Link] = []
    if ids:
        links = list(
            session.scalars(
                select(Link).where(or_(Link.a_id.in_(ids), Link.b_id.in_(ids))).order_by(Link.seq).limit(500)
            )
        )
        others = {x for link in links for x in (link.a_id, link.b_id)} - set(by_id)
        if others:
            by_id.update(
                {i.id: i for i in session.scalars(select(Identifier).where(Identifier.id.in_(others)))}
            )
    audit = session.scalars(
        select(MergeAudit)
        .where(MergeAudit.profile_id.in_([profile.id, *merged]))
        .order_by(MergeAudit.at.desc(), MergeAudit.id.desc())
        .limit(100)
    )
    return ProfileDetail(
        id=profile.id,
        status=profile.status,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
        merged_profiles=merged,
        identifiers=[_identifier_out(i) for i in idents],
        links=[
            LinkOut(
                seq=link.seq,
                a=_identifier_out(by_id[link.a_id]),
                b=_identifier_out(by_id[link.b_id]),
                status=link.status,
                event_id=link.event_id,
                created_at=link.created_at,
            )
            for link in links
        ],
        audit=[_audit_out(a) for a in audit],
        recent_events=events,
        organizations=linked_organizations(session, events),
    )


def list_audit(params: PageParams, *, session: Session, kind: str | None = None) -> Page[AuditOut]:
    """The merge audit of the tenant, newest first."""
    stmt = select(MergeAudit)
    if kind:
        stmt = stmt.where(MergeAudit.kind == kind)
    if params.q:
        stmt = stmt.where(
            or_(MergeAudit.profile_id == params.q, MergeAudit.other_profiles.contains(params.q))
        )
    rows, total = paginate_rows(session, stmt.order_by(MergeAudit.at.desc(), MergeAudit.id.desc()), params)
    return Page(
        items=[_audit_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size
    )


def list_quarantined(params: PageParams, *, session: Session) -> Page[IdentifierOut]:
    """Identifiers in quarantine: seen with too many consumers to join anyone."""
    stmt = select(Identifier).where(Identifier.quarantined.is_(True)).order_by(Identifier.id)
    rows, total = paginate_rows(session, stmt, params)
    return Page(
        items=[_identifier_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size
    )


def profile_events(profile_id: str, *, session: Session, settings: Settings) -> list[ProfileEvent]:
    """The profile's latest events: from the warehouse once flushed, else still in the outbox."""
    profile = _live_profile(session, profile_id)
    ids = [profile.id, *merged_profile_ids(session, profile.id)]
    tenant_id = current_tenant(session)
    out: dict[str, ProfileEvent] = {}
    rows = session.execute(
        select(
            outbox.c.event_id, outbox.c.ts_us, outbox.c.type, outbox.c.org_id, outbox.c.sku, outbox.c.amount
        )
        .where(outbox.c.tenant_id == tenant_id, outbox.c.profile_id.in_(ids))
        .order_by(outbox.c.ts_us.desc())
        .limit(RECENT_EVENTS)
    )
    for r in rows:
        out[r.event_id] = ProfileEvent(
            event_id=r.event_id,
            ts=_EPOCH + timedelta(microseconds=r.ts_us),
            type=r.type,
            org_id=r.org_id,
            sku=r.sku,
            amount=r.amount,
            source="outbox",
        )
    try:
        with open_warehouse(settings) as wh:
            result = wh.query(
                "SELECT event_id, ts, type, org_id, sku, amount FROM tenant_events "
                "WHERE profile_id IN $ids ORDER BY ts DESC LIMIT $n",
                {"ids": ids, "n": RECENT_EVENTS},
                tenant_id=tenant_id,
            )
        for event_id, ts, kind, org_id, sku, amount in result.rows:
            out.setdefault(
                event_id,
                ProfileEvent(
                    event_id=event_id,
                    ts=ts,
                    type=kind,
                    org_id=org_id,
                    sku=sku,
                    amount=amount,
                    source="warehouse",
                ),
            )
    except (WarehouseError, WarehouseQueryFailed):
        pass  # no warehouse yet, or busy: the outbox still shows what was not flushed
    return sorted(out.values(), key=lambda e: e.ts, reverse=True)[:RECENT_EVENTS]


def linked_organizations(session: Session, events: list[ProfileEvent]) -> list[LinkedOrganization]:
    """The organisations of ``events``, most frequent first, named from the channel network."""
    counts = Counter(e.org_id for e in events if e.org_id)
    out: list[LinkedOrganization] = []
    for org_id, n in counts.most_common():
        try:
            org = network.get_organization(org_id, session=session)
        except NotFound:
            out.append(LinkedOrganization(id=org_id, name=None, code=None, events=n))
        else:
            out.append(LinkedOrganization(id=org_id, name=org.name, code=org.code, events=n))
    return out


def get_settings_out(*, session: Session) -> CdpSettingsOut:
    config = load_config(session)
    return CdpSettingsOut(
        attach_only=sorted(config.attach_only),
        quarantine_threshold=config.quarantine_threshold,
        unknown_event_types=config.unknown_event_types,
    )


def update_settings(body: CdpSettingsIn, *, session: Session) -> CdpSettingsOut:
    """Change the tenant's merge rules; a later rebuild applies them to existing profiles."""
    for i, base in enumerate(body.attach_only):
        if base not in NAMESPACE_BASES:
            raise ValidationFailed(
                f"unknown identifier namespace {base!r} (known: {', '.join(NAMESPACE_BASES)})",
                field=f"attach_only.{i}",
            )
    save_config(
        session,
        CdpConfig(
            attach_only=frozenset(body.attach_only),
            quarantine_threshold=body.quarantine_threshold,
            unknown_event_types=body.unknown_event_types,
        ),
    )
    return get_settings_out(session=session)


def unlink_link(seq: int, *, session: Session, actor: str | None, reason: str | None = None) -> UnlinkOut:
    """Remove a wrong link; the profile splits where nothing else holds it together."""
    link = session.get(Link, seq)
    outcome = unlink(session, seq, load_config(session), actor=actor, reason=reason)
    assert link is not None  # unlink() raised otherwise
    return UnlinkOut(
        link=seq,
        profiles=[outcome.profile_of[link.a_id], outcome.profile_of[link.b_id]],
        splits=outcome.splits,
    )


def rebuild_profiles(*, session: Session, actor: str | None = None) -> RebuildOut:
    result = rebuild(session, load_config(session), actor=actor)
    return RebuildOut(**result.__dict__)


def profile_count(*, session: Session) -> dict[str, Any]:
    active = session.scalar(select(func.count(Profile.id)).where(Profile.status == "active")) or 0
    idents = session.scalar(select(func.count(Identifier.id))) or 0
    return {"profiles": int(active), "identifiers": int(idents)}


REBUILD_JOB = "cdp.rebuild"


def enqueue_rebuild(*, session: Session, actor: str | None = None) -> str:
    """Queue a full rebuild of the session's tenant (one at a time per tenant); returns the job id."""
    tenant_id = current_tenant(session)
    return enqueue(
        session,
        REBUILD_JOB,
        {"actor": actor},
        tenant_id=tenant_id,
        dedupe_key=f"{REBUILD_JOB}:{tenant_id}",
        max_attempts=1,
    )


@job_handler(REBUILD_JOB, lease_seconds=600)
def _rebuild_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``cdp.rebuild``: recompute every profile of the job's tenant."""
    with ctx.session() as session:
        return rebuild_profiles(session=session, actor=payload.get("actor") or "job").model_dump()


# --- personal data by role ---------------------------------------------------------------------

# Roles that may see identifiers in their display form; others (analysts, partners) see them masked.
PII_ROLES = frozenset({Role.owner, Role.admin, Role.marketer})


def may_see_pii(principal: Principal) -> bool:
    return principal.role in PII_ROLES


def mask_value(value: str) -> str:
    """``oWx_lilei_001`` -> ``oW*********01``; short values are starred out entirely."""
    if len(value) <= 4:
        return "*" * len(value)
    return value[:2] + "*" * (len(value) - 4) + value[-2:]


def mask_profile(detail: ProfileDetail) -> ProfileDetail:
    """The profile with every identifier masked, for roles without PII permission."""

    def ident(i: IdentifierOut) -> IdentifierOut:
        return i.model_copy(update={"value": mask_value(i.value)})

    return detail.model_copy(
        update={
            "identifiers": [ident(i) for i in detail.identifiers],
            "links": [lk.model_copy(update={"a": ident(lk.a), "b": ident(lk.b)}) for lk in detail.links],
            "audit": [
                a.model_copy(
                    update={
                        "identifiers": [{**x, "value": mask_value(x.get("value", ""))} for x in a.identifiers]
                    }
                )
                for a in detail.audit
            ],
        }
    )


def get_profile_id(profile_id: str, *, session: Session) -> str:
    """The live profile id for ``profile_id`` (a merged id answers with its survivor); 404 if none."""
    return _live_profile(session, profile_id).id
