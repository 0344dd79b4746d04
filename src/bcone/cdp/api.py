"""HTTP API of the cdp domain: event ingestion, profiles, the identity graph's audit and settings,
traits, tags, segments, consent, deletion and the stores' consumers.

Ingestion, profile reads, tags and segments: owners, admins and marketers (an API key or a
console session). Analysts read profiles with every identifier masked (no PII permission).
Partners read the consumers of their own organisation (and those below it) only, masked.
Unlink, rebuild, settings changes and deletion: owners and admins.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from bcone.cdp import service
from bcone.cdp.errors import EventsRejected, ProfileNotFound
from bcone.cdp.schemas import (
    AuditOut,
    CdpSettingsIn,
    CdpSettingsOut,
    ConsentIn,
    ConsentOut,
    ConsumerStore,
    DeletionOut,
    EventBatch,
    IdentifierOut,
    IngestResult,
    MembershipOut,
    ProfileDetail,
    ProfileEvent,
    ProfileSummary,
    ProfileTagOut,
    RebuildOut,
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
    UnlinkIn,
    UnlinkOut,
)
from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, SettingsDep, get_database, require_roles
from bcone.core.errors import Forbidden
from bcone.core.pagination import Page
from bcone.core.tenancy import current_tenant
from bcone.core.warehouse import open_warehouse

router = APIRouter(tags=["cdp"])

Marketer = Annotated[Principal, Depends(require_roles(Role.marketer))]
Admin = Annotated[Principal, Depends(require_roles())]
# Who may read profiles; only PII_ROLES see identifiers in their display form.
Reader = Annotated[Principal, Depends(require_roles(Role.marketer, Role.analyst, Role.partner))]
PartnerOrMarketer = Annotated[Principal, Depends(require_roles(Role.marketer, Role.partner))]


def _actor(principal: Principal) -> str:
    who = principal.user_id or principal.api_key_id or "?"
    return f"{principal.via}:{who}"


@router.post("/cdp/events")
def ingest(body: EventBatch, principal: Marketer, session: SessionDep, settings: SettingsDep) -> IngestResult:
    """Up to 1,000 events; each is validated against its type's schema.

    The valid ones are accepted (identities resolved to profiles, events appended to the outbox
    in one transaction); the others are listed by index in ``errors``. 413 for more than 1,000
    events; 422 when every event was rejected. Idempotent by ``event_id``.
    """
    result = service.ingest_events(
        body.events, session=session, secret_key=settings.secret_key, actor=_actor(principal)
    )
    if result.errors and not result.accepted:
        first = result.errors[0]
        raise EventsRejected(
            f"all {result.rejected} events were rejected; first: {first.field}: {first.message}",
            field=first.field,
            errors=[e.model_dump() for e in result.errors],
        )
    return result


@router.get("/cdp/profiles")
def list_profiles(
    _: Marketer, session: SessionDep, settings: SettingsDep, page: PageDep
) -> Page[ProfileSummary]:
    """Profiles, newest first; ``q`` finds a phone or an email (matched by its hash), an
    identifier value, part of a masked value, or a profile id."""
    return service.list_profiles(page, session=session, secret_key=settings.secret_key)


def _partner_guard(principal: Principal, profile_id: str, session: Any, settings: Any) -> None:
    """A partner sees a consumer only when that consumer dealt with its organisation (or one
    below it); otherwise the profile does not exist for them."""
    if not principal.is_partner:
        return
    if principal.org_id is None:
        raise Forbidden("this partner user is not linked to an organisation", field="org_id")
    orgs = service.partner_orgs(principal.org_id, session=session)
    with open_warehouse(settings) as wh:
        if not service.profile_in_orgs(profile_id, orgs, session=session, warehouse=wh):
            raise ProfileNotFound(f"no profile {profile_id}", field="profile_id")


@router.get("/cdp/profiles/{profile_id}")
def get_profile(
    profile_id: str, principal: Reader, session: SessionDep, settings: SettingsDep
) -> ProfileDetail:
    """A profile (a merged one answers with the profile it was merged into): identifiers in
    display form (masked further for roles without PII permission), links, the merge audit,
    recent events and the organisations they involve."""
    _partner_guard(principal, profile_id, session, settings)
    detail = service.get_profile(profile_id, session=session, settings=settings)
    return detail if service.may_see_pii(principal) else service.mask_profile(detail)


@router.get("/cdp/profiles/{profile_id}/events")
def get_profile_events(
    profile_id: str, _: Marketer, session: SessionDep, settings: SettingsDep
) -> list[ProfileEvent]:
    """The profile's latest events, from the warehouse once flushed, else from the outbox."""
    return service.profile_events(profile_id, session=session, settings=settings)


