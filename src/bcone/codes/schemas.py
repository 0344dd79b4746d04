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


class CodeSettingsUpdate(BaseModel):
    """A change to the tenant's code settings: only the fields sent change."""

    model_config = _STRICT

    resolver_host: Annotated[str, Field(max_length=253, pattern=HOST_PATTERN)] | None = None
    warn_threshold: int | None = Field(default=None, ge=1, le=1000)


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
