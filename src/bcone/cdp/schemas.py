"""Schemas of the cdp domain: API input and output, and the contracts other domains receive.

Identifiers leave this domain only in their display form: a phone or an email is masked
(``138****1234``), its keyed hash is never shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bcone.cdp.identifiers import NAMESPACE_BASES


class EventBatch(BaseModel):
    """``POST /cdp/events``: up to 1,000 events; each is validated on its own."""

    model_config = ConfigDict(extra="forbid")

    events: list[Any]


class EventError(BaseModel):
    index: int
    event_id: str | None = None
    code: str
    field: str | None = None
    message: str


class EventResult(BaseModel):
    index: int
    event_id: str
    profile_id: str | None


class IngestResult(BaseModel):
    accepted: int
    rejected: int
    errors: list[EventError]
    results: list[EventResult]


class IdentifierOut(BaseModel):
    id: int
    namespace: str
    value: str  # the display form: masked for phones and emails
    quarantined: bool
    created_at: datetime


class LinkOut(BaseModel):
    seq: int
    a: IdentifierOut
    b: IdentifierOut
    status: str
    event_id: str | None
    created_at: datetime


class ProfileSummary(BaseModel):
    id: str
    created_at: datetime
    updated_at: datetime
    identifier_count: int
    identifiers: list[IdentifierOut]  # the first few, for lists


class AuditOut(BaseModel):
    id: str
    at: datetime
    kind: str
    profile_id: str
    other_profiles: list[str]
    identifiers: list[dict[str, str]]
    event_id: str | None
    actor: str | None
    reason: str | None


class ProfileEvent(BaseModel):
    event_id: str
    ts: datetime
    type: str
    org_id: str | None
    sku: str | None
    amount: int | None
    source: Literal["warehouse", "outbox"]


class LinkedOrganization(BaseModel):
    id: str
    name: str | None
    code: str | None
    events: int


class ProfileDetail(BaseModel):
    id: str
    status: str
    created_at: datetime
    updated_at: datetime
    merged_profiles: list[str]  # profiles merged into this one
    identifiers: list[IdentifierOut]
    links: list[LinkOut]
    audit: list[AuditOut]
    recent_events: list[ProfileEvent]
    organizations: list[LinkedOrganization]  # the organisations of its recent events


class CdpSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attach_only: list[Annotated[str, Field(min_length=1, max_length=32)]] = ["device"]
    quarantine_threshold: Annotated[int, Field(ge=1, le=10_000)] = 5
    unknown_event_types: Literal["reject", "keep"] = "reject"


class CdpSettingsOut(CdpSettingsIn):
    namespaces: list[str] = list(NAMESPACE_BASES)


class UnlinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=500)] | None = None


class UnlinkOut(BaseModel):
    link: int
    profiles: list[str]  # the profiles of the link's two ends afterwards
    splits: int


class RebuildOut(BaseModel):
    identifiers: int
    links: int
    profiles: int
    merges: int
    splits: int
    new_profiles: int
    moved_identifiers: int
    seconds: float
