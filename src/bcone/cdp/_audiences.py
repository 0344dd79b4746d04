"""Audiences: computed traits, tags, segments, consent, deletion, and the B side (stores and their
consumers).

Segments and rule tags are evaluated on the warehouse (:mod:`bcone.cdp.segments` compiles the
rule); traits are computed by the same SQL and stored on the profiles by the job ``cdp.traits``.
Merged profiles' events count under their survivor; a segment with a consent purpose keeps only
the profiles whose latest consent for that purpose is a grant.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from bcone.cdp._profiles import _live_profile, merged_profile_ids
from bcone.cdp.errors import DeletionNotFound, DuplicateName, SegmentNotFound, TagNotFound
from bcone.cdp.identifiers import identity_key
from bcone.cdp.models import (
    Consent,
    Deletion,
    Identifier,
    Link,
    MergeAudit,
    Profile,
    ProfileTag,
    ProfileTraits,
    Segment,
    SegmentMember,
    Tag,
)
from bcone.cdp.schemas import (
    ConsentIn,
    ConsentOut,
    ConsumerStore,
    DeletionOut,
    MembershipOut,
    ProfileTagOut,
    RuleIn,
    SegmentCount,
    SegmentIn,
    SegmentMemberOut,
    SegmentOut,
    StoreConsumer,
    TagAssign,
    TagAssignOut,
    TagIn,
    TagOut,
    TraitsOut,
)
from bcone.cdp.segments import (
    TRAITS_STATE,
    TRAITS_STATE_VIEW,
    TRAITS_SUMMARY,
    TRAITS_VIEW,
    Compiled,
    Node,
    compile_members,
    contains_sql,
    count_sql,
    events_cte,
    page_sql,
    parse_rule,
    summary_sql,
    tags_of,
    traits_of,
)
from bcone.core.db import Database, as_utc, utcnow
from bcone.core.errors import NotFound
from bcone.core.events import outbox
from bcone.core.jobs import Job, JobContext, enqueue, job_handler
from bcone.core.pagination import Page, PageParams, paginate_rows
from bcone.core.periodic import periodic
from bcone.core.settings import get_settings
from bcone.core.tenancy import current_tenant, unscoped
from bcone.core.warehouse import Warehouse, WarehouseQueryFailed, open_warehouse
from bcone.network import service as network

TRAITS_JOB = "cdp.traits"
TAGS_JOB = "cdp.tags"
ERASE_JOB = "cdp.erase"
EXPORT_PAGE = 10_000
_CHUNK = 1_000


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- shared inputs of the SQL: merges, tags, consent --------------------------------------------


def merged_pairs(session: Session) -> tuple[list[str], list[str]] | None:
    """(absorbed profile ids, the active profile each now belongs to), or None without merges."""
    rows = dict(
        session.execute(select(Profile.id, Profile.merged_into).where(Profile.status == "merged")).all()
    )
    if not rows:
        return None
    olds: list[str] = []
    news: list[str] = []
    for old in rows:
        target = rows[old]
        seen = {old}
        while target in rows and target not in seen:
            seen.add(target)
            target = rows[target]
        if target:
            olds.append(old)
            news.append(target)
    return olds, news


def _tag_members(session: Session, names: set[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {n: [] for n in names}
    if names:
        rows = session.execute(
            select(Tag.name, ProfileTag.profile_id)
            .join(ProfileTag, ProfileTag.tag_id == Tag.id)
            .where(Tag.name.in_(names))
        )
        for name, pid in rows:
            out[name].append(pid)
    return out


def consented_profiles(session: Session, purpose: str) -> list[str]:
    """Profiles whose latest consent record for ``purpose`` is a grant."""
    latest: dict[str, bool] = {}
    rows = session.execute(
        select(Consent.profile_id, Consent.granted)
        .where(Consent.purpose == purpose)
        .order_by(Consent.at, Consent.id)
    )
    for pid, granted in rows:
        latest[pid] = granted
    return sorted(pid for pid, granted in latest.items() if granted)


def compile_for(
    session: Session, warehouse: Warehouse, node: Node, *, purpose: str | None, now: datetime | None = None
) -> Compiled:
    """The rule as SQL. Trait conditions read the traits summary when it was built from exactly
    the events and merges of now (else they aggregate the events, as fresh as the warehouse)."""
    merged = merged_pairs(session)
    summary = bool(traits_of(node)) and traits_summary_fresh(warehouse, current_tenant(session), merged)
    return compile_members(
        node,
        dialect=warehouse.dialect,
        now=now or datetime.now(UTC),
        tags=_tag_members(session, tags_of(node)),
        merged=merged,
        consented=consented_profiles(session, purpose) if purpose else None,
        summary=summary,
    )


# --- segments ------------------------------------------------------------------------------------


def count_rule(body: RuleIn, *, session: Session, warehouse: Warehouse) -> SegmentCount:
    """The live count while a rule is edited."""
    started = time.perf_counter()
    node = parse_rule(body.rule)
    compiled = compile_for(session, warehouse, node, purpose=body.purpose)
    sql, params = count_sql(compiled)
    n = warehouse.query(sql, params, tenant_id=current_tenant(session)).rows[0][0]
    return SegmentCount(count=int(n), seconds=round(time.perf_counter() - started, 3))


def _segment_out(row: Segment) -> SegmentOut:
    return SegmentOut(
        id=row.id,
        name=row.name,
        description=row.description,
        rule=json.loads(row.rule),
        kind=row.kind,
        purpose=row.purpose,
        member_count=row.member_count,
        counted_at=row.counted_at,
        snapshot_at=row.snapshot_at,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _segment(session: Session, segment_id: str) -> Segment:
    row = session.get(Segment, segment_id)
    if row is None or row.tenant_id != current_tenant(session):
        raise SegmentNotFound(f"no segment {segment_id}", field="segment_id")
    return row


def _unique_name(
    session: Session, model: type[Segment] | type[Tag], name: str, own_id: str | None = None
) -> None:
    found = session.scalar(select(model.id).where(model.name == name))
    if found is not None and found != own_id:
        raise DuplicateName(f"the name {name!r} is already taken", field="name")


def create_segment(
    body: SegmentIn, *, session: Session, warehouse: Warehouse, actor: str | None = None
) -> SegmentOut:
    """A segment; a static one is frozen at once (its members stored)."""
    node = parse_rule(body.rule)
    _unique_name(session, Segment, body.name)
    row = Segment(
        name=body.name,
        description=body.description,
        rule=json.dumps(body.rule, ensure_ascii=False),
        kind=body.kind,
        purpose=body.purpose,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    if body.kind == "static":
        _snapshot(session, warehouse, row, node)
    else:
        _recount(session, warehouse, row, node)
    return _segment_out(row)


def update_segment(segment_id: str, body: SegmentIn, *, session: Session, warehouse: Warehouse) -> SegmentOut:
    row = _segment(session, segment_id)
    node = parse_rule(body.rule)
    _unique_name(session, Segment, body.name, row.id)
    row.name, row.description, row.purpose = body.name, body.description, body.purpose
    row.rule = json.dumps(body.rule, ensure_ascii=False)
    row.kind = body.kind
    if body.kind == "static":
        _snapshot(session, warehouse, row, node)
    else:
        session.execute(delete(SegmentMember).where(SegmentMember.segment_id == row.id))
        row.snapshot_at = None
        _recount(session, warehouse, row, node)
    return _segment_out(row)


def delete_segment(segment_id: str, *, session: Session) -> None:
    row = _segment(session, segment_id)
    session.execute(delete(SegmentMember).where(SegmentMember.segment_id == row.id))
    session.delete(row)


def _recount(session: Session, warehouse: Warehouse, row: Segment, node: Node) -> None:
    sql, params = count_sql(compile_for(session, warehouse, node, purpose=row.purpose))
    row.member_count = int(warehouse.query(sql, params, tenant_id=row.tenant_id).rows[0][0])
    row.counted_at = utcnow()


def _snapshot(session: Session, warehouse: Warehouse, row: Segment, node: Node) -> None:
    compiled = compile_for(session, warehouse, node, purpose=None)
    ids = [r[0] for r in warehouse.query(compiled.sql, compiled.params, tenant_id=row.tenant_id).rows]
    session.execute(delete(SegmentMember).where(SegmentMember.segment_id == row.id))
    if ids:
        session.execute(
            insert(SegmentMember),
            [{"tenant_id": row.tenant_id, "segment_id": row.id, "profile_id": pid} for pid in ids],
        )
    row.snapshot_at = utcnow()
    row.member_count = len(_static_members(session, row))
    row.counted_at = row.snapshot_at


def _static_members(session: Session, row: Segment) -> list[str]:
    ids = list(
        session.scalars(
            select(SegmentMember.profile_id)
            .where(SegmentMember.segment_id == row.id)
            .order_by(SegmentMember.profile_id)
        )
    )
    if row.purpose:
        allowed = set(consented_profiles(session, row.purpose))
        ids = [i for i in ids if i in allowed]
    return ids


def snapshot_segment(segment_id: str, *, session: Session, warehouse: Warehouse) -> SegmentOut:
    """Freeze the segment's current members (it becomes static)."""
    row = _segment(session, segment_id)
    row.kind = "static"
    _snapshot(session, warehouse, row, parse_rule(json.loads(row.rule)))
    return _segment_out(row)