@router.get("/cdp/audit")
def list_audit(_: Marketer, session: SessionDep, page: PageDep, kind: str | None = None) -> Page[AuditOut]:
    """Merges, splits, unlinks and quarantines, newest first; ``q`` is a profile id."""
    return service.list_audit(page, session=session, kind=kind)


@router.get("/cdp/quarantine")
def list_quarantine(_: Marketer, session: SessionDep, page: PageDep) -> Page[IdentifierOut]:
    """Identifiers in quarantine (seen with too many consumers to join anyone)."""
    return service.list_quarantined(page, session=session)


@router.post("/cdp/links/{seq}/unlink")
def unlink(seq: int, body: UnlinkIn, principal: Admin, session: SessionDep) -> UnlinkOut:
    """Undo a wrong merge by removing the link; the profile splits where nothing else holds it."""
    return service.unlink_link(seq, session=session, actor=_actor(principal), reason=body.reason)


@router.post("/cdp/rebuild")
def rebuild(principal: Admin, session: SessionDep) -> RebuildOut:
    """Recompute every profile of the tenant from all links (the same rules as ingestion)."""
    return service.rebuild_profiles(session=session, actor=_actor(principal))


@router.post("/cdp/rebuild/job", status_code=202)
def rebuild_job(principal: Admin, session: SessionDep) -> dict[str, str]:
    """Queue the full rebuild as the background job ``cdp.rebuild``; follow it at
    ``GET /api/v1/jobs/{job_id}``."""
    return {"job_id": service.enqueue_rebuild(session=session, actor=_actor(principal))}


@router.get("/cdp/settings")
def get_settings(_: Marketer, session: SessionDep) -> CdpSettingsOut:
    """Merge rules, quarantine threshold and the policy for unknown event types."""
    return service.get_settings_out(session=session)


@router.put("/cdp/settings")
def put_settings(body: CdpSettingsIn, _: Admin, session: SessionDep) -> CdpSettingsOut:
    """Change the settings; run a rebuild to apply new merge rules to existing profiles."""
    return service.update_settings(body, session=session)


# --- traits, tags ------------------------------------------------------------------------------


@router.get("/cdp/profiles/{profile_id}/traits")
def get_traits(
    profile_id: str, principal: Reader, session: SessionDep, settings: SettingsDep
) -> TraitsOut | None:
    """Computed traits as last refreshed by the job ``cdp.traits`` (null before the first run)."""
    _partner_guard(principal, profile_id, session, settings)
    return service.get_traits(service.get_profile_id(profile_id, session=session), session=session)


@router.post("/cdp/traits/refresh", status_code=202)
def refresh_traits(_: Marketer, session: SessionDep) -> dict[str, str]:
    """Queue the job ``cdp.traits`` (traits of every profile from the warehouse)."""
    return {"job_id": service.enqueue_job(service.TRAITS_JOB, session=session)}


@router.get("/cdp/tags")
def list_tags(_: Marketer, session: SessionDep, page: PageDep) -> Page[TagOut]:
    return service.list_tags(page, session=session)


