"""Packing and logistics: commission, aggregate (unit → case → pallet), ship, receive, open.

Every operation is one EPCIS event (``code_events``) with its codes (``code_event_epcs``) and
touches ``code_units``, the row a code gets when it is commissioned: its current container
(``parent_serial``) and, for a top-level item, who holds it and whether it is in transit.

**Validated as a whole.** A request's codes are decoded in bulk (:func:`verify_many`, tag and
range), then checked against their current state; the first refusal is a 4xx naming the index
(``serials[17]``) and the reason, and nothing is written.

**Concurrency.** Packing writes ``UPDATE code_units SET parent_serial = :case WHERE serial IN (…)
AND parent_serial IS NULL``; when fewer rows change than were asked for, another transaction
packed one of them first and the whole request fails (409). On PostgreSQL the second updater
waits for the first's row locks and re-checks the condition; SQLite's write lock serialises them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import numpy as np
from sqlalchemy import Table, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from bcone.codes._batches import aware
from bcone.codes._serials import SERIAL_LENGTH, verify_many
from bcone.codes._space import TenantKeys, _load_ranges
from bcone.codes.errors import CodeNotUsable, CodeStateConflict, UnknownOrganization
from bcone.codes.models import PACKING_LEVELS, CodeBatch, CodeEvent, CodeEventEpc, CodeUnit
from bcone.codes.schemas import PackingResult, Whereabouts
from bcone.core.db import utcnow
from bcone.core.errors import NotFound, ValidationFailed
from bcone.core.ids import new_id
from bcone.core.tenancy import current_tenant
from bcone.network import service as network

MAX_CODES_PER_CALL = 100_000
_CHUNK = 2000
_FOLD = str.maketrans({"I": "1", "L": "1", "O": "0"})
_REASONS = {
    "invalid": "forged, mistyped or another brand's code (check characters do not match)",
    "not_issued": "in no batch of this brand",
    "voided": "its batch is voided",
    "duplicate": "listed twice in this request",
    "not_commissioned": "not commissioned",
    "already_commissioned": "already commissioned",
    "already_packed": "already packed in another container",
    "level": "its packing level cannot go into this container",
    "packed": "inside a container: ship or receive the top container, or unpack it first",
    "elsewhere": "held by another organisation than the container",
    "not_in_transit": "not in transit to this organisation",
    "not_held": "not held by this organisation",
}


@dataclass(frozen=True, slots=True)
class Resolved:
    serials: list[str]
    batch_ids: list[str]
    batches: dict[str, CodeBatch]


def _refuse(field: str, index: int | None, reason: str, *, conflict: bool = False) -> None:
    where = field if index is None else f"{field}[{index}]"
    if index is not None and _NAMES.names is not None:
        where = _NAMES.names(index)
    error = CodeStateConflict if conflict else CodeNotUsable
    raise error(f"{where}: {_REASONS[reason]}", field=where, reason=reason, index=index)


class _Names(threading.local):
    names: Callable[[int], str] | None = None


_NAMES = _Names()


def resolve(
    session: Session,
    serials: Sequence[str],
    *,
    secret_key: str,
    field: str = "serials",
    names: Callable[[int], str] | None = None,
) -> Resolved:
    """Canonical serials and their batches, or a 422 naming the first bad one (no write).

    ``names`` turns an index into the field to name (``packs[2].children[5]``).
    """
    _NAMES.names = names
    try:
        return _resolve(session, serials, secret_key=secret_key, field=field)
    finally:
        _NAMES.names = None


def _resolve(session: Session, serials: Sequence[str], *, secret_key: str, field: str) -> Resolved:
    if not serials:
        raise ValidationFailed("at least one code is required", field=field)
    if len(serials) > MAX_CODES_PER_CALL:
        raise ValidationFailed(f"at most {MAX_CODES_PER_CALL} codes per call", field=field)
    tenant_id = current_tenant(session)
    texts = [s.strip().upper().translate(_FOLD) for s in serials]
    for i, text in enumerate(texts):
        if len(text) != SERIAL_LENGTH or not text.isascii():
            _refuse(field, i, "invalid")
    rows = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8).reshape(len(texts), SERIAL_LENGTH)
    valid, counters = verify_many(rows, TenantKeys(session, tenant_id, secret_key))
    bad = np.nonzero(~valid)[0]
    if bad.size:
        _refuse(field, int(bad[0]), "invalid")
    ranges = _load_ranges(session, tenant_id)
    starts = np.asarray(ranges.starts, dtype=np.uint64)
    ends = np.asarray(ranges.ends, dtype=np.uint64)
    slot = np.searchsorted(starts, counters, side="right") - 1
    inside = (slot >= 0) & (counters < ends[np.clip(slot, 0, None)]) if starts.size else slot >= 0
    missing = np.nonzero(~inside)[0]
    if missing.size:
        _refuse(field, int(missing[0]), "not_issued")
    batch_ids = [ranges.ids[int(k)] for k in slot]
    batches = {b.id: b for b in session.scalars(select(CodeBatch).where(CodeBatch.id.in_(set(batch_ids))))}
    seen: dict[str, int] = {}
    voided = {b.id for b in batches.values() if b.status == "voided"}
    for i, (text, batch_id) in enumerate(zip(texts, batch_ids, strict=True)):
        if batch_id in voided:
            _refuse(field, i, "voided")
        if text in seen:
            _refuse(field, i, "duplicate")
        seen[text] = i
    return Resolved(texts, batch_ids, batches)


@dataclass(frozen=True, slots=True)
class UnitRow:
    """The columns of a ``code_units`` row that packing reads (plain tuples, no ORM identity)."""

    serial: str
    batch_id: str
    level: str
    parent_serial: str | None
    holder_org_id: str | None
    status: str


_UNITS = cast(Table, CodeUnit.__table__)
_EVENTS = cast(Table, CodeEvent.__table__)
_EPCS = cast(Table, CodeEventEpc.__table__)
_UNIT_COLUMNS = (
    CodeUnit.serial,
    CodeUnit.batch_id,
    CodeUnit.level,
    CodeUnit.parent_serial,
    CodeUnit.holder_org_id,
    CodeUnit.status,
)


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# PostgreSQL's bulk paths pass the codes as arrays (one parameter each, whatever the count): the
# statements are small, compiled once, and the server unnests them. SQLite has no arrays; its
# paths are the chunked IN lists and executemany below, which run in-process and are fast there.
_PG_UNITS = sql_text(
    "SELECT serial, batch_id, level, parent_serial, holder_org_id, status FROM code_units "
    "WHERE tenant_id = :tenant_id AND serial = ANY(CAST(:serials AS VARCHAR[]))"
)
_PG_SET_PARENTS = sql_text(
    "UPDATE code_units AS u SET parent_serial = v.parent "
    "FROM unnest(CAST(:children AS VARCHAR[]), CAST(:parents AS VARCHAR[])) AS v(child, parent) "
    "WHERE u.tenant_id = :tenant_id AND u.serial = v.child AND u.parent_serial IS NULL"
)
_PG_EPCS = sql_text(
    "INSERT INTO code_event_epcs (tenant_id, event_id, serial) "
    "SELECT :tenant_id, e, s FROM unnest(CAST(:event_ids AS VARCHAR[]), CAST(:serials AS VARCHAR[])) AS v(e, s)"
)
_PG_UNITS_INSERT = sql_text(
    "INSERT INTO code_units (tenant_id, serial, batch_id, level, status, commissioned_at) "
    "SELECT :tenant_id, s, b, l, 'active', :now "
    "FROM unnest(CAST(:serials AS VARCHAR[]), CAST(:batch_ids AS VARCHAR[]), CAST(:levels AS VARCHAR[])) "
    "AS v(s, b, l)"
)


def _insert_epcs(session: Session, tenant_id: str, event_ids: list[str], serials: list[str]) -> None:
    if not serials:
        return
    if _is_postgresql(session):
        session.connection().execute(
            _PG_EPCS, {"tenant_id": tenant_id, "event_ids": event_ids, "serials": serials}
        )
        return
    # SQLite: the driver's executemany over plain tuples (its loop runs in C).
    session.connection().exec_driver_sql(
        "INSERT INTO code_event_epcs (tenant_id, event_id, serial) VALUES (?, ?, ?)",
        [(tenant_id, e, c) for e, c in zip(event_ids, serials, strict=True)],
    )


def _units(session: Session, serials: Sequence[str]) -> dict[str, UnitRow]:
    tenant_id = current_tenant(session)
    found: dict[str, UnitRow] = {}
    if _is_postgresql(session):
        if session.autoflush:
            session.flush()
        rows = session.connection().execute(_PG_UNITS, {"tenant_id": tenant_id, "serials": list(serials)})
        return {row[0]: UnitRow(*row) for row in rows}
    if session.autoflush:
        session.flush()
    # SQLite: the codes as one JSON array parameter (json_each), one small statement.
    rows = session.connection().exec_driver_sql(
        "SELECT serial, batch_id, level, parent_serial, holder_org_id, status FROM code_units "
        "WHERE tenant_id = ? AND serial IN (SELECT value FROM json_each(?))",
        (tenant_id, json.dumps(list(serials))),
    )
    found.update((row[0], UnitRow(*row)) for row in rows.all())
    return found


def _record(
    session: Session,
    kind: str,
    serials: Sequence[str],
    *,
    parent: str | None = None,
    source: str | None = None,
    destination: str | None = None,
    read_point: str | None = None,
) -> CodeEvent:
    tenant_id = current_tenant(session)
    event = CodeEvent(
        id=new_id(),
        tenant_id=tenant_id,
        kind=kind,
        event_time=utcnow(),
        parent_serial=parent,
        epc_count=len(serials),
        source_org_id=source,
        destination_org_id=destination,
        read_point=read_point,
    )
    session.add(event)
    session.flush()
    _insert_epcs(session, tenant_id, [event.id] * len(serials), list(serials))
    return event


def _result(event: CodeEvent) -> PackingResult:
    return PackingResult(
        event_id=event.id,
        kind=event.kind,
        event_time=aware(event.event_time) or event.event_time,
        parent_serial=event.parent_serial,
        count=event.epc_count,
    )


def commission(serials: Sequence[str], *, session: Session, secret_key: str) -> PackingResult:
    """Make codes active (EPCIS commissioning): each gets its ``code_units`` row."""
    resolved = resolve(session, serials, secret_key=secret_key)
    existing = _units(session, resolved.serials)
    for i, serial in enumerate(resolved.serials):
        if serial in existing:
            _refuse("serials", i, "already_commissioned", conflict=True)
    tenant_id = current_tenant(session)
    now = utcnow()
    if _is_postgresql(session):
        session.connection().execute(
            _PG_UNITS_INSERT,
            {
                "tenant_id": tenant_id,
                "now": now,
                "serials": resolved.serials,
                "batch_ids": resolved.batch_ids,
                "levels": [resolved.batches[b].level for b in resolved.batch_ids],
            },
        )
        return _result(_record(session, "commission", resolved.serials))
    # SQLite: the driver's executemany over tuples; the time stored as the column type stores it.
    connection = session.connection()
    stamp = _UNITS.c.commissioned_at.type.bind_processor(connection.dialect)
    stored = stamp(now) if stamp else now
    levels = {b: batch.level for b, batch in resolved.batches.items()}
    connection.exec_driver_sql(
        "INSERT INTO code_units (tenant_id, serial, batch_id, level, status, commissioned_at) "
        "VALUES (?, ?, ?, ?, 'active', ?)",
        [
            (tenant_id, s, b, levels[b], stored)
            for s, b in zip(resolved.serials, resolved.batch_ids, strict=True)
        ],
    )
    return _result(_record(session, "commission", resolved.serials))


def commission_range(
    batch_id: str, start: int, count: int, *, session: Session, secret_key: str
) -> PackingResult:
    """Commission ``count`` codes of a batch from its ``start``-th code (0-based)."""
    from bcone.codes._batches import batch_row
    from bcone.codes._serials import serials as make_serials

    batch = batch_row(session, batch_id)
    size = batch.range_end - batch.range_start
    if start < 0 or start >= size:
        raise ValidationFailed(f"start must be within 0..{size - 1}", field="start")
    if count < 1 or count > min(MAX_CODES_PER_CALL, size - start):
        raise ValidationFailed(
            f"count must be within 1..{min(MAX_CODES_PER_CALL, size - start)}", field="count"
        )
    key = TenantKeys(session, current_tenant(session), secret_key)[batch.key_version]
    return commission(
        make_serials(key, batch.range_start + start, count), session=session, secret_key=secret_key
    )


def _holder_row(session: Session, unit: UnitRow) -> UnitRow:
    """The top container of ``unit`` (itself when unpacked): the row that says where it is."""
    row = unit
    for _ in range(len(PACKING_LEVELS) + 1):
        if row.parent_serial is None:
            return row
        row = _units(session, [row.parent_serial])[row.parent_serial]
    return row


def aggregate(parent: str, children: Sequence[str], *, session: Session, secret_key: str) -> PackingResult:
    """Pack ``children`` into ``parent`` (EPCIS AggregationEvent ADD, bizStep packing)."""
    return aggregate_many([(parent, children)], session=session, secret_key=secret_key, single=True)[0]


def aggregate_many(
    packs: Sequence[tuple[str, Sequence[str]]], *, session: Session, secret_key: str, single: bool = False
) -> list[PackingResult]:
    """Pack many containers in one unit of work (a packing line's batch of full cases).

    Validated as a whole: the first bad code is a 4xx naming ``packs[k].children[i]`` (or
    ``children[i]`` for one container), and nothing is written. One aggregation event per container.
    """
    if not packs:
        raise ValidationFailed("at least one container is required", field="packs")
    owner: list[tuple[int, int]] = [(k, i) for k, (_, kids) in enumerate(packs) for i in range(len(kids))]

    def child_name(flat: int) -> str:
        k, i = owner[flat]
        return f"children[{i}]" if single else f"packs[{k}].children[{i}]"

    def parent_name(k: int) -> str:
        return "parent" if single else f"packs[{k}].parent"

    tops = resolve(session, [p for p, _ in packs], secret_key=secret_key, field="parents", names=parent_name)
    flat = resolve(
        session,
        [c for _, kids in packs for c in kids],
        secret_key=secret_key,
        field="children",
        names=child_name,
    )
    parents = tops.serials
    parent_set = set(parents)
    units = _units(session, [*parents, *flat.serials])
    ranks: list[int] = []
    holders: list[UnitRow] = []
    for k, parent_serial in enumerate(parents):
        parent_unit = units.get(parent_serial)
        if parent_unit is None:
            _refuse(parent_name(k), None, "not_commissioned")
        assert parent_unit is not None
        ranks.append(PACKING_LEVELS.index(parent_unit.level))
        if ranks[-1] == 0:
            _refuse(parent_name(k), None, "level")
        holders.append(_holder_row(session, parent_unit))
    for n, serial in enumerate(flat.serials):
        k = owner[n][0]
        unit = units.get(serial)
        if unit is None:
            _refuse(child_name(n), None, "not_commissioned")
        assert unit is not None
        if serial in parent_set or PACKING_LEVELS.index(unit.level) >= ranks[k]:
            _refuse(child_name(n), None, "level")
        if unit.parent_serial is not None:
            _refuse(child_name(n), None, "already_packed", conflict=True)
        if unit.holder_org_id != holders[k].holder_org_id or unit.status != holders[k].status:
            _refuse(child_name(n), None, "elsewhere", conflict=True)
    tenant_id = current_tenant(session)
    groups: list[list[str]] = []
    target: dict[str, str] = {}
    offset = 0
    for parent_serial, (_, kids) in zip(parents, packs, strict=True):
        group = flat.serials[offset : offset + len(kids)]
        offset += len(kids)
        groups.append(group)
        target.update(dict.fromkeys(group, parent_serial))
    changed = _set_parents(session, tenant_id, target)
    if changed != len(flat.serials):
        raise CodeStateConflict(
            "a code was packed into another container at the same time; nothing was packed",
            field="children" if single else "packs",
            reason="already_packed",
        )
    return _record_many(session, "aggregate", list(zip(parents, groups, strict=True)))


def _set_parents(session: Session, tenant_id: str, target: dict[str, str]) -> int:
    """Set each code's container where it has none; the number of rows changed.

    A code another transaction packed first is not changed, so the count comes up short. On
    PostgreSQL one ``UPDATE … FROM unnest(children, parents)`` with two array parameters; on
    SQLite a parameterised UPDATE run for every code (the driver's ``executemany``, in C).
    """
    pairs = list(target.items())
    if _is_postgresql(session):
        result = session.connection().execute(
            _PG_SET_PARENTS,
            {"tenant_id": tenant_id, "children": list(target), "parents": list(target.values())},
        )
        return int(result.rowcount)
    result = session.connection().exec_driver_sql(
        "UPDATE code_units SET parent_serial = ? WHERE tenant_id = ? AND serial = ? AND parent_serial IS NULL",
        [(p, tenant_id, c) for c, p in pairs],
    )
    return int(result.rowcount)


def _record_many(session: Session, kind: str, items: list[tuple[str, list[str]]]) -> list[PackingResult]:
    """One event per (parent, codes), written with two bulk inserts."""
    tenant_id = current_tenant(session)
    now = utcnow()
    events = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "kind": kind,
            "event_time": now,
            "parent_serial": parent,
            "epc_count": len(codes),
        }
        for parent, codes in items
    ]
    session.connection().execute(insert(_EVENTS), events)
    _insert_epcs(
        session,
        tenant_id,
        [str(e["id"]) for e, (_, codes) in zip(events, items, strict=True) for _c in codes],
        [c for _, codes in items for c in codes],
    )
    return [
        PackingResult(event_id=str(e["id"]), kind=kind, event_time=now, parent_serial=p, count=len(codes))
        for e, (p, codes) in zip(events, items, strict=True)
    ]


def _unpack(session: Session, parent: UnitRow, kind: str, read_point: str | None) -> PackingResult:
    holder = _holder_row(session, parent)
    tenant_id = current_tenant(session)
    children = list(
        session.scalars(
            select(CodeUnit.serial).where(
                CodeUnit.tenant_id == tenant_id, CodeUnit.parent_serial == parent.serial
            )
        )
    )
    if not children:
        raise CodeStateConflict("the container is empty", field="parent", reason="empty")
    # The children take the container's whereabouts with them.
    session.execute(
        update(CodeUnit)
        .where(CodeUnit.tenant_id == tenant_id, CodeUnit.parent_serial == parent.serial)
        .values(parent_serial=None, holder_org_id=holder.holder_org_id, status=holder.status)
        .execution_options(synchronize_session=False)
    )
    event = _record(session, kind, children, parent=parent.serial, read_point=read_point)
    return _result(event)


def _one_unit(session: Session, serial: str, *, secret_key: str, field: str) -> UnitRow:
    canonical = resolve(session, [serial], secret_key=secret_key, field=field).serials[0]
    unit = _units(session, [canonical]).get(canonical)
    if unit is None:
        _refuse(field, None, "not_commissioned")
    assert unit is not None
    return unit


def disaggregate(parent: str, *, session: Session, secret_key: str) -> PackingResult:
    """Unpack a container (EPCIS AggregationEvent DELETE, bizStep unpacking)."""
    unit = _one_unit(session, parent, secret_key=secret_key, field="parent")
    return _unpack(session, unit, "disaggregate", None)


def _organization(session: Session, org_id: str, field: str) -> str | None:
    try:
        return network.get_organization(org_id, session=session).division_code
    except NotFound:
        raise UnknownOrganization(f"no organisation {org_id} in this network", field=field) from None


def open_case(parent: str, org_id: str, *, session: Session, secret_key: str) -> PackingResult:
    """A store opens a case it holds: its units are now on the store's shelf."""
    division = _organization(session, org_id, "org_id")
    unit = _one_unit(session, parent, secret_key=secret_key, field="parent")
    holder = _holder_row(session, unit)
    if holder.holder_org_id != org_id:
        _refuse("parent", None, "not_held", conflict=True)
    return _unpack(session, unit, "open", division)


def _top_level(
    session: Session, serials: Sequence[str], *, secret_key: str
) -> tuple[list[str], dict[str, UnitRow]]:
    resolved = resolve(session, serials, secret_key=secret_key)
    units = _units(session, resolved.serials)
    for i, serial in enumerate(resolved.serials):
        unit = units.get(serial)
        if unit is None:
            _refuse("serials", i, "not_commissioned")
        assert unit is not None
        if unit.parent_serial is not None:
            _refuse("serials", i, "packed", conflict=True)
    return resolved.serials, units


def _move(session: Session, serials: list[str], **values: object) -> None:
    tenant_id = current_tenant(session)
    for start in range(0, len(serials), _CHUNK):
        session.execute(
            update(CodeUnit)
            .where(CodeUnit.tenant_id == tenant_id, CodeUnit.serial.in_(serials[start : start + _CHUNK]))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def ship(
    serials: Sequence[str], destination_org_id: str, *, session: Session, secret_key: str
) -> PackingResult:
    """Ship top-level items (units, cases, pallets) to an organisation of the network."""
    _organization(session, destination_org_id, "destination_org_id")
    canonical, units = _top_level(session, serials, secret_key=secret_key)
    sources = {units[s].holder_org_id for s in canonical}
    if len(sources) > 1:
        raise CodeStateConflict(
            "the items are held by different organisations; ship them separately", field="serials"
        )
    source = sources.pop()
    if source == destination_org_id:
        raise ValidationFailed("the items are already held by this organisation", field="destination_org_id")
    _move(session, canonical, holder_org_id=destination_org_id, status="in_transit")
    event = _record(session, "ship", canonical, source=source, destination=destination_org_id)
    return _result(event)


def receive(serials: Sequence[str], org_id: str, *, session: Session, secret_key: str) -> PackingResult:
    """The destination confirms the arrival of shipped items."""
    division = _organization(session, org_id, "org_id")
    canonical, units = _top_level(session, serials, secret_key=secret_key)
    for i, serial in enumerate(canonical):
        unit = units[serial]
        if unit.status != "in_transit" or unit.holder_org_id != org_id:
            _refuse("serials", i, "not_in_transit", conflict=True)
    _move(session, canonical, status="received")
    event = _record(session, "receive", canonical, destination=org_id, read_point=division)
    return _result(event)


def whereabouts_of(session: Session, serial: str) -> Whereabouts | None:
    """Where a commissioned code is: its containers, holder and status (None if not commissioned).

    A packed code is wherever its top container is: a unit in a case on a pallet shipped to a
    distributor is at that distributor (in transit until received). Unpacking hands the
    container's whereabouts down to its children, so they stay where the box was opened.
    """
    tenant_id = current_tenant(session)
    row = session.scalars(
        select(CodeUnit).where(CodeUnit.tenant_id == tenant_id, CodeUnit.serial == serial)
    ).one_or_none()
    if row is None:
        return None
    chain: list[str] = []
    top = row
    for _ in range(len(PACKING_LEVELS) + 1):
        if top.parent_serial is None:
            break
        chain.append(top.parent_serial)
        top = session.scalars(
            select(CodeUnit).where(CodeUnit.tenant_id == tenant_id, CodeUnit.serial == top.parent_serial)
        ).one()
    return Whereabouts(
        serial=row.serial,
        batch_id=row.batch_id,
        level=row.level,
        containers=chain,
        holder_org_id=top.holder_org_id,
        status=top.status,
    )


def whereabouts(serial: str, *, session: Session, secret_key: str) -> Whereabouts:
    """:func:`whereabouts_of` for a serial as typed (422 when not ours or not commissioned)."""
    unit = _one_unit(session, serial, secret_key=secret_key, field="serial")
    found = whereabouts_of(session, unit.serial)
    assert found is not None
    return found


def recent_events(session: Session, *, limit: int = 50) -> list[PackingResult]:
    """The tenant's latest packing and shipping events, newest first."""
    tenant_id = current_tenant(session)
    stmt = (
        select(CodeEvent)
        .where(CodeEvent.tenant_id == tenant_id)
        .order_by(CodeEvent.event_time.desc(), CodeEvent.id.desc())
        .limit(limit)
    )
    return [_result(e) for e in session.scalars(stmt)]


def _member_events(
    session: Session, serial: str, lo: datetime | None, hi: datetime | None, *, as_parent: bool
) -> list[CodeEvent]:
    tenant_id = current_tenant(session)
    member = CodeEvent.id.in_(
        select(CodeEventEpc.event_id).where(
            CodeEventEpc.tenant_id == tenant_id, CodeEventEpc.serial == serial
        )
    )
    stmt = select(CodeEvent).where(
        CodeEvent.tenant_id == tenant_id,
        (member | (CodeEvent.parent_serial == serial)) if as_parent else member,
    )
    if lo is not None:
        stmt = stmt.where(CodeEvent.event_time >= lo)
    if hi is not None:
        stmt = stmt.where(CodeEvent.event_time <= hi)
    return list(session.scalars(stmt))


def _history(
    session: Session,
    serial: str,
    lo: datetime | None,
    hi: datetime | None,
    depth: int,
    out: dict[str, CodeEvent],
) -> None:
    """Events of ``serial`` in [lo, hi], and of each container while ``serial`` was inside it."""
    tenant_id = current_tenant(session)
    for event in _member_events(session, serial, lo, hi, as_parent=depth == 0):
        out.setdefault(event.id, event)
        if event.kind != "aggregate" or event.parent_serial in (None, serial) or depth >= len(PACKING_LEVELS):
            continue
        container = event.parent_serial
        assert container is not None
        unpack = select(CodeEvent.event_time).where(
            CodeEvent.tenant_id == tenant_id,
            CodeEvent.kind.in_(("disaggregate", "open")),
            CodeEvent.parent_serial == container,
            CodeEvent.event_time >= event.event_time,
        )
        end = session.scalar(unpack.order_by(CodeEvent.event_time).limit(1))
        if hi is not None and (end is None or end > hi):
            end = hi
        _history(session, container, event.event_time, end, depth + 1, out)


def event_rows_for(session: Session, serial: str) -> list[tuple[CodeEvent, list[str]]]:
    """The events a code took part in, and its containers' while it was inside, oldest first."""
    tenant_id = current_tenant(session)
    events: dict[str, CodeEvent] = {}
    _history(session, serial, None, None, 0, events)
    ordered = sorted(events.values(), key=lambda e: (aware(e.event_time) or e.event_time, e.id))
    out: list[tuple[CodeEvent, list[str]]] = []
    for e in ordered:
        epcs = list(
            session.scalars(
                select(CodeEventEpc.serial)
                .where(CodeEventEpc.tenant_id == tenant_id, CodeEventEpc.event_id == e.id)
                .order_by(CodeEventEpc.serial)
            )
        )
        out.append((e, epcs))
    return out


__all__ = [
    "MAX_CODES_PER_CALL",
    "aggregate",
    "commission",
    "commission_range",
    "disaggregate",
    "event_rows_for",
    "open_case",
    "receive",
    "recent_events",
    "resolve",
    "ship",
    "whereabouts",
    "whereabouts_of",
]
