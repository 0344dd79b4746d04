"""HTTP API of the cdp domain: event ingestion, profiles, the identity graph's audit and settings.

Ingestion and profile reads: owners, admins and marketers (an API key or a console session).
Unlink, rebuild and settings changes: owners and admins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from bcone.cdp import service
from bcone.cdp.errors import EventsRejected
from bcone.cdp.schemas import (
    AuditOut,
    CdpSettingsIn,
    CdpSettingsOut,
    EventBatch,
    IdentifierOut,
    IngestResult,
    ProfileDetail,
    ProfileEvent,
    ProfileSummary,
    RebuildOut,
    UnlinkIn,
    UnlinkOut,
)
from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, SettingsDep, require_roles
from bcone.core.pagination import Page

router = APIRouter(tags=["cdp"])

Marketer = Annotated[Principal, Depends(require_roles(Role.marketer))]
Admin = Annotated[Principal, Depends(require_roles())]


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


@router.get("/cdp/profiles/{profile_id}")
def get_profile(profile_id: str, _: Marketer, session: SessionDep, settings: SettingsDep) -> ProfileDetail:
    """A profile (a merged one answers with the profile it was merged into): identifiers in
    display form, links, the merge audit, recent events and the organisations they involve."""
    return service.get_profile(profile_id, session=session, settings=settings)


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