@router.post("/cdp/tags", status_code=201)
def create_tag(body: TagIn, _: Marketer, session: SessionDep) -> TagOut:
    """A manual tag, or a rule tag (``rule``: a segment rule) that the job ``cdp.tags`` sets."""
    return service.create_tag(body, session=session)


@router.post("/cdp/tags/assign")
def assign_tags(body: TagAssign, _: Marketer, session: SessionDep) -> TagAssignOut:
    """Add (or with ``remove``, take off) manual tags on many profiles at once."""
    return service.assign_tags(body, session=session)


@router.post("/cdp/tags/refresh", status_code=202)
def refresh_tags(_: Marketer, session: SessionDep) -> dict[str, str]:
    """Queue the job ``cdp.tags`` (evaluate every rule tag)."""
    return {"job_id": service.enqueue_job(service.TAGS_JOB, session=session)}


@router.get("/cdp/profiles/{profile_id}/tags")
def profile_tags(
    profile_id: str, principal: Reader, session: SessionDep, settings: SettingsDep
) -> list[ProfileTagOut]:
    _partner_guard(principal, profile_id, session, settings)
    return service.profile_tags(service.get_profile_id(profile_id, session=session), session=session)


# --- segments --------------------------------------------------------------------------------


@router.post("/cdp/segments/count")
def count_rule(body: RuleIn, _: Marketer, session: SessionDep, settings: SettingsDep) -> SegmentCount:
    """How many profiles a rule selects now (the live count while editing); 422 naming the JSON
    path of a bad rule (``rule.all[2].days``)."""
    with open_warehouse(settings) as wh:
        return service.count_rule(body, session=session, warehouse=wh)


@router.get("/cdp/segments")
def list_segments(_: Marketer, session: SessionDep, page: PageDep) -> Page[SegmentOut]:
    return service.list_segments(page, session=session)


@router.post("/cdp/segments", status_code=201)
def create_segment(
    body: SegmentIn, principal: Marketer, session: SessionDep, settings: SettingsDep
) -> SegmentOut:
    """A dynamic segment (evaluated on every read) or a static one (its members frozen now)."""
    with open_warehouse(settings) as wh:
        return service.create_segment(body, session=session, warehouse=wh, actor=_actor(principal))


@router.get("/cdp/segments/{segment_id}")
def get_segment(segment_id: str, _: Marketer, session: SessionDep) -> SegmentOut:
    return service.get_segment(segment_id, session=session)


@router.put("/cdp/segments/{segment_id}")
def update_segment(
    segment_id: str, body: SegmentIn, _: Marketer, session: SessionDep, settings: SettingsDep
) -> SegmentOut:
    with open_warehouse(settings) as wh:
        return service.update_segment(segment_id, body, session=session, warehouse=wh)


@router.delete("/cdp/segments/{segment_id}", status_code=204)
def delete_segment(segment_id: str, _: Marketer, session: SessionDep) -> None:
    service.delete_segment(segment_id, session=session)


@router.post("/cdp/segments/{segment_id}/snapshot")
def snapshot_segment(segment_id: str, _: Marketer, session: SessionDep, settings: SettingsDep) -> SegmentOut:
    """Freeze the current members: the segment becomes static."""
    with open_warehouse(settings) as wh:
        return service.snapshot_segment(segment_id, session=session, warehouse=wh)


@router.get("/cdp/segments/{segment_id}/members")
def segment_members(
    segment_id: str, _: Marketer, session: SessionDep, settings: SettingsDep, page: PageDep
) -> Page[SegmentMemberOut]:
    """The members' profile ids, in id order, paginated (consent purpose applied)."""
    with open_warehouse(settings) as wh:
        return service.segment_members(segment_id, page, session=session, warehouse=wh)


