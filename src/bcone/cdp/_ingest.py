"""Ingestion: validate a batch of events, resolve their identities, append them to the outbox.

Valid events are resolved and appended in the caller's transaction, so an accepted event exists
exactly when its identities were resolved; invalid ones are reported by index and never written.
A retried event (same ``event_id``) is skipped by the outbox and the warehouse, and its links
already exist, so a retried batch never doubles anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bcone.cdp._identity import load_config, resolve_identity_sets
from bcone.cdp.errors import BatchTooLarge
from bcone.cdp.events import EVENT_TYPES, EventIn
from bcone.cdp.identifiers import NormalisedIdentifier, identity_key, normalise
from bcone.cdp.schemas import EventError, EventResult, IngestResult
from bcone.core.errors import BconeError
from bcone.core.events import Event, append_events
from bcone.core.tenancy import current_tenant

MAX_BATCH = 1_000


@dataclass(slots=True)
class _OutboxEvent:
    """What ``append_events`` reads of an event (its attributes), without building a validated
    pydantic ``Event`` per event: the fields were validated by the event's schema already."""

    event_id: str
    tenant_id: str
    ts: datetime
    type: str
    profile_id: str | None
    identities: list[dict[str, str]]
    org_id: str | None
    sku: str | None
    region: str | None
    amount: int | None
    properties: dict[str, Any]


def _pydantic_error(index: int, event_id: str | None, exc: ValidationError) -> EventError:
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first["loc"])
    field = f"events[{index}].{loc}" if loc else f"events[{index}]"
    return EventError(
        index=index, event_id=event_id, code="validation_failed", field=field, message=first["msg"]
    )


def validate_event(
    index: int,
    item: Any,
    *,
    keep_unknown: bool,
    key: bytes,
    memo: dict[tuple[str, str], NormalisedIdentifier] | None = None,
) -> tuple[EventIn, list[NormalisedIdentifier]] | EventError:
    """One event checked against its type's schema, with its identities normalised.

    ``memo`` keeps the identifiers already normalised in this batch (a consumer's events share
    them; phones and emails cost a keyed hash each). Only successes are kept: an invalid value
    is checked again, so its error names this event's field."""
    if not isinstance(item, dict):
        return EventError(
            index=index, code="validation_failed", field=f"events[{index}]", message="not an object"
        )
    raw_id = item.get("event_id")
    event_id = raw_id if isinstance(raw_id, str) else None
    kind = item.get("type")
    model = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        if isinstance(kind, str) and not keep_unknown:
            return EventError(
                index=index,
                event_id=event_id,
                code="unknown_event_type",
                field=f"events[{index}].type",
                message=f"unknown event type {kind!r} (known: {', '.join(EVENT_TYPES)})",
            )
        model = EventIn
    try:
        event = model.model_validate(item)
    except ValidationError as exc:
        return _pydantic_error(index, event_id, exc)
    idents: list[NormalisedIdentifier] = []
    for j, ident in enumerate(event.identities):
        if memo is not None and (known := memo.get((ident.namespace, ident.value))) is not None:
            idents.append(known)
            continue
        try:
            done = normalise(ident.namespace, ident.value, key, field=f"events[{index}].identities[{j}]")
            idents.append(done)
            if memo is not None:
                memo[(ident.namespace, ident.value)] = done
        except BconeError as exc:
            return EventError(
                index=index, event_id=event_id, code=exc.code, field=exc.field, message=exc.detail
            )
    return event, idents


def ingest_events(
    items: list[Any], *, session: Session, secret_key: str, actor: str | None = None
) -> IngestResult:
    """Validate ``items``, resolve the valid events' identities and append them to the outbox."""
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(
            f"{len(items)} events in one call; send at most {MAX_BATCH} per call",
            field="events",
            limit=MAX_BATCH,
        )
    tenant_id = current_tenant(session)
    config = load_config(session)
    key = identity_key(secret_key, tenant_id)
    errors: list[EventError] = []
    valid: list[tuple[int, EventIn, list[NormalisedIdentifier]]] = []
    seen: set[str] = set()
    memo: dict[tuple[str, str], NormalisedIdentifier] = {}
    keep_unknown = config.unknown_event_types == "keep"
    for index, item in enumerate(items):
        checked = validate_event(index, item, keep_unknown=keep_unknown, key=key, memo=memo)
        if isinstance(checked, EventError):
            errors.append(checked)
            continue
        event, idents = checked
        if event.event_id in seen:
            errors.append(
                EventError(
                    index=index,
                    event_id=event.event_id,
                    code="duplicate_event_id",
                    field=f"events[{index}].event_id",
                    message="the same event_id appears earlier in this batch",
                )
            )
            continue
        seen.add(event.event_id)
        valid.append((index, event, idents))
    profiles = resolve_identity_sets(
        session, [v[2] for v in valid], [v[1].event_id for v in valid], config, actor=actor
    )
    append_events(
        session,
        cast(
            "list[Event]",
            [
                _OutboxEvent(
                    event.event_id,
                    tenant_id,
                    event.ts.astimezone(UTC),
                    event.type,
                    profile_id,
                    [{"namespace": i.namespace, "value": i.key} for i in idents],
                    event.org_id,
                    event.sku,
                    event.region,
                    event.amount,
                    event.properties_dict(),
                )
                for (_, event, idents), profile_id in zip(valid, profiles, strict=True)
            ],
        ),
    )
    return IngestResult(
        accepted=len(valid),
        rejected=len(errors),
        errors=errors,
        results=[
            EventResult.model_construct(index=i, event_id=e.event_id, profile_id=p)
            for (i, e, _), p in zip(valid, profiles, strict=True)
        ],
    )
