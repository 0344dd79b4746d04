"""Events and the outbox table: services append events inside their own transaction.

An event is a business fact analytics needs (a scan, an order, a visit...). A service calls
:func:`append_event` inside the transaction that makes the fact true, so the event exists exactly
when the fact does; :mod:`bcone.core.events.flush` later moves it to the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator
from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Session

from bcone.core.db import Base
from bcone.core.errors import ValidationFailed
from bcone.core.ids import new_id
from bcone.core.tenancy import TENANT_KEY, UNSCOPED_KEY, TenantNotBound, current_tenant
from bcone.core.warehouse import to_json_text

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
REGION_PATTERN = r"^\d{6}$"  # a GB/T 2260 county-level division code, e.g. 310101

ShortText = Annotated[str, Field(min_length=1, max_length=64)]


class Identity(BaseModel):
    """One identifier of a consumer, e.g. ``("wechat_openid:wx123", "o6_bmj...")`` or ``("phone", hash)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: ShortText
    value: Annotated[str, Field(min_length=1, max_length=256)]


class Event(BaseModel):
    """A business fact for analytics. ``amount`` is integer fen; ``ts`` is stored in UTC."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: ShortText = Field(default_factory=new_id)
    tenant_id: Annotated[str, Field(min_length=1, max_length=36)]
    ts: datetime = Field(default_factory=lambda: datetime.now(UTC))
    type: Annotated[str, Field(max_length=64, pattern=EVENT_TYPE_PATTERN)]
    profile_id: ShortText | None = None
    identities: list[Identity] = Field(default_factory=list)
    org_id: ShortText | None = None
    sku: ShortText | None = None
    region: Annotated[str, Field(pattern=REGION_PATTERN)] | None = None
    amount: StrictInt | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("ts")
    @classmethod
    def _aware_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("ts needs a time zone (naive times are ambiguous)")
        return value.astimezone(UTC)

    @field_validator("properties")
    @classmethod
    def _json_properties(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            to_json_text(value)
        except Exception as exc:  # pydantic_core raises its own serialisation errors
            raise ValueError(f"properties must be JSON-serialisable: {exc}") from exc
        return value


# Columns rather than one JSON payload: the flusher hands each column to Arrow as it comes from
# the database, with no per-row JSON parsing. ``ts_us`` (microseconds since the epoch, UTC) is
# an integer for the same reason; ``identities`` and ``properties`` are already warehouse JSON.
outbox = Table(
    "outbox",
    Base.metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("tenant_id", String(36), nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("type", String(64), nullable=False),
    Column("profile_id", String(64)),
    Column("identities", Text, nullable=False),
    Column("org_id", String(64)),
    Column("sku", String(64)),
    Column("region", String(6)),
    Column("amount", BigInteger),
    Column("properties", Text, nullable=False),
    # An event id is unique within its tenant: two brands may both name an event "order:1001".
    UniqueConstraint("tenant_id", "event_id"),
    sqlite_autoincrement=True,  # never reuse a seq, even after the outbox was emptied
)


def append_event(
    session: Session,
    *,
    type: str,
    ts: datetime | None = None,
    event_id: str | None = None,
    profile_id: str | None = None,
    identities: Sequence[Identity | tuple[str, str]] | None = None,
    org_id: str | None = None,
    sku: str | None = None,
    region: str | None = None,
    amount: int | None = None,
    properties: dict[str, Any] | None = None,
) -> Event:
    """Record a business fact of the session's tenant in the outbox, inside the caller's transaction.

    An event id is unique within the tenant: appending one that is already in the outbox is a
    no-op (the first one wins), so a retried request never fails its transaction nor doubles the
    event; one already flushed is skipped by the warehouse.
    """
    fields: dict[str, Any] = {
        "tenant_id": current_tenant(session),
        "type": type,
        "profile_id": profile_id,
        "identities": [_identity(i) for i in identities or ()],
        "org_id": org_id,
        "sku": sku,
        "region": region,
        "amount": amount,
        "properties": properties or {},
    }
    if ts is not None:
        fields["ts"] = ts
    if event_id is not None:
        fields["event_id"] = event_id
    try:
        event = Event(**fields)
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    append_events(session, [event])
    return event


def append_events(session: Session, events: Sequence[Event]) -> None:
    """Record many events at once (one bulk insert), inside the caller's transaction.

    A session bound to a tenant may only append that tenant's events; a session marked
    ``unscoped`` (system imports) appends each event for its own tenant. Event ids already in the
    outbox are skipped, as in :func:`append_event`.
    """
    if not events:
        return
    bound = session.info.get(TENANT_KEY)
    if bound is None and not session.info.get(UNSCOPED_KEY):
        raise TenantNotBound("appending events needs a tenant")
    if bound is not None and any(e.tenant_id != bound for e in events):
        raise TenantNotBound("an event belongs to another tenant")
    # Driver-level executemany: the ORM's per-row parameter handling would cost more than the
    # insert itself on bulk appends.
    dialect = session.get_bind().dialect.name
    session.connection().exec_driver_sql(_INSERT_SQL[dialect], [_outbox_row(e) for e in events])


def _insert_sql(mark: str) -> str:
    columns = ", ".join(_APPEND_COLUMNS)
    marks = ", ".join([mark] * len(_APPEND_COLUMNS))
    return f"INSERT INTO outbox ({columns}) VALUES ({marks}) ON CONFLICT (tenant_id, event_id) DO NOTHING"


_APPEND_COLUMNS = (
    "event_id",
    "tenant_id",
    "ts_us",
    "type",
    "profile_id",
    "identities",
    "org_id",
    "sku",
    "region",
    "amount",
    "properties",
)
_INSERT_SQL = {"sqlite": _insert_sql("?"), "postgresql": _insert_sql("%s")}


def _outbox_row(event: Event) -> tuple[Any, ...]:
    return (
        event.event_id,
        event.tenant_id,
        (event.ts - EPOCH) // MICROSECOND,
        event.type,
        event.profile_id,
        to_json_text(event.identities),
        event.org_id,
        event.sku,
        event.region,
        event.amount,
        to_json_text(event.properties),
    )


def _identity(value: Identity | tuple[str, str]) -> Identity | dict[str, str]:
    if isinstance(value, Identity):
        return value
    namespace, ident = value
    return {"namespace": namespace, "value": ident}


def _validation_failed(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "event"
    return ValidationFailed(f"{field}: {first['msg']}", field=field)