@router.get("/cdp/segments/{segment_id}/members/{profile_id}")
def is_member(
    segment_id: str, profile_id: str, _: Marketer, session: SessionDep, settings: SettingsDep
) -> MembershipOut:
    """Is this consumer in the segment? (a merged profile id is followed to its survivor)"""
    with open_warehouse(settings) as wh:
        return service.is_member(segment_id, profile_id, session=session, warehouse=wh)


@router.get("/cdp/segments/{segment_id}/export.csv")
def export_segment(
    request: Request, segment_id: str, _: Marketer, session: SessionDep, settings: SettingsDep
) -> StreamingResponse:
    """The members as CSV (profile id, traits, tags), streamed page by page."""
    service.get_segment(segment_id, session=session)  # 404 before the stream starts
    db = get_database(request)
    tenant_id = current_tenant(session)

    def body() -> Iterator[str]:
        with open_warehouse(settings) as wh, db.session(tenant_id=tenant_id, write=False) as own:
            yield from service.export_segment_csv(segment_id, session=own, warehouse=wh)

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
    )


# --- consent, deletion, access -----------------------------------------------------------------


@router.get("/cdp/profiles/{profile_id}/consents")
def get_consents(profile_id: str, _: Marketer, session: SessionDep) -> list[ConsentOut]:
    """The consent history, newest first (the latest per purpose holds)."""
    return service.consents(profile_id, session=session)


@router.post("/cdp/profiles/{profile_id}/consents", status_code=201)
def post_consent(
    profile_id: str, body: ConsentIn, principal: Marketer, session: SessionDep
) -> list[ConsentOut]:
    """Record a grant or a withdrawal of consent for a purpose, with its source and time."""
    return service.record_consent(profile_id, body, session=session, actor=_actor(principal))


@router.post("/cdp/profiles/{profile_id}/deletion", status_code=202)
def request_deletion(
    profile_id: str, principal: Admin, session: SessionDep, settings: SettingsDep
) -> DeletionOut:
    """Erase a consumer (PIPL): queued as the job ``cdp.erase``; follow it at
    ``GET /api/v1/cdp/deletions/{id}``, whose receipt counts what was erased."""
    return service.request_deletion(
        profile_id, session=session, secret_key=settings.secret_key, actor=_actor(principal)
    )


@router.get("/cdp/deletions/{deletion_id}")
def get_deletion(deletion_id: str, _: Admin, session: SessionDep) -> DeletionOut:
    return service.get_deletion(deletion_id, session=session)


@router.get("/cdp/profiles/{profile_id}/export")
def access_export(profile_id: str, _: Admin, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Everything held about the consumer, for the data subject (PIPL access request)."""
    with open_warehouse(settings) as wh:
        return service.access_export(profile_id, session=session, warehouse=wh)


# --- the B side ------------------------------------------------------------------------------------


@router.get("/cdp/stores/{org_id}/consumers")
def store_consumers(
    org_id: str, principal: PartnerOrMarketer, session: SessionDep, settings: SettingsDep, page: PageDep
) -> Page[StoreConsumer]:
    """Which consumers does this store (or partner, with everything below it) serve? A partner
    may ask only about its own organisation and those below it."""
    orgs = service.partner_orgs(org_id, session=session)
    if principal.is_partner:
        if principal.org_id is None:
            raise Forbidden("this partner user is not linked to an organisation", field="org_id")
        if org_id not in service.partner_orgs(principal.org_id, session=session):
            raise Forbidden("a partner sees only its own consumers", field="org_id")
    with open_warehouse(settings) as wh:
        return service.store_consumers(orgs, page, session=session, warehouse=wh)


@router.get("/cdp/profiles/{profile_id}/stores")
def consumer_stores(
    profile_id: str, _: Marketer, session: SessionDep, settings: SettingsDep
) -> list[ConsumerStore]:
    """Which stores does this consumer buy from or visit?"""
    with open_warehouse(settings) as wh:
        return service.consumer_stores(profile_id, session=session, warehouse=wh)
