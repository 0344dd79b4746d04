"""Schemas of the codes domain: API input and output, and the contracts other domains receive."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PackingLevel = Literal["unit", "case", "pallet"]
BatchStatus = Literal["active", "voided"]
ExportFormat = Literal["csv", "txt"]
QrFormat = Literal["svg", "png"]
# unknown: no batch of ours; forged: the serial's check characters or key are wrong (a forgery or
# a typo); voided: the batch was withdrawn; genuine: first check; checked_before: genuine, checked
# before but under the threshold; suspicious: checked more often than the tenant's threshold.
CheckVerdict = Literal["genuine", "checked_before", "suspicious", "voided", "forged", "unknown"]

# Codes per batch: far above any print run, low enough that the 2^63 counter never runs out.
MAX_BATCH_COUNT = 1_000_000_000
# GS1 AI 10 (lot) is up to 20 characters; this subset needs no escaping in a URL or a CSV field.
LOT_PATTERN = r"^[0-9A-Za-z._-]{1,20}$"
HOST_PATTERN = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(:\d{1,5})?$"
Division = Annotated[str, Field(pattern=r"^\d{6}$")]

_STRICT = ConfigDict(str_strip_whitespace=True, extra="forbid")


class BatchIn(BaseModel):
    """A new batch of codes for one SKU (given by id or by SKU code)."""

    model_config = _STRICT

    sku_id: str | None = None
    sku_code: str | None = None
    count: int = Field(ge=1, le=MAX_BATCH_COUNT)
    level: PackingLevel = "unit"
    lot: Annotated[str, Field(pattern=LOT_PATTERN)] | None = None
    production_date: date | None = None
    expiry_date: date | None = None
    regions: list[Division] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _checks(self) -> BatchIn:
        if bool(self.sku_id) == bool(self.sku_code):
            raise ValueError("give the SKU by sku_id or by sku_code (one of them)")
        if self.production_date and self.expiry_date and self.expiry_date < self.production_date:
            raise ValueError("expiry_date is before production_date")
        return self


class BatchOut(BaseModel):
    id: str
    sku_id: str
    sku_code: str
    gtin: str
    count: int
    level: PackingLevel
    lot: str
    production_date: date | None
    expiry_date: date | None
    regions: list[str]
    key_version: int
    range_start: int
    range_end: int
    status: BatchStatus
    voided_at: datetime | None
    void_reason: str
    created_at: datetime


class VoidIn(BaseModel):
    model_config = _STRICT

    reason: str = Field(default="", max_length=500)


class CodeSettingsOut(BaseModel):
    resolver_host: str
    warn_threshold: int
    current_key_version: int
    key_versions: list[int]
    codes_issued: int
    wechat_appid: str | None = None
    wechat_scope: str | None = None
    wechat_open_platform_id: str | None = None
    wechat_secret_set: bool = False
    nps_survey_url: str | None = None


class CodeSettingsUpdate(BaseModel):
    """A change to the tenant's code settings: only the fields sent change."""

    model_config = _STRICT

    resolver_host: Annotated[str, Field(max_length=253, pattern=HOST_PATTERN)] | None = None
    warn_threshold: int | None = Field(default=None, ge=1, le=1000)
    # The WeChat official account of the scan page's login (empty text clears it).
    wechat_appid: Annotated[str, Field(max_length=32, pattern=r"^(wx[0-9a-zA-Z]{6,30})?$")] | None = None
    wechat_secret: Annotated[str, Field(max_length=128, pattern=r"^[0-9a-zA-Z]*$")] | None = None
    wechat_scope: Literal["snsapi_base", "snsapi_userinfo"] | None = None
    wechat_open_platform_id: Annotated[str, Field(max_length=64, pattern=r"^[0-9A-Za-z_.-]*$")] | None = None
    # The scan page's survey link: an https URL or a path, with {org_id} {sku} {region} {serial}
    # where the values go (else they are added as query parameters). Empty text clears it.
    nps_survey_url: Annotated[str, Field(max_length=500)] | None = None


class KeyOut(BaseModel):
    version: int
    created_at: datetime


class Location(BaseModel):
    """Where a check happened, as the scanning page reports it (all optional)."""

    model_config = _STRICT

    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    region: Division | None = None

    @model_validator(mode="after")
    def _pair(self) -> Location:
        if (self.lat is None) != (self.lng is None):
            raise ValueError("give lat and lng together")
        return self


