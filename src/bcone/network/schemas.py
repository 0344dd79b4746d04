"""Contracts of the channel network: what the API takes and returns, and what other domains get."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

OrgKind = Literal["distributor", "wholesaler", "store"]
OrgStatus = Literal["active", "suspended", "closed"]
StaffKind = Literal["sales_rep", "shop_assistant", "koc"]
StaffStatus = Literal["active", "inactive"]

ORG_KIND_ORDER: tuple[OrgKind, ...] = ("distributor", "wholesaler", "store")

_MOBILE = re.compile(r"1[3-9]\d{9}")
_SERVICE_NUMBER = re.compile(r"(400|800)\d{7}")
_EXTENSION = re.compile(r"^(?P<main>.*?)\s*(?:转|ext\.?|x|#)\s*(?P<ext>\d{1,6})$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-()（）]")


def normalise_phone(value: str) -> str:
    """A Chinese phone number in one stored form, or ``ValueError`` saying what a valid one is.

    Mobile: 11 digits ``1[3-9]xxxxxxxxx`` (a ``+86``/``0086`` prefix is dropped). Landline: area
    code with its leading 0 (3 digits for 010 and 02x, else 4) and a 7-8 digit number, stored
    ``0755-12345678`` (extension ``-123``). Service numbers: ``400-xxx-xxxx`` / ``800-xxx-xxxx``.
    """
    text = value.strip()
    extension = ""
    match = _EXTENSION.match(text)
    if match:
        text, extension = match["main"], match["ext"]
    digits = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{value.strip()!r} is not a phone number (digits, spaces and - only)")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if _MOBILE.fullmatch(digits) and not extension:
        return digits
    if _SERVICE_NUMBER.fullmatch(digits):
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" + (f"-{extension}" if extension else "")
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        area_length = 3 if digits[1] in "12" else 4
        subscriber = digits[area_length:]
        if len(subscriber) in (7, 8) and subscriber[0] not in "01":
            return f"{digits[:area_length]}-{subscriber}" + (f"-{extension}" if extension else "")
    raise ValueError(
        f"{value.strip()!r} is not a Chinese mobile number (11 digits starting 13-19) "
        "or landline (area code with 0, then 7-8 digits, e.g. 0755-12345678)"
    )


def _optional_phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return normalise_phone(value)


Phone = Annotated[str, AfterValidator(normalise_phone)]
OptionalPhone = Annotated[str | None, AfterValidator(_optional_phone)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
DivisionCode = Annotated[str, Field(min_length=1, max_length=12)]

_STRIP = ConfigDict(str_strip_whitespace=True, extra="forbid")


class OrganizationIn(BaseModel):
    """A new organisation. The parent is given by id or by code (imports and bulk loads use codes)."""

    model_config = _STRIP

    kind: OrgKind
    code: Code
    name: str = Field(min_length=1, max_length=200)
    parent_id: str | None = None
    parent_code: str | None = None
    division_code: DivisionCode
    address: str = Field(default="", max_length=300)
    lng: float | None = None
    lat: float | None = None
    sales_regions: list[str] = Field(default_factory=list, max_length=500)
    status: OrgStatus = "active"
    contact_name: str = Field(default="", max_length=100)
    contact_phone: OptionalPhone = None

    @model_validator(mode="after")
    def _one_parent_reference(self) -> OrganizationIn:
        if self.parent_id and self.parent_code:
            raise ValueError("give parent_id or parent_code, not both")
        return self


class OrganizationUpdate(BaseModel):
    """A change to an organisation: only the fields sent are changed (``null`` clears)."""

    model_config = _STRIP

    kind: OrgKind | None = None
    code: Code | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: str | None = None
    parent_code: str | None = None
    division_code: DivisionCode | None = None
    address: str | None = Field(default=None, max_length=300)
    lng: float | None = None
    lat: float | None = None
    sales_regions: list[str] | None = Field(default=None, max_length=500)
    status: OrgStatus | None = None
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: OptionalPhone = None


class OrganizationOut(BaseModel):
    """An organisation as other domains and the API see it."""

    id: str
    kind: OrgKind
    code: str
    name: str
    parent_id: str | None
    parent_code: str | None = None
    parent_name: str | None = None
    distributor_id: str | None
    wholesaler_id: str | None
    division_code: str
    division_name: str
    address: str
    lng: float | None
    lat: float | None
    location_approximate: bool
    sales_regions: list[str]
    status: OrgStatus
    contact_name: str
    contact_phone: str | None
    created_at: datetime
    updated_at: datetime


class StaffIn(BaseModel):
    """A new staff member. The organisation is given by id or code; sales reps take assignments."""

    model_config = _STRIP

    kind: StaffKind
    name: str = Field(min_length=1, max_length=100)
    phone: Phone
    employee_code: Code
    org_id: str | None = None
    org_code: str | None = None
    assigned_org_ids: list[str] = Field(default_factory=list, max_length=2000)
    assigned_org_codes: list[str] = Field(default_factory=list, max_length=2000)
    status: StaffStatus = "active"

    @model_validator(mode="after")
    def _one_org_reference(self) -> StaffIn:
        if self.org_id and self.org_code:
            raise ValueError("give org_id or org_code, not both")
        return self


class StaffUpdate(BaseModel):
    """A change to a staff member: only the fields sent are changed."""

    model_config = _STRIP

    kind: StaffKind | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: Phone | None = None
    employee_code: Code | None = None
    org_id: str | None = None
    org_code: str | None = None
    assigned_org_ids: list[str] | None = Field(default=None, max_length=2000)
    assigned_org_codes: list[str] | None = Field(default=None, max_length=2000)
    status: StaffStatus | None = None


class StaffOut(BaseModel):
    """A staff member as other domains and the API see it."""

    id: str
    kind: StaffKind
    name: str
    phone: str
    employee_code: str
    org_id: str | None
    org_code: str | None = None
    org_name: str | None = None
    assigned_org_ids: list[str]
    assigned_org_codes: list[str] = Field(default_factory=list)
    status: StaffStatus
    created_at: datetime
    updated_at: datetime
