"""Contracts of the iam domain: API input and output, and what other domains receive."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from bcone.core.auth import Role
from bcone.core.db import as_utc

# A pragmatic shape check (one "@", a dot in the domain, no spaces); deliverability is proven by
# the person logging in, not by a regular expression.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
# Slugs appear in URLs and commands: lower-case letters, digits and inner hyphens.
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
# NIST SP 800-63B asks for at least 8; 10 keeps a margin. The upper bound keeps one argon2 hash cheap.
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 1024


def _normalise_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL_RE.match(value):
        raise ValueError("not a valid email address")
    return value


# Output timestamps are aware UTC on every backend, so clients see the same JSON everywhere.
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_normalise_email)]
Password = Annotated[str, StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SLUG_PATTERN)]
TenantStatus = Literal["active", "suspended"]
UserStatus = Literal["active", "disabled"]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: Slug = Field(description="URL-safe identifier: a-z, 0-9 and inner hyphens, e.g. acme-foods")
    name: Name


class TenantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    slug: str
    name: str
    status: TenantStatus
    created_at: UtcDatetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: Name
    password: Password
    role: Role
    org_id: str | None = Field(default=None, max_length=36, description="required for role partner")


class OperatorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    display_name: Name
    password: Password


class UserUpdate(BaseModel):
    """A partial change: only the fields sent are applied."""

    model_config = ConfigDict(extra="forbid")

    display_name: Name | None = None
    role: Role | None = None
    org_id: str | None = Field(default=None, max_length=36)
    status: UserStatus | None = None
    password: Password | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str | None
    email: str
    display_name: str
    role: Role | None
    org_id: str | None
    is_operator: bool
    status: UserStatus
    last_login_at: UtcDatetime | None
    created_at: UtcDatetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    role: Role
    org_id: str | None = Field(default=None, max_length=36, description="required for role partner")
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    role: Role
    org_id: str | None
    prefix: str = Field(description="the first characters of the key, to recognise it in lists")
    created_by: str | None
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None
    expires_at: UtcDatetime | None


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(
        description="the full key, shown only once: send it as Authorization: Bearer <secret>"
    )


class ConsoleSessionStarted(BaseModel):
    """A new console login: the cookie value (shown once) and its CSRF token."""

    session_id: str
    token: str
    csrf_token: str
    expires_at: UtcDatetime


class Me(BaseModel):
    """The caller of a request."""

    via: Literal["session", "api_key"]
    tenant_id: str | None
    tenant_slug: str | None
    user_id: str | None
    role: Role | None
    org_id: str | None
    is_operator: bool
    display_name: str
    api_key_id: str | None
    csrf_token: str | None = Field(
        default=None, description="console sessions only: send it as X-CSRF-Token on unsafe requests"
    )
