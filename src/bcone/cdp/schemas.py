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


# --- connectors ------------------------------------------------------------------------------


class PlatformOrder(BaseModel):
    """One order (or customer) row of a platform export: the phone masked, the address reduced to
    its division code; names and streets are not kept."""

    row: int
    order_id: str | None
    line_id: str | None
    status: str | None
    paid_at: datetime | None
    amount_fen: int | None
    sku: str | None
    quantity: int | None
    region: str | None
    store_code: str | None
    phone_masked: str | None
    identifiers: list[str]  # "namespace:value" of the platform ids (openid, buyer name ...)


class PlatformRowError(BaseModel):
    row: int
    column: str | None
    message: str


class PlatformOrders(BaseModel):
    platform: str
    channel: str
    rows: list[PlatformOrder]
    errors: list[PlatformRowError]
    skipped: int


class ConnectResult(BaseModel):
    platform: str
    kind: str
    lines: int
    accepted: int
    rejected: int
    skipped: int
    errors: list[PlatformRowError]
    seconds: float


# --- traits, tags, segments ---------------------------------------------------------------------

ConsentPurpose = Literal["marketing_sms", "marketing_wechat", "profiling", "analytics", "cross_border"]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class TraitsOut(BaseModel):
    first_seen: datetime | None
    last_seen: datetime | None
    events: int
    orders: int
    revenue_fen: int
    r_score: int | None
    f_score: int | None
    m_score: int | None
    last_scan: datetime | None
    usual_store: str | None
    region: str | None
    refreshed_at: datetime


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Annotated[str, Field(max_length=500)] = ""
    rule: dict[str, Any] | None = None  # a segment rule: the tag is then set by the job cdp.tags


class TagOut(BaseModel):
    id: str
    name: str
    description: str
    kind: str
    rule: dict[str, Any] | None
    member_count: int
    refreshed_at: datetime | None


class TagAssign(BaseModel):
    """Add or remove manual tags on many profiles at once."""

    model_config = ConfigDict(extra="forbid")

    tags: Annotated[list[Name], Field(min_length=1, max_length=20)]
    profile_ids: Annotated[list[Annotated[str, Field(max_length=36)]], Field(min_length=1, max_length=10_000)]
    remove: bool = False


class TagAssignOut(BaseModel):
    changed: int


class ProfileTagOut(BaseModel):
    name: str
    source: str
    added_at: datetime


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: Any
    purpose: ConsentPurpose | None = None


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=500)] = ""
    rule: Any
    kind: Literal["dynamic", "static"] = "dynamic"
    purpose: ConsentPurpose | None = None


class SegmentOut(BaseModel):
    id: str
    name: str
    description: str
    rule: dict[str, Any]
    kind: str
    purpose: str | None
    member_count: int | None
    counted_at: datetime | None
    snapshot_at: datetime | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class SegmentCount(BaseModel):
    count: int
    seconds: float


class SegmentMemberOut(BaseModel):
    profile_id: str


class MembershipOut(BaseModel):
    segment_id: str
    profile_id: str  # the live profile the asked id resolves to
    member: bool


# --- consent, deletion, access --------------------------------------------------------------


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: ConsentPurpose
    granted: bool
    source: Annotated[str, Field(min_length=1, max_length=64)]
    at: datetime | None = None


class ConsentOut(BaseModel):
    purpose: str
    granted: bool
    source: str
    at: datetime
    actor: str | None


class DeletionOut(BaseModel):
    id: str
    status: str
    requested_at: datetime
    completed_at: datetime | None
    receipt: dict[str, Any]
    job_id: str | None = None


class StoreConsumer(BaseModel):
    profile_id: str
    events: int
    orders: int
    revenue_fen: int
    last_seen: datetime


class ConsumerStore(BaseModel):
    org_id: str
    name: str | None
    code: str | None
    events: int
    orders: int
    revenue_fen: int
    last_seen: datetime