def get_segment(segment_id: str, *, session: Session) -> SegmentOut:
    return _segment_out(_segment(session, segment_id))


def list_segments(params: PageParams, *, session: Session) -> Page[SegmentOut]:
    stmt = select(Segment)
    if params.q:
        stmt = stmt.where(Segment.name.contains(params.q, autoescape=True))
    rows, total = paginate_rows(session, stmt.order_by(Segment.created_at.desc(), Segment.id), params)
    return Page(
        items=[_segment_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size
    )


def segment_members(
    segment_id: str, params: PageParams, *, session: Session, warehouse: Warehouse
) -> Page[SegmentMemberOut]:
    row = _segment(session, segment_id)
    if row.kind == "static":
        ids = _static_members(session, row)
        page = ids[params.offset : params.offset + params.page_size]
        total = len(ids)
    else:
        compiled = compile_for(session, warehouse, parse_rule(json.loads(row.rule)), purpose=row.purpose)
        sql, qp = page_sql(compiled, limit=params.page_size, offset=params.offset)
        page = [r[0] for r in warehouse.query(sql, qp, tenant_id=row.tenant_id).rows]
        csql, cp = count_sql(compiled)
        total = int(warehouse.query(csql, cp, tenant_id=row.tenant_id).rows[0][0])
        row.member_count, row.counted_at = total, utcnow()
    return Page(
        items=[SegmentMemberOut(profile_id=p) for p in page],
        total=total,
        page=params.page,
        page_size=params.page_size,
    )


def is_member(segment_id: str, profile_id: str, *, session: Session, warehouse: Warehouse) -> MembershipOut:
    """Is the consumer (a profile id, merged ones followed to their survivor) in the segment?"""
    row = _segment(session, segment_id)
    profile = _live_profile(session, profile_id)
    candidates = [profile.id, *merged_profile_ids(session, profile.id)]
    if row.kind == "static":
        member = bool(set(candidates) & set(_static_members(session, row)))
    else:
        compiled = compile_for(session, warehouse, parse_rule(json.loads(row.rule)), purpose=row.purpose)
        sql, params = contains_sql(compiled, candidates)
        member = bool(warehouse.query(sql, params, tenant_id=row.tenant_id).rows)
    return MembershipOut(segment_id=row.id, profile_id=profile.id, member=member)


EXPORT_COLUMNS = ("profile_id", "orders", "revenue_yuan", "last_seen", "usual_store", "region", "tags")


def export_segment_csv(segment_id: str, *, session: Session, warehouse: Warehouse) -> Iterator[str]:
    """The members as CSV, produced page by page (for a streamed response): profile id, stored
    traits and tags. No identifier leaves in an export."""
    row = _segment(session, segment_id)
    if row.kind == "static":
        static = _static_members(session, row)
        pages: Iterator[list[str]] = (
            list(static[i : i + EXPORT_PAGE]) for i in range(0, len(static), EXPORT_PAGE)
        )
    else:
        compiled = compile_for(session, warehouse, parse_rule(json.loads(row.rule)), purpose=row.purpose)

        def dynamic() -> Iterator[list[str]]:
            offset = 0
            while True:
                sql, params = page_sql(compiled, limit=EXPORT_PAGE, offset=offset)
                ids = [r[0] for r in warehouse.query(sql, params, tenant_id=row.tenant_id).rows]
                if not ids:
                    return
                yield ids
                offset += len(ids)

        pages = dynamic()

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(EXPORT_COLUMNS)
        yield "\ufeff" + buf.getvalue()  # a BOM so that Excel reads the file as UTF-8
        for ids in pages:
            buf.seek(0)
            buf.truncate()
            traits: dict[str, ProfileTraits] = {}
            tags: dict[str, list[str]] = {}
            for chunk in _chunks(ids):
                traits.update(
                    {
                        t.profile_id: t
                        for t in session.scalars(
                            select(ProfileTraits).where(ProfileTraits.profile_id.in_(chunk))
                        )
                    }
                )
                for pid, name in session.execute(
                    select(ProfileTag.profile_id, Tag.name)
                    .join(Tag, Tag.id == ProfileTag.tag_id)
                    .where(ProfileTag.profile_id.in_(chunk))
                ):
                    tags.setdefault(pid, []).append(name)
            for pid in ids:
                t = traits.get(pid)
                writer.writerow(
                    [
                        pid,
                        t.orders if t else "",
                        f"{t.revenue_fen / 100:.2f}" if t else "",
                        t.last_seen.isoformat() if t and t.last_seen else "",
                        (t.usual_store or "") if t else "",
                        (t.region or "") if t else "",
                        "|".join(sorted(tags.get(pid, []))),
                    ]
                )
            yield buf.getvalue()

    return lines()


# --- traits --------------------------------------------------------------------------------------


# What the traits summary was built from: the tenant's number of events, of events with a
# consumer, the latest event time (taken before the build) and a digest of the merges. Segments
# read the summary only while the warehouse and the merges still show exactly these.
_FINGERPRINT_SQL = (
    "SELECT count(*) AS events_n, count(profile_id) AS profiled_n, max(ts) AS latest FROM tenant_events"
)
_STATE_SQL = (
    "SELECT $events_n AS events_n, $profiled_n AS profiled_n, $latest AS latest, "
    "$merges AS merges, $built_at AS built_at"
)
_NO_STATE_SQL = _STATE_SQL + " WHERE 1 = 0"


def _merges_digest(merged: tuple[list[str], list[str]] | None) -> str:
    if merged is None:
        return ""
    pairs = sorted(zip(merged[0], merged[1], strict=True))
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()


def _fingerprint(warehouse: Warehouse, tenant_id: str) -> tuple[int, int, Any]:
    row = warehouse.query(_FINGERPRINT_SQL, tenant_id=tenant_id).rows[0]
    return int(row[0]), int(row[1]), row[2]


def traits_summary_fresh(
    warehouse: Warehouse, tenant_id: str, merged: tuple[list[str], list[str]] | None
) -> bool:
    """Whether the traits summary exists and was built from the events and merges of now."""
    try:
        state = warehouse.query(
            f"SELECT events_n, profiled_n, latest, merges FROM {TRAITS_STATE_VIEW}", tenant_id=tenant_id
        ).rows
    except WarehouseQueryFailed:
        return False  # never built (no state table), or no events table yet
    if len(state) != 1:
        return False
    events_n, profiled_n, latest = _fingerprint(warehouse, tenant_id)
    stored = state[0]
    return (int(stored[0]), int(stored[1]), stored[2], str(stored[3])) == (
        events_n,
        profiled_n,
        latest,
        _merges_digest(merged),
    )


def refresh_traits_summary(
    warehouse: Warehouse, tenant_id: str, merged: tuple[list[str], list[str]] | None
) -> int:
    """Rebuild the tenant's traits summary (one row per profile with events); returns its rows.

    The state row goes first (so nobody reads a half-built summary as fresh) and comes back last
    with the figures taken before the build: events flushed meanwhile make it stale at once."""
    events_n, profiled_n, latest = _fingerprint(warehouse, tenant_id)
    if events_n == 0:  # (ClickHouse gives 1970-01-01, not NULL, as the latest of no events)
        return 0  # no events: nothing to summarise (an older state row no longer matches)
    state: dict[str, Any] = {
        "events_n": events_n,
        "profiled_n": profiled_n,
        "latest": latest,
        "merges": _merges_digest(merged),
        "built_at": datetime.now(UTC),
    }
    warehouse.refresh_summary(TRAITS_STATE, _NO_STATE_SQL, state, tenant_id=tenant_id)
    params: dict[str, Any] = {}
    if merged is not None:
        params = {"merged_from": merged[0], "merged_to": merged[1]}
    rows = warehouse.refresh_summary(
        TRAITS_SUMMARY,
        summary_sql(warehouse.dialect, merged is not None),
        params,
        tenant_id=tenant_id,
        order_by=("profile_id",),
    )
    warehouse.refresh_summary(TRAITS_STATE, _STATE_SQL, state, tenant_id=tenant_id)
    return rows


def refresh_traits(*, session: Session, warehouse: Warehouse) -> dict[str, Any]:
    """Recompute every profile's traits from the warehouse into the warehouse's traits summary
    (which segments read), and store them on the profiles (one statement each way)."""
    started = time.perf_counter()
    tenant_id = current_tenant(session)
    merged = merged_pairs(session)
    summary_rows = refresh_traits_summary(warehouse, tenant_id, merged)
    if summary_rows:
        result_rows = warehouse.query(
            "SELECT profile_id, first_seen, last_seen, events, orders, revenue_fen, r_score, f_score, "
            f"m_score, last_scan, usual_store, region FROM {TRAITS_VIEW} ORDER BY profile_id",
            tenant_id=tenant_id,
        ).rows
    else:
        result_rows = []
    active = set(session.scalars(select(Profile.id).where(Profile.status == "active")))
    now = utcnow()
    rows = [
        {
            "tenant_id": tenant_id,
            "profile_id": r[0],
            "first_seen": r[1],
            "last_seen": r[2],
            "events": int(r[3]),
            "orders": int(r[4]),
            "revenue_fen": int(r[5]),
            "r_score": r[6],
            "f_score": r[7],
            "m_score": r[8],
            "last_scan": r[9],
            "usual_store": r[10],
            "region": r[11],
            "refreshed_at": now,
        }
        for r in result_rows
        if r[0] in active
    ]
    session.execute(delete(ProfileTraits))
    for start in range(0, len(rows), 5_000):
        session.execute(insert(ProfileTraits), rows[start : start + 5_000])
    return {
        "profiles": len(rows),
        "summary_rows": summary_rows,
        "seconds": round(time.perf_counter() - started, 3),
    }


def get_traits(profile_id: str, *, session: Session) -> TraitsOut | None:
    row = session.get(ProfileTraits, profile_id)
    if row is None or row.tenant_id != current_tenant(session):
        return None
    return TraitsOut.model_validate(row, from_attributes=True)


def enqueue_job(name: str, *, session: Session, payload: dict[str, Any] | None = None) -> str:
    tenant_id = current_tenant(session)
    return enqueue(
        session, name, payload or {}, tenant_id=tenant_id, dedupe_key=f"{name}:{tenant_id}", max_attempts=2
    )


@job_handler(TRAITS_JOB, lease_seconds=600)
def _traits_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``cdp.traits``: refresh the traits of every profile of the job's tenant."""
    with open_warehouse(get_settings()) as wh, ctx.session() as session:
        return refresh_traits(session=session, warehouse=wh)


FLUSH_JOB = "events.flush"
# Trait segments fall back to the events while the traits summary is stale, so this is a matter of
# speed, not of correctness: at most every five minutes, and only after a flush brought events.
TRAITS_CHECK_SECONDS = 300.0


@periodic("cdp.schedule_traits", every_seconds=TRAITS_CHECK_SECONDS)
def schedule_traits(db: Database) -> None:
    """Queue ``cdp.traits`` for every tenant with profiles when an ``events.flush`` job finished
    after the last traits job was queued (one queued job per tenant at a time)."""
    with db.session(write=False) as session:
        unscoped(session)
        flushed = session.scalar(
            select(func.max(Job.finished_at)).where(Job.name == FLUSH_JOB, Job.status == "succeeded")
        )
        queued = session.scalar(select(func.max(Job.created_at)).where(Job.name == TRAITS_JOB))
        if flushed is None or (queued is not None and as_utc(queued) >= as_utc(flushed)):
            return
        tenants = list(session.scalars(select(Profile.tenant_id).distinct()))
    with db.session() as session:
        unscoped(session)
        for tenant_id in tenants:
            enqueue(
                session,
                TRAITS_JOB,
                {},
                tenant_id=tenant_id,
                dedupe_key=f"{TRAITS_JOB}:{tenant_id}",
                max_attempts=2,
            )


# --- tags ----------------------------------------------------------------------------------------


def _tag_out(row: Tag) -> TagOut:
    return TagOut(
        id=row.id,
        name=row.name,
        description=row.description,
        kind=row.kind,
        rule=json.loads(row.rule) if row.rule else None,
        member_count=row.member_count,
        refreshed_at=row.refreshed_at,
    )


def create_tag(body: TagIn, *, session: Session) -> TagOut:
    if body.rule is not None:
        node = parse_rule(body.rule)
        if body.name in tags_of(node):
            raise DuplicateName("a rule tag cannot refer to itself", field="rule")
    _unique_name(session, Tag, body.name)
    row = Tag(
        name=body.name,
        description=body.description,
        kind="rule" if body.rule is not None else "manual",
        rule=json.dumps(body.rule, ensure_ascii=False) if body.rule is not None else None,
    )
    session.add(row)
    session.flush()
    return _tag_out(row)


def list_tags(params: PageParams, *, session: Session) -> Page[TagOut]:
    stmt = select(Tag)
    if params.q:
        stmt = stmt.where(Tag.name.contains(params.q, autoescape=True))
    rows, total = paginate_rows(session, stmt.order_by(Tag.name), params)
    return Page(items=[_tag_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size)


def _tag_by_name(session: Session, name: str, *, create: bool) -> Tag:
    row = session.scalar(select(Tag).where(Tag.name == name))
    if row is None:
        if not create:
            raise TagNotFound(f"no tag {name!r}", field="tags")
        row = Tag(name=name, kind="manual")
        session.add(row)
        session.flush()
    return row


def assign_tags(body: TagAssign, *, session: Session) -> TagAssignOut:
    """Add (creating manual tags as needed) or remove tags on profiles; unknown profiles are a 404
    naming the first, and nothing changes."""
    live: list[str] = []
    for i, pid in enumerate(body.profile_ids):
        try:
            live.append(_live_profile(session, pid).id)
        except NotFound as exc:
            exc.field = f"profile_ids[{i}]"
            raise
    live = sorted(set(live))
    changed = 0
    for name in body.tags:
        tag = _tag_by_name(session, name, create=not body.remove)
        if tag.kind == "rule":
            raise DuplicateName(f"{name!r} is set by its rule; it cannot be changed by hand", field="tags")
        for chunk in _chunks(live):
            have = set(
                session.scalars(
                    select(ProfileTag.profile_id).where(
                        ProfileTag.tag_id == tag.id, ProfileTag.profile_id.in_(chunk)
                    )
                )
            )
            if body.remove:
                if have:
                    session.execute(
                        delete(ProfileTag).where(ProfileTag.tag_id == tag.id, ProfileTag.profile_id.in_(have))
                    )
                changed += len(have)
            else:
                new = [p for p in chunk if p not in have]
                if new:
                    session.execute(
                        insert(ProfileTag),
                        [
                            {
                                "tenant_id": tag.tenant_id,
                                "tag_id": tag.id,
                                "profile_id": p,
                                "source": "manual",
                                "added_at": utcnow(),
                            }
                            for p in new
                        ],
                    )
                changed += len(new)
        session.flush()
        tag.member_count = (
            session.scalar(select(func.count()).select_from(ProfileTag).where(ProfileTag.tag_id == tag.id))
            or 0
        )
    return TagAssignOut(changed=changed)


def profile_tags(profile_id: str, *, session: Session) -> list[ProfileTagOut]:
    rows = session.execute(
        select(Tag.name, ProfileTag.source, ProfileTag.added_at)
        .join(Tag, Tag.id == ProfileTag.tag_id)
        .where(ProfileTag.profile_id == profile_id)
        .order_by(Tag.name)
    )
    return [ProfileTagOut(name=n, source=s, added_at=a) for n, s, a in rows]


def refresh_rule_tags(*, session: Session, warehouse: Warehouse) -> dict[str, int]:
    """Evaluate every rule tag and set or clear it on the profiles (the job ``cdp.tags``)."""
    out: dict[str, int] = {}
    now = utcnow()
    for tag in session.scalars(select(Tag).where(Tag.kind == "rule").order_by(Tag.name)):
        node = parse_rule(json.loads(tag.rule or "{}"))
        compiled = compile_for(session, warehouse, node, purpose=None)
        members = {r[0] for r in warehouse.query(compiled.sql, compiled.params, tenant_id=tag.tenant_id).rows}
        active = set(session.scalars(select(Profile.id).where(Profile.status == "active")))
        members &= active
        have = set(session.scalars(select(ProfileTag.profile_id).where(ProfileTag.tag_id == tag.id)))
        gone = sorted(have - members)
        for chunk in _chunks(gone):
            session.execute(
                delete(ProfileTag).where(ProfileTag.tag_id == tag.id, ProfileTag.profile_id.in_(chunk))
            )
        new = sorted(members - have)
        if new:
            session.execute(
                insert(ProfileTag),
                [
                    {
                        "tenant_id": tag.tenant_id,
                        "tag_id": tag.id,
                        "profile_id": p,
                        "source": "rule",
                        "added_at": now,
                    }
                    for p in new
                ],
            )
        tag.member_count, tag.refreshed_at = len(members), now
        out[tag.name] = len(members)
    return out


@job_handler(TAGS_JOB, lease_seconds=600)
def _tags_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``cdp.tags``: set and clear the rule tags of the job's tenant."""
    with open_warehouse(get_settings()) as wh, ctx.session() as session:
        return {"tags": refresh_rule_tags(session=session, warehouse=wh)}


# --- consent -------------------------------------------------------------------------------------


def record_consent(
    profile_id: str, body: ConsentIn, *, session: Session, actor: str | None
) -> list[ConsentOut]:
    """Record a grant or a withdrawal; answers the profile's consent history, newest first."""
    profile = _live_profile(session, profile_id)
    session.add(
        Consent(
            profile_id=profile.id,
            purpose=body.purpose,
            granted=body.granted,
            source=body.source,
            at=(body.at or utcnow()).astimezone(UTC),
            actor=actor,
        )
    )
    session.flush()
    return consents(profile.id, session=session)


def consents(profile_id: str, *, session: Session) -> list[ConsentOut]:
    profile = _live_profile(session, profile_id)
    ids = [profile.id, *merged_profile_ids(session, profile.id)]
    rows = session.scalars(
        select(Consent).where(Consent.profile_id.in_(ids)).order_by(Consent.at.desc(), Consent.id.desc())
    )
    return [
        ConsentOut(purpose=r.purpose, granted=r.granted, source=r.source, at=r.at, actor=r.actor)
        for r in rows
    ]


def current_consent(history: list[ConsentOut]) -> dict[str, ConsentOut]:
    """The latest record per purpose of a newest-first history."""
    out: dict[str, ConsentOut] = {}
    for c in history:
        out.setdefault(c.purpose, c)
    return out


# --- deletion (PIPL) -----------------------------------------------------------------------------


def _subject(secret_key: str, tenant_id: str, profile_id: str) -> str:
    return hmac.new(
        identity_key(secret_key, tenant_id), b"deletion:" + profile_id.encode(), hashlib.sha256
    ).hexdigest()


def _deletion_out(row: Deletion, job_id: str | None = None) -> DeletionOut:
    return DeletionOut(
        id=row.id,
        status=row.status,
        requested_at=row.requested_at,
        completed_at=row.completed_at,
        receipt=json.loads(row.receipt),
        job_id=job_id,
    )


def request_deletion(profile_id: str, *, session: Session, secret_key: str, actor: str | None) -> DeletionOut:
    """Queue the erasure of a consumer (the profile, every profile merged into it, their
    identifiers, traits, tags, consents, outbox and warehouse events): job ``cdp.erase``."""
    profile = _live_profile(session, profile_id)
    ids = [profile.id, *merged_profile_ids(session, profile.id)]
    tenant_id = current_tenant(session)
    row = Deletion(
        subject=_subject(secret_key, tenant_id, profile.id),
        requested_by=actor,
        pending_profiles=json.dumps(ids),
    )
    session.add(row)
    session.flush()
    # The job carries only the request's id: the profile ids stay on the request until erased.
    job_id = enqueue(session, ERASE_JOB, {"deletion_id": row.id}, tenant_id=tenant_id, max_attempts=5)
    return _deletion_out(row, job_id)


def get_deletion(deletion_id: str, *, session: Session) -> DeletionOut:
    row = session.get(Deletion, deletion_id)
    if row is None or row.tenant_id != current_tenant(session):
        raise DeletionNotFound(f"no deletion request {deletion_id}", field="deletion_id")
    return _deletion_out(row)


def erase_oltp(deletion_id: str, profile_ids: list[str], *, session: Session) -> dict[str, int]:
    """Delete the profiles' rows: identifiers and their links, traits, tags, consents, segment
    memberships, merge audit, events still in the outbox, the profiles. Idempotent."""
    row = session.get(Deletion, deletion_id)
    if row is None or row.tenant_id != current_tenant(session):
        raise DeletionNotFound(f"no deletion request {deletion_id}", field="deletion_id")
    tenant_id = current_tenant(session)
    receipt: dict[str, int] = {}
    if session.get_bind().dialect.name == "sqlite":
        # Overwrite deleted rows with zeros instead of leaving them in free pages of the file.
        session.execute(text("PRAGMA secure_delete = ON"))

    def gone(key: str, stmt: Any) -> None:
        result: Any = session.execute(stmt)
        receipt[key] = receipt.get(key, 0) + int(result.rowcount or 0)

    ident_ids = list(session.scalars(select(Identifier.id).where(Identifier.profile_id.in_(profile_ids))))
    receipt["links"] = 0
    for start in range(0, len(ident_ids), _CHUNK):
        ints = ident_ids[start : start + _CHUNK]
        gone("links", delete(Link).where(or_(Link.a_id.in_(ints), Link.b_id.in_(ints))))
    gone(
        "outbox_events",
        delete(outbox).where(outbox.c.tenant_id == tenant_id, outbox.c.profile_id.in_(profile_ids)),
    )
    gone("identifiers", delete(Identifier).where(Identifier.profile_id.in_(profile_ids)))
    gone("traits", delete(ProfileTraits).where(ProfileTraits.profile_id.in_(profile_ids)))
    gone("tags", delete(ProfileTag).where(ProfileTag.profile_id.in_(profile_ids)))
    gone("consents", delete(Consent).where(Consent.profile_id.in_(profile_ids)))
    gone("segment_memberships", delete(SegmentMember).where(SegmentMember.profile_id.in_(profile_ids)))
    gone("audit_records", delete(MergeAudit).where(MergeAudit.profile_id.in_(profile_ids)))
    gone("profiles", delete(Profile).where(Profile.id.in_(profile_ids)))
    if row.status == "queued":
        row.receipt = json.dumps(receipt)
    return receipt


def finish_deletion(deletion_id: str, warehouse_events: int, *, session: Session) -> DeletionOut:
    row = session.get(Deletion, deletion_id)
    if row is None or row.tenant_id != current_tenant(session):
        raise DeletionNotFound(f"no deletion request {deletion_id}", field="deletion_id")
    receipt = json.loads(row.receipt)
    receipt["warehouse_events"] = receipt.get("warehouse_events", 0) + warehouse_events
    row.receipt = json.dumps(receipt)
    row.status = "done"
    row.completed_at = utcnow()
    row.pending_profiles = "[]"
    return _deletion_out(row)


def run_erasure(db: Database, tenant_id: str, deletion_id: str, warehouse: Warehouse) -> DeletionOut:
    """Carry out a deletion request: the OLTP rows first (committed: on PostgreSQL the outbox
    delete waits for a flusher holding those rows, so whatever it moved is in the warehouse by
    then), then the warehouse, then the receipt. A failure part-way is retried as a whole; each
    step is idempotent and the profile ids stay on the request until the end."""
    with db.session(tenant_id=tenant_id) as session:
        row = session.get(Deletion, deletion_id)
        if row is None or row.tenant_id != tenant_id:
            raise DeletionNotFound(f"no deletion request {deletion_id}", field="deletion_id")
        profile_ids: list[str] = json.loads(row.pending_profiles)
        if row.status == "done":
            return _deletion_out(row)
        erase_oltp(deletion_id, profile_ids, session=session)
    if db.dialect == "sqlite":
        # Copy the WAL into the database file and empty it: the WAL still holds the old pages.
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    erased = warehouse.erase_profiles(tenant_id, profile_ids)
    with db.session(tenant_id=tenant_id) as session:
        return finish_deletion(deletion_id, erased, session=session)


@job_handler(ERASE_JOB, lease_seconds=600)
def _erase_job(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job ``cdp.erase``: carry out a deletion request."""
    assert ctx.tenant_id is not None
    with open_warehouse(get_settings()) as wh:
        out = run_erasure(ctx.db, ctx.tenant_id, payload["deletion_id"], wh)
    return {"deletion_id": out.id, **out.receipt}


# --- the B side: stores and their consumers ----------------------------------------------------


def store_consumers(
    org_ids: list[str], params: PageParams, *, session: Session, warehouse: Warehouse
) -> Page[StoreConsumer]:
    """Consumers who dealt with these organisations (a store, or a partner's subtree), most
    recent first; merged profiles count under their survivor."""
    merged = merged_pairs(session)
    ctes = events_cte(warehouse.dialect, merged is not None)
    qp: dict[str, Any] = {"orgs": org_ids, "limit": params.page_size, "offset": params.offset}
    if merged is not None:
        qp.update(merged_from=merged[0], merged_to=merged[1])
    base = (
        f"WITH {ctes}, mine AS (SELECT profile_id, count(*) AS events, "
        "sum(CASE WHEN type = 'order.paid' THEN 1 ELSE 0 END) AS orders, "
        "sum(CASE WHEN type = 'order.paid' THEN coalesce(amount, 0) ELSE 0 END) AS revenue_fen, "
        "max(ts) AS last_seen FROM ev WHERE org_id IN $orgs GROUP BY profile_id) "
    )
    tenant_id = current_tenant(session)
    total = int(warehouse.query(base + "SELECT count(*) AS n FROM mine", qp, tenant_id=tenant_id).rows[0][0])
    rows = warehouse.query(
        base + "SELECT profile_id, events, orders, revenue_fen, last_seen FROM mine "
        "ORDER BY last_seen DESC, profile_id LIMIT $limit OFFSET $offset",
        qp,
        tenant_id=tenant_id,
    ).rows
    return Page(
        items=[
            StoreConsumer(
                profile_id=r[0], events=int(r[1]), orders=int(r[2]), revenue_fen=int(r[3]), last_seen=r[4]
            )
            for r in rows
        ],
        total=total,
        page=params.page,
        page_size=params.page_size,
    )


def consumer_stores(profile_id: str, *, session: Session, warehouse: Warehouse) -> list[ConsumerStore]:
    """The organisations a consumer bought from or visited, most orders first."""
    profile = _live_profile(session, profile_id)
    ids = [profile.id, *merged_profile_ids(session, profile.id)]
    rows = warehouse.query(
        "SELECT org_id, count(*) AS events, sum(CASE WHEN type = 'order.paid' THEN 1 ELSE 0 END) AS orders, "
        "sum(CASE WHEN type = 'order.paid' THEN coalesce(amount, 0) ELSE 0 END) AS revenue_fen, "
        "max(ts) AS last_seen FROM tenant_events WHERE profile_id IN $ids AND org_id IS NOT NULL "
        "GROUP BY org_id ORDER BY orders DESC, events DESC, org_id",
        {"ids": ids},
        tenant_id=current_tenant(session),
    ).rows
    out: list[ConsumerStore] = []
    for org_id, events, orders, revenue, last_seen in rows:
        name = code = None
        try:
            org = network.get_organization(org_id, session=session)
            name, code = org.name, org.code
        except NotFound:
            pass
        out.append(
            ConsumerStore(
                org_id=org_id,
                name=name,
                code=code,
                events=int(events),
                orders=int(orders),
                revenue_fen=int(revenue),
                last_seen=last_seen,
            )
        )
    return out


def partner_orgs(org_id: str, *, session: Session) -> list[str]:
    """A partner's organisation and every one below it."""
    return network.organization_subtree_ids(org_id, session=session)


def profile_in_orgs(profile_id: str, org_ids: list[str], *, session: Session, warehouse: Warehouse) -> bool:
    """Did this consumer deal with one of these organisations (a partner may see only those)?"""
    profile = _live_profile(session, profile_id)
    ids = [profile.id, *merged_profile_ids(session, profile.id)]
    rows = warehouse.query(
        "SELECT count(*) AS n FROM tenant_events WHERE profile_id IN $ids AND org_id IN $orgs",
        {"ids": ids, "orgs": org_ids},
        tenant_id=current_tenant(session),
    ).rows
    return bool(rows and rows[0][0])


# --- access: the data subject's own data ----------------------------------------------------------


def access_export(profile_id: str, *, session: Session, warehouse: Warehouse | None) -> dict[str, Any]:
    """Everything the platform holds about a consumer, as JSON for the data subject (PIPL access):
    identifiers, traits, tags, consents and events. Phones and emails exist only as keyed hashes,
    so their masked form is what can be shown."""
    profile = _live_profile(session, profile_id)
    ids = [profile.id, *merged_profile_ids(session, profile.id)]
    idents = session.scalars(
        select(Identifier).where(Identifier.profile_id == profile.id).order_by(Identifier.id)
    )
    events: list[dict[str, Any]] = []
    tenant_id = current_tenant(session)
    for r in session.execute(
        select(
            outbox.c.event_id,
            outbox.c.ts_us,
            outbox.c.type,
            outbox.c.org_id,
            outbox.c.sku,
            outbox.c.region,
            outbox.c.amount,
            outbox.c.properties,
        )
        .where(outbox.c.tenant_id == tenant_id, outbox.c.profile_id.in_(ids))
        .order_by(outbox.c.ts_us)
    ):
        events.append(
            {
                "event_id": r.event_id,
                "ts": datetime.fromtimestamp(r.ts_us / 1_000_000, UTC).isoformat(),
                "type": r.type,
                "org_id": r.org_id,
                "sku": r.sku,
                "region": r.region,
                "amount_fen": r.amount,
                "properties": json.loads(r.properties or "{}"),
            }
        )
    if warehouse is not None:
        seen = {e["event_id"] for e in events}
        for event_id, ts, kind, org_id, sku, region, amount, props in warehouse.query(
            "SELECT event_id, ts, type, org_id, sku, region, amount, properties FROM tenant_events "
            "WHERE profile_id IN $ids ORDER BY ts",
            {"ids": ids},
            tenant_id=tenant_id,
        ).rows:
            if event_id not in seen:
                events.append(
                    {
                        "event_id": event_id,
                        "ts": ts.isoformat(),
                        "type": kind,
                        "org_id": org_id,
                        "sku": sku,
                        "region": region,
                        "amount_fen": amount,
                        "properties": json.loads(props or "{}"),
                    }
                )
    traits = get_traits(profile.id, session=session)
    return {
        "profile_id": profile.id,
        "created_at": profile.created_at.isoformat(),
        "merged_profiles": ids[1:],
        "identifiers": [
            {"namespace": i.namespace, "value": i.display, "since": i.created_at.isoformat()} for i in idents
        ],
        "traits": traits.model_dump(mode="json") if traits else None,
        "tags": [t.model_dump(mode="json") for t in profile_tags(profile.id, session=session)],
        "consents": [c.model_dump(mode="json") for c in consents(profile.id, session=session)],
        "events": sorted(events, key=lambda e: e["ts"]),
    }