class ProductInfo(BaseModel):
    sku_id: str
    sku_code: str
    name: str
    product_name: str
    specification: str
    gtin: str


class CheckOut(BaseModel):
    """The answer to one authenticity check."""

    verdict: CheckVerdict
    genuine: bool
    gtin: str
    serial: str
    check_count: int = 0
    first_checked_at: datetime | None = None
    first_region: str | None = None
    first_region_name: str | None = None
    warn_threshold: int | None = None
    product: ProductInfo | None = None
    batch_id: str | None = None
    lot: str | None = None
    level: PackingLevel | None = None
    production_date: date | None = None
    expiry_date: date | None = None


class CheckRecord(BaseModel):
    ordinal: int
    checked_at: datetime
    region: str | None
    lat: float | None
    lng: float | None


class CodeLookupOut(BaseModel):
    """A code as the console sees it: its batch, its state and every check so far."""

    gtin: str
    serial: str
    url: str
    batch: BatchOut
    check_count: int
    first_checked_at: datetime | None
    checks: list[CheckRecord]


# --- Packing, shipping and diversion ----------------------------------------------------------

EventKind = Literal["commission", "aggregate", "disaggregate", "ship", "receive", "open"]
UnitStatus = Literal["active", "in_transit", "received"]
SerialList = Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=100_000)]


class CommissionIn(BaseModel):
    """Codes to commission: a list of serials, or a slice of a batch (``batch_id``, ``start``, ``count``)."""

    model_config = _STRICT

    serials: SerialList | None = None
    batch_id: str | None = None
    start: int = Field(default=0, ge=0)
    count: int | None = Field(default=None, ge=1, le=100_000)

    @model_validator(mode="after")
    def _one_way(self) -> CommissionIn:
        if (self.serials is None) == (self.batch_id is None):
            raise ValueError("give either serials or batch_id (with count)")
        if self.batch_id is not None and self.count is None:
            raise ValueError("count is required with batch_id")
        return self


class AggregateIn(BaseModel):
    model_config = _STRICT

    parent: str = Field(max_length=64)
    children: SerialList


class UnpackIn(BaseModel):
    model_config = _STRICT

    parent: str = Field(max_length=64)


class OpenCaseIn(BaseModel):
    model_config = _STRICT

    parent: str = Field(max_length=64)
    org_id: str = Field(max_length=36)


class ShipIn(BaseModel):
    model_config = _STRICT

    serials: SerialList
    destination_org_id: str = Field(max_length=36)


class ReceiveIn(BaseModel):
    model_config = _STRICT

    serials: SerialList
    org_id: str = Field(max_length=36)


class PackingResult(BaseModel):
    """The EPCIS event a packing or shipping call recorded."""

    event_id: str
    kind: EventKind
    event_time: datetime
    parent_serial: str | None
    count: int


class Whereabouts(BaseModel):
    """Where a commissioned code is: its containers (innermost first), holder and status."""

    serial: str
    batch_id: str
    level: PackingLevel
    containers: list[str]
    holder_org_id: str | None
    status: UnitStatus


class DiversionRulesIn(BaseModel):
    model_config = _STRICT

    tolerance_km: int = Field(ge=0, le=2000)


class DiversionExceptionIn(BaseModel):
    model_config = _STRICT

    distributor_id: str = Field(max_length=36)
    division_code: Division
    note: str = Field(default="", max_length=200)


class DiversionExceptionOut(BaseModel):
    id: str
    distributor_id: str
    division_code: str
    note: str


class DiversionAlertOut(BaseModel):
    id: str
    serial: str
    batch_id: str
    sku_code: str
    reason: str
    org_id: str | None
    distributor_id: str | None
    region: str
    province: str
    expected_regions: list[str]
    distance_km: float | None
    lat: float | None
    lng: float | None
    detected_at: datetime
    # Deduplicated: scans of the same (distributor, SKU, division) while the alert is open.
    occurrences: int = 1
    last_seen_at: datetime | None = None
    status: Literal["open", "closed"] = "open"


class DiversionGroupOut(BaseModel):
    """Out-of-region scans grouped by distributor, SKU and province (``alerts`` counts scans)."""

    distributor_id: str | None
    sku_code: str
    province: str
    alerts: int
    last_at: datetime


class AggregateManyIn(BaseModel):
    """Many containers packed in one call; at most 100,000 children in all."""

    model_config = _STRICT

    packs: Annotated[list[AggregateIn], Field(min_length=1, max_length=10_000)]
