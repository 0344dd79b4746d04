"""Identity resolution against the database: incremental (per batch of events), unlink, and the
full rebuild. All three load a part of the graph and hand it to :func:`bcone.cdp.graph.resolve`.

Incremental resolution is exact although it loads only part of the graph: it loads every profile
a new link or a changed quarantine can touch (the profiles of the batch's identifiers and of the
neighbours of identifiers whose quarantine changed), whole, with all links among them. Links to
profiles outside that set did not count before and their ends did not change, so they still do
not count. ``tests/cdp/test_identity.py`` checks it against the full rebuild with hypothesis.

Resolutions of one tenant run one at a time: SQLite's write lock does it there, a transaction
advisory lock per tenant on PostgreSQL (``pg_advisory_xact_lock``), taken before anything is read
and released at commit. Two batches that join the same profiles therefore never both merge from
a stale view.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
from sqlalchemy import BigInteger, String, Table, any_, bindparam, func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bcone.cdp.errors import LinkAlreadyRemoved, LinkNotFound
from bcone.cdp.graph import DEFAULT_QUARANTINE_THRESHOLD, GraphInput, GraphResult, resolve
from bcone.cdp.identifiers import NormalisedIdentifier, namespace_base
from bcone.cdp.models import CdpSettings, Identifier, Link, MergeAudit, Profile
from bcone.core.db import utcnow
from bcone.core.ids import new_id
from bcone.core.tenancy import TENANT_PARAM, TenantQuery, current_tenant, run_tenant_query, tenant_query

CHUNK = 5_000
DEFAULT_ATTACH_ONLY = frozenset({"device"})
MAX_AUDIT_IDENTIFIERS = 10
_IDENT: Table = Identifier.__table__  # type: ignore[assignment]
_LINKS: Table = Link.__table__  # type: ignore[assignment]
_PROFILES: Table = Profile.__table__  # type: ignore[assignment]
_AUDIT: Table = MergeAudit.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class CdpConfig:
    attach_only: frozenset[str] = DEFAULT_ATTACH_ONLY
    quarantine_threshold: int = DEFAULT_QUARANTINE_THRESHOLD
    unknown_event_types: str = "reject"

    def joins(self, namespace: str) -> bool:
        return namespace_base(namespace) not in self.attach_only


def load_config(session: Session) -> CdpConfig:
    row = session.scalar(select(CdpSettings))
    if row is None:
        return CdpConfig()
    return CdpConfig(
        attach_only=frozenset(json.loads(row.attach_only)),
        quarantine_threshold=row.quarantine_threshold,
        unknown_event_types=row.unknown_event_types,
    )


def save_config(session: Session, config: CdpConfig) -> CdpConfig:
    row = session.scalar(select(CdpSettings))
    if row is None:
        row = CdpSettings(tenant_id=current_tenant(session))
        session.add(row)
    row.attach_only = json.dumps(sorted(config.attach_only))
    row.quarantine_threshold = config.quarantine_threshold
    row.unknown_event_types = config.unknown_event_types
    session.flush()
    return config


def lock_tenant_graph(session: Session) -> None:
    """Serialise identity resolution within the tenant until the transaction ends (PostgreSQL)."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: units of work that write hold the database's write lock already
    digest = hashlib.blake2b(b"bcone.cdp.graph:" + current_tenant(session).encode(), digest_size=8).digest()
    session.execute(
        text("SELECT pg_advisory_xact_lock(:k)"), {"k": int.from_bytes(digest, "big", signed=True)}
    )


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), CHUNK):
        yield values[i : i + CHUNK]


@dataclass(slots=True)
class _Node:
    id: int
    namespace: str
    display: str
    profile_id: str | None
    quarantined: bool


@dataclass
class _Context:
    """Why this resolution runs, for the audit trail."""

    event_ids: dict[tuple[int, int], str | None] = field(default_factory=dict)
    actor: str | None = None
    reason: str | None = None
    audits: list[dict[str, Any]] = field(default_factory=list)  # written at the end, at once


# Hot-path reads, built once and run as plain rows for the bound tenant (core.tenancy.tenant_query).
# The list of ids is one parameter, not one per id: an expanding ``IN`` list is rendered again
# for every call, which cost more than the queries themselves. SQLite reads the list as a JSON
# array (``json_each``), PostgreSQL as an array (``= ANY``); both statements compile once.
_NODE_COLUMNS = (
    Identifier.id,
    Identifier.namespace,
    Identifier.display,
    Identifier.profile_id,
    Identifier.quarantined,
)
_ARRAY_TYPES: dict[str, ARRAY[Any]] = {"int": ARRAY(BigInteger), "str": ARRAY(String)}


def _in_list(column: Any, kind: str, dialect: str) -> Any:
    """``column`` in the list given as the parameter ``ids``, the way ``dialect`` reads it fast."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", type_=_ARRAY_TYPES[kind]))
    items: Any = select(literal_column("value")).select_from(func.json_each(bindparam("ids", type_=String)))
    return column.in_(items.scalar_subquery())


def _sqlite_tenant(table: Table) -> Any:
    """The tenant filter written ``+tenant_id = ?``: the unary plus keeps SQLite's planner (which
    has no statistics) from reading the whole tenant through ``ix_<table>_tenant_id`` instead of
    looking the listed ids up in their own index, which made every batch cost O(tenant)."""
    return literal_column(f"+{table.name}.tenant_id") == bindparam(TENANT_PARAM)


def _queries(dialect: str) -> dict[str, TenantQuery]:
    members = select(*_NODE_COLUMNS).where(_in_list(Identifier.profile_id, "str", dialect))
    links = select(Link.seq, Link.a_id, Link.b_id, Link.status).where(
        or_(_in_list(Link.a_id, "int", dialect), _in_list(Link.b_id, "int", dialect))
    )
    if dialect == "sqlite":
        # Core statements on the tables, so the tenant filter is the one above, not the ORM's.
        node_cols = [_IDENT.c[c.key] for c in _NODE_COLUMNS]
        members_q = TenantQuery(
            select(*node_cols).where(_in_list(_IDENT.c.profile_id, "str", dialect), _sqlite_tenant(_IDENT))
        )
        links_q = TenantQuery(
            select(_LINKS.c.seq, _LINKS.c.a_id, _LINKS.c.b_id, _LINKS.c.status).where(
                or_(_in_list(_LINKS.c.a_id, "int", dialect), _in_list(_LINKS.c.b_id, "int", dialect)),
                _sqlite_tenant(_LINKS),
            )
        )
    else:
        members_q, links_q = tenant_query(members), tenant_query(links)
    return {
        "nodes": tenant_query(select(*_NODE_COLUMNS).where(_in_list(Identifier.id, "int", dialect))),
        "members": members_q,
        "links": links_q,
        "existing": tenant_query(
            select(Identifier.id, Identifier.key).where(
                Identifier.namespace == bindparam("ns"), _in_list(Identifier.key, "str", dialect)
            )
        ),
    }


_QUERIES = {dialect: _queries(dialect) for dialect in ("sqlite", "postgresql")}


def _run_in(session: Session, name: str, values: Sequence[Any], **params: Any) -> list[Any]:
    dialect = session.get_bind().dialect.name
    ids: Any = list(values) if dialect == "postgresql" else json.dumps(list(values))
    return list(run_tenant_query(session, _QUERIES[dialect][name], {"ids": ids, **params}).all())


def _nodes_query(session: Session, name: str, values: Iterable[Any]) -> dict[int, _Node]:
    out: dict[int, _Node] = {}
    for chunk in _chunks(sorted(set(values))):
        for r in _run_in(session, name, chunk):
            out[r[0]] = _Node(r[0], r[1], r[2], r[3], bool(r[4]))
    return out


def _load_nodes(session: Session, ids: Iterable[int]) -> dict[int, _Node]:
    return _nodes_query(session, "nodes", ids)


def _members(session: Session, profile_ids: Iterable[str]) -> dict[int, _Node]:
    return _nodes_query(session, "members", profile_ids)


def _links_touching(
    session: Session, ids: Iterable[int], *, active_only: bool = True
) -> dict[int, tuple[int, int, str]]:
    """seq -> (a, b, status) of the links with an end among ``ids``."""
    out: dict[int, tuple[int, int, str]] = {}
    for chunk in _chunks(sorted(set(ids))):
        for seq, a, b, status in _run_in(session, "links", chunk):
            if not active_only or status == "active":
                out[seq] = (a, b, status)
    return out


def _existing_identifiers(
    session: Session, idents: Iterable[NormalisedIdentifier]
) -> dict[tuple[str, str], int]:
    by_ns: dict[str, list[str]] = {}
    for i in idents:
        by_ns.setdefault(i.namespace, []).append(i.key)
    out: dict[tuple[str, str], int] = {}
    for ns, keys in by_ns.items():
        for chunk in _chunks(keys):
            for nid, key in _run_in(session, "existing", chunk, ns=ns):
                out[(ns, key)] = nid
    return out


@dataclass
class _Graph:
    """The part of the graph one resolution works on."""

    nodes: dict[int, _Node]
    links: dict[int, tuple[int, int]]  # seq -> (a, b), active only
    fixed_quarantine: dict[int, bool]  # nodes whose quarantine is known (not recomputed here)


def _run(graph: _Graph, config: CdpConfig) -> tuple[list[int], GraphResult, list[str], list[int]]:
    node_ids = sorted(graph.nodes)
    namespaces = sorted({n.namespace for n in graph.nodes.values()})
    ns_code = {ns: i for i, ns in enumerate(namespaces)}
    profiles = sorted({n.profile_id for n in graph.nodes.values() if n.profile_id is not None})
    prof_code = {p: i for i, p in enumerate(profiles)}
    seqs = sorted(graph.links)
    g = GraphInput(
        node_ids=np.array(node_ids, dtype=np.int64),
        node_ns=np.array([ns_code[graph.nodes[i].namespace] for i in node_ids], dtype=np.int64),
        node_profile=np.array(
            [prof_code[p] if (p := graph.nodes[i].profile_id) is not None else -1 for i in node_ids],
            dtype=np.int64,
        ),
        joins_ns=np.array([config.joins(ns) for ns in namespaces], dtype=np.bool_),
        link_seq=np.array(seqs, dtype=np.int64),
        link_a=np.array([graph.links[s][0] for s in seqs], dtype=np.int64),
        link_b=np.array([graph.links[s][1] for s in seqs], dtype=np.int64),
        threshold=config.quarantine_threshold,
        fixed_quarantine=np.array([i in graph.fixed_quarantine for i in node_ids], dtype=np.bool_),
        fixed_values=np.array([graph.fixed_quarantine.get(i, False) for i in node_ids], dtype=np.bool_),
    )
    return node_ids, resolve(g), profiles, seqs


@dataclass
class Outcome:
    """What a resolution changed."""

    profile_of: dict[int, str]  # identifier id -> its profile after the resolution
    merges: int = 0
    splits: int = 0
    new_profiles: int = 0
    moved_identifiers: int = 0
    quarantined: set[int] = field(default_factory=set)  # identifier ids quarantined afterwards
    real_id: dict[int, int] = field(default_factory=dict)  # provisional id -> stored id


def _apply(
    session: Session,
    graph: _Graph,
    config: CdpConfig,
    ctx: _Context,
    *,
    new_nodes: dict[int, NormalisedIdentifier],
    new_links: dict[int, tuple[int, int]],
) -> Outcome:
    """Resolve ``graph`` and write the differences: profiles, identifiers, links, audit.

    ``new_nodes`` and ``new_links`` carry provisional ids (greater than every stored one, in
    insertion order) for identifiers and links not written yet; they are inserted here, in that
    order, so the ids the database gives keep the same order.
    """
    node_ids, result, profiles, seqs = _run(graph, config)
    index_of = {nid: i for i, nid in enumerate(node_ids)}
    now = utcnow()
    comp_profile: list[str] = []
    created: list[str] = []
    for c in range(result.n_components):
        code = int(result.keep[c])
        if code >= 0:
            comp_profile.append(profiles[code])
        else:
            pid = new_id()
            created.append(pid)
            comp_profile.append(pid)
    if created:
        session.connection().execute(
            _PROFILES.insert(),
            [
                {
                    "id": p,
                    "tenant_id": current_tenant(session),
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                }
                for p in created
            ],
        )
    outcome = Outcome(profile_of={}, new_profiles=len(created))
    labels = result.labels.tolist()
    quarantined = result.quarantined.tolist()
    moved: list[dict[str, Any]] = []
    flagged: list[dict[str, Any]] = []
    old_parts: dict[str, set[int]] = {}
    comp_old: dict[int, set[str]] = {}
    for idx, nid in enumerate(node_ids):
        node = graph.nodes[nid]
        target = comp_profile[labels[idx]]
        outcome.profile_of[nid] = target
        if node.profile_id is not None:
            old_parts.setdefault(node.profile_id, set()).add(labels[idx])
            comp_old.setdefault(labels[idx], set()).add(node.profile_id)
        if nid in new_nodes:
            continue
        if node.profile_id != target:
            moved.append({"b_id": nid, "b_profile": target})
        if node.quarantined != quarantined[idx]:
            flagged.append({"b_id": nid, "b_q": quarantined[idx]})
            _audit(
                session,
                "quarantine" if quarantined[idx] else "release",
                target,
                identifiers=[_describe(node)],
                ctx=ctx,
                at=now,
                reason=ctx.reason
                or f"linked with more than {config.quarantine_threshold} identifiers of one namespace",
            )
    outcome.moved_identifiers = len(moved)
    if moved:
        session.connection().execute(
            _IDENT.update().where(_IDENT.c.id == bindparam("b_id")).values(profile_id=bindparam("b_profile")),
            moved,
        )
    if flagged:
        session.connection().execute(
            _IDENT.update().where(_IDENT.c.id == bindparam("b_id")).values(quarantined=bindparam("b_q")),
            flagged,
        )
    # Insert new identifiers, then new links, with the ids the database gives.
    real_id: dict[int, int] = {}
    if new_nodes:
        order = sorted(new_nodes)
        rows = [
            {
                "tenant_id": current_tenant(session),
                "namespace": new_nodes[t].namespace,
                "key": new_nodes[t].key,
                "display": new_nodes[t].display,
                "profile_id": outcome.profile_of[t],
                "quarantined": quarantined[index_of[t]],
                "created_at": now,
            }
            for t in order
        ]
        conn = session.connection()
        if conn.dialect.name == "sqlite":
            # SQLite writes one transaction at a time (the resolution holds its write lock), so
            # the next ids are known: one executemany, not one INSERT ... RETURNING per row.
            first = int(conn.execute(select(func.coalesce(func.max(_IDENT.c.id), 0))).scalar_one()) + 1
            got: list[int] = list(range(first, first + len(rows)))
            for row, nid in zip(rows, got, strict=True):
                row["id"] = nid
            conn.execute(_IDENT.insert(), rows)
        else:
            got = list(
                conn.execute(_IDENT.insert().returning(_IDENT.c.id, sort_by_parameter_order=True), rows)
                .scalars()
                .all()
            )
        real_id = dict(zip(order, got, strict=True))
    if new_links:
        session.connection().execute(
            _LINKS.insert(),
            [
                {
                    "tenant_id": current_tenant(session),
                    "a_id": real_id.get(a, a),
                    "b_id": real_id.get(b, b),
                    "status": "active",
                    "event_id": ctx.event_ids.get((a, b)),
                    "created_at": now,
                }
                for s in sorted(new_links)
                for a, b in (new_links[s],)
            ],
        )
    # Profiles merged away, merges and splits for the audit trail.
    kept = set(comp_profile)
    absorbed = [p for p in old_parts if p not in kept]
    if absorbed:
        session.connection().execute(
            _PROFILES.update()
            .where(_PROFILES.c.id == bindparam("b_id"))
            .values(status="merged", merged_into=bindparam("b_into"), updated_at=now),
            [{"b_id": p, "b_into": comp_profile[min(old_parts[p])]} for p in absorbed],
        )
    counted_pairs = _counted_cross_pairs(graph, node_ids, result, seqs)
    for c, olds in comp_old.items():
        survivor = comp_profile[c]
        others = sorted(olds - {survivor})
        if others:
            outcome.merges += len(others)
            causes = [pair for pair in counted_pairs if labels[index_of[pair[0]]] == c][
                :MAX_AUDIT_IDENTIFIERS
            ]
            idents = [_describe(graph.nodes[x]) for pair in causes for x in pair if x in graph.nodes]
            event_id = next((e for pair in causes if (e := ctx.event_ids.get(pair))), None)
            _audit(
                session,
                "merge",
                survivor,
                others=others,
                identifiers=idents,
                ctx=ctx,
                at=now,
                event_id=event_id,
            )
    for p, comps in old_parts.items():
        if len(comps) > 1:
            outcome.splits += 1
            parts = sorted({comp_profile[c] for c in comps} - {p})
            _audit(session, "split", p, others=parts, identifiers=[], ctx=ctx, at=now)
    if ctx.audits:
        session.connection().execute(_AUDIT.insert(), ctx.audits)
        ctx.audits.clear()
    # Bring new identifiers' ids to the real ones for the caller.
    outcome.profile_of = {real_id.get(k, k): v for k, v in outcome.profile_of.items()}
    outcome.quarantined = {real_id.get(nid, nid) for idx, nid in enumerate(node_ids) if quarantined[idx]}
    outcome.real_id = real_id
    return outcome


def _counted_cross_pairs(
    graph: _Graph, node_ids: list[int], result: GraphResult, seqs: list[int]
) -> list[tuple[int, int]]:
    """Counted links whose ends were in two different profiles before: the cause of a merge."""
    out: list[tuple[int, int]] = []
    counted = result.counted.tolist()
    for i, s in enumerate(seqs):
        if not counted[i]:
            continue
        a, b = graph.links[s]
        pa, pb = graph.nodes[a].profile_id, graph.nodes[b].profile_id
        if pa is not None and pb is not None and pa != pb:
            out.append((a, b))
    return out


def _describe(node: _Node) -> dict[str, str]:
    return {"namespace": node.namespace, "value": node.display}


def _audit(
    session: Session,
    kind: str,
    profile_id: str,
    *,
    others: list[str] | None = None,
    identifiers: list[dict[str, str]],
    ctx: _Context,
    at: datetime,
    event_id: str | None = None,
    reason: str | None = None,
) -> None:
    ctx.audits.append(
        {
            "id": new_id(),
            "tenant_id": current_tenant(session),
            "at": at,
            "kind": kind,
            "profile_id": profile_id,
            "other_profiles": json.dumps(others or []),
            "identifiers": json.dumps(identifiers, ensure_ascii=False),
            "event_id": event_id,
            "actor": ctx.actor,
            "reason": reason or ctx.reason,
        }
    )


# Provisional ids of identifiers and links not written yet: above every stored id, in order.
PROVISIONAL = 1 << 62


def _resolve_focus(
    session: Session,
    config: CdpConfig,
    ctx: _Context,
    *,
    focus: set[int],
    new_nodes: dict[int, NormalisedIdentifier],
    new_links: dict[int, tuple[int, int]],
    touching: dict[int, tuple[int, int, str]],
    removed: bool = False,
) -> Outcome:
    """Resolve the profiles around ``focus`` (stored identifiers whose links changed) and the new
    identifiers and links; ``touching`` are the stored links with an end in ``focus``.

    ``removed``: a link of the focus was removed. An attaching identifier then has a new oldest
    link, which may lead to another profile, so the profiles of all the focus's neighbours are
    resolved too. (Adding links never changes an identifier's oldest link.)"""
    batch_nodes = _load_nodes(session, focus)
    for tid, ni in new_nodes.items():
        batch_nodes[tid] = _Node(tid, ni.namespace, ni.display, None, False)
    active = {s: (a, b) for s, (a, b, status) in touching.items() if status == "active"}
    neighbour_ids = {x for a, b in active.values() for x in (a, b)} - set(batch_nodes)
    neighbours = _load_nodes(session, neighbour_ids)
    # 1. The quarantine of the focus, from its complete neighbourhood.
    star = _Graph(
        nodes={**neighbours, **batch_nodes},
        links={**active, **new_links},
        fixed_quarantine={n.id: n.quarantined for n in neighbours.values()},
    )
    star_ids, star_result, _, _ = _run(star, config)
    star_q = dict(zip(star_ids, star_result.quarantined.tolist(), strict=True))
    changed = {nid for nid, node in batch_nodes.items() if star_q[nid] != node.quarantined}
    # 2. Every profile a changed link or quarantine can touch, whole, with the links among them.
    affected = {n.profile_id for n in batch_nodes.values() if n.profile_id is not None}
    pivots = set(batch_nodes) if removed else changed
    linked_to_changed = {x for a, b in active.values() if a in pivots or b in pivots for x in (a, b)} - set(
        batch_nodes
    )
    affected |= {p for x in linked_to_changed if (p := neighbours[x].profile_id) is not None}
    nodes = _members(session, affected)
    nodes.update({x: neighbours[x] for x in linked_to_changed})
    nodes.update(batch_nodes)
    stored_ids = [n for n in nodes if n < PROVISIONAL]
    links = {
        s: (a, b)
        for s, (a, b, status) in _links_touching(session, stored_ids).items()
        if status == "active" and a in nodes and b in nodes
    }
    links.update(new_links)
    fixed = {nid: star_q.get(nid, node.quarantined) for nid, node in nodes.items()}
    return _apply(session, _Graph(nodes, links, fixed), config, ctx, new_nodes=new_nodes, new_links=new_links)


def resolve_identity_sets(
    session: Session,
    sets: Sequence[Sequence[NormalisedIdentifier]],
    event_ids: Sequence[str | None],
    config: CdpConfig,
    *,
    actor: str | None = None,
) -> list[str | None]:
    """The profile of each identity set (None for an empty one), joining and creating profiles."""
    lock_tenant_graph(session)
    distinct: dict[tuple[str, str], NormalisedIdentifier] = {}
    for ids in sets:
        for ni in ids:
            distinct.setdefault((ni.namespace, ni.key), ni)
    if not distinct:
        return [None] * len(sets)
    ident_id = _existing_identifiers(session, distinct.values())
    focus = set(ident_id.values())
    new_nodes: dict[int, NormalisedIdentifier] = {}
    for k, ni in distinct.items():
        if k not in ident_id:
            tid = PROVISIONAL + len(new_nodes)
            new_nodes[tid] = ni
            ident_id[k] = tid
    touching = _links_touching(session, focus, active_only=False)
    known_pairs = {(a, b) for a, b, _ in touching.values()}
    ctx = _Context(actor=actor)
    new_links: dict[int, tuple[int, int]] = {}
    set_nodes: list[list[int]] = []
    changing: set[int] = set()  # stored identifiers of the sets that add an identifier or a link
    for ids, event_id in zip(sets, event_ids, strict=True):
        nids = list(dict.fromkeys(ident_id[(ni.namespace, ni.key)] for ni in ids))
        set_nodes.append(nids)
        adds = any(n >= PROVISIONAL for n in nids)
        ordered = sorted(nids)
        for i, x in enumerate(ordered):
            for y in ordered[i + 1 :]:
                if (x, y) not in known_pairs:
                    known_pairs.add((x, y))
                    new_links[PROVISIONAL + len(new_links)] = (x, y)
                    ctx.event_ids[(x, y)] = event_id
                    adds = True
        if adds:
            changing.update(n for n in nids if n < PROVISIONAL)
    # A set of known identifiers already linked pairwise changes nothing: the stored profiles
    # are the resolution of the stored graph, so only the sets that add something are resolved
    # (with every profile they can touch, whole); the others keep what is stored, unless that
    # resolution moved them (a merge), which it reports.
    rest = _load_nodes(session, focus - changing)
    changing.update(nid for nid, node in rest.items() if node.profile_id is None)
    if new_nodes or new_links or changing:
        outcome = _resolve_focus(
            session,
            config,
            ctx,
            focus=changing,
            new_nodes=new_nodes,
            new_links=new_links,
            touching={s: t for s, t in touching.items() if t[0] in changing or t[1] in changing},
        )
    else:
        outcome = Outcome(profile_of={})
    for nid, node in rest.items():
        if nid not in outcome.profile_of and node.profile_id is not None:
            outcome.profile_of[nid] = node.profile_id
            if node.quarantined:
                outcome.quarantined.add(nid)
    namespace_of = {nid: ns for (ns, _key), nid in ident_id.items()}
    return [_event_profile(nids, namespace_of, outcome, config) for nids in set_nodes]


def _event_profile(
    nids: list[int], namespace_of: dict[int, str], outcome: Outcome, config: CdpConfig
) -> str | None:
    """An event belongs to the profile of its first identifier that may join, else of its first one."""
    if not nids:
        return None
    real = [outcome.real_id.get(n, n) for n in nids]
    for nid, stored in zip(nids, real, strict=True):
        if config.joins(namespace_of[nid]) and stored not in outcome.quarantined:
            return outcome.profile_of[stored]
    return outcome.profile_of[real[0]]


def unlink(
    session: Session, seq: int, config: CdpConfig, *, actor: str | None, reason: str | None
) -> Outcome:
    """Remove a link (a wrong merge): the profile splits again where nothing else holds it together."""
    lock_tenant_graph(session)
    link = session.get(Link, seq)
    if link is None or link.tenant_id != current_tenant(session):
        raise LinkNotFound(f"no identity link {seq}", field="link")
    if link.status != "active":
        raise LinkAlreadyRemoved(f"identity link {seq} was already removed", field="link")
    nodes = _load_nodes(session, [link.a_id, link.b_id])
    link.status = "removed"
    session.flush()
    ctx = _Context(actor=actor, reason=reason or "link removed")
    profile = nodes[link.a_id].profile_id or ""
    _audit(
        session,
        "unlink",
        profile,
        identifiers=[_describe(nodes[link.a_id]), _describe(nodes[link.b_id])],
        ctx=ctx,
        at=utcnow(),
        event_id=link.event_id,
    )
    focus = {link.a_id, link.b_id}
    touching = _links_touching(session, focus, active_only=False)
    return _resolve_focus(
        session, config, ctx, focus=focus, new_nodes={}, new_links={}, touching=touching, removed=True
    )


@dataclass(frozen=True)
class RebuildResult:
    identifiers: int
    links: int
    profiles: int
    merges: int
    splits: int
    new_profiles: int
    moved_identifiers: int
    seconds: float


_ACTIVE_PROFILES_SQL = (
    "SELECT id FROM cdp_profiles WHERE tenant_id = {mark} AND status = 'active' ORDER BY id"
)
_NODES_SQL = (
    "SELECT id, namespace, profile_id, quarantined FROM cdp_identifiers WHERE tenant_id = {mark} ORDER BY id"
)


def _fetch(session: Session, sql: str, tenant_id: str) -> list[tuple[Any, ...]]:
    """Rows straight from the driver: a rebuild reads millions, SQLAlchemy's per-row work would
    cost more than the database."""
    mark = "%s" if session.get_bind().dialect.name == "postgresql" else "?"
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        sql = sql.replace("{mark}", mark)
        cursor.execute(sql, (tenant_id,) * sql.count(mark))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _new_ids(n: int) -> list[str]:
    """``n`` UUIDv7 strings like :func:`bcone.core.ids.new_id` (this millisecond, random bits),
    built at once and sorted: a first rebuild creates hundreds of thousands of profiles, and
    giving them in the order of their components (by smallest identifier) makes the writes of
    the profile ids into the indexes nearly sequential instead of random."""
    if n == 0:
        return []
    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    ms = time.time_ns() // 1_000_000
    raw[:, :6] = np.frombuffer((ms & ((1 << 48) - 1)).to_bytes(6, "big"), dtype=np.uint8)
    raw[:, 6] = 0x70 | (raw[:, 6] & 0x0F)  # version 7
    raw[:, 8] = 0x80 | (raw[:, 8] & 0x3F)  # variant 10
    text = raw.tobytes().hex()
    return sorted(
        f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
        for h in (text[i : i + 32] for i in range(0, 32 * n, 32))
    )


def _bound(session: Session, column: Any, value: Any) -> Any:
    """``value`` as the driver takes it for ``column`` (SQLAlchemy's bind processing, once)."""
    dialect = session.get_bind().dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def _dbapi(session: Session) -> Any:
    return session.connection().connection.dbapi_connection


def _insert_profiles(session: Session, ids: list[str], tenant_id: str, now: datetime) -> None:
    """New active profiles straight through the driver (COPY on PostgreSQL)."""
    if not ids:
        return
    at = _bound(session, _PROFILES.c.created_at, now)
    columns = "(id, tenant_id, status, created_at, updated_at)"
    cursor = _dbapi(session).cursor()
    try:
        if session.get_bind().dialect.name == "postgresql":
            with cursor.copy(f"COPY cdp_profiles {columns} FROM STDIN") as copy:
                for pid in ids:
                    copy.write_row((pid, tenant_id, "active", at, at))
        else:
            cursor.executemany(
                f"INSERT INTO cdp_profiles {columns} VALUES (?, ?, 'active', ?, ?)",
                [(pid, tenant_id, at, at) for pid in ids],
            )
    finally:
        cursor.close()


def _set_identifiers(session: Session, column: str, pairs: list[tuple[int, Any]]) -> None:
    """``UPDATE cdp_identifiers SET <column> = value WHERE id = id`` for every (id, value):
    on PostgreSQL one ``UPDATE … FROM`` a temporary table filled by COPY, on SQLite one
    ``executemany`` through the driver (the primary key finds each row)."""
    if not pairs:
        return
    if column not in ("profile_id", "quarantined"):
        raise ValueError(column)
    cursor = _dbapi(session).cursor()
    try:
        if session.get_bind().dialect.name == "postgresql":
            kind = "varchar(36)" if column == "profile_id" else "boolean"
            cursor.execute(f"CREATE TEMPORARY TABLE cdp_rebuild_set (id bigint, v {kind}) ON COMMIT DROP")
            with cursor.copy("COPY cdp_rebuild_set (id, v) FROM STDIN") as copy:
                for row in pairs:
                    copy.write_row(row)
            cursor.execute(
                f"UPDATE cdp_identifiers AS i SET {column} = s.v FROM cdp_rebuild_set AS s WHERE i.id = s.id"
            )
            cursor.execute("DROP TABLE cdp_rebuild_set")
        else:
            cursor.executemany(
                f"UPDATE cdp_identifiers SET {column} = ? WHERE id = ?", [(v, i) for i, v in pairs]
            )
    finally:
        cursor.close()


@contextmanager
def _bulk(session: Session) -> Iterator[None]:
    """For the length of a rebuild: no cyclic garbage collection (millions of row tuples alive
    made every collection walk them all, about a tenth of the time) and, on SQLite, a page cache
    of up to 256 MB instead of 2 MB for the indexes the writes go through (restored afterwards:
    the connection goes back to the pool)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    cursor = _dbapi(session).cursor() if sqlite else None
    previous = -2000  # SQLite's default
    if cursor is not None:
        previous = int(cursor.execute("PRAGMA cache_size").fetchone()[0])
        cursor.execute("PRAGMA cache_size = -262144")
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        if cursor is not None:
            cursor.execute(f"PRAGMA cache_size = {previous}")
            cursor.close()


def rebuild(session: Session, config: CdpConfig, *, actor: str | None = None) -> RebuildResult:
    """Recompute every profile of the tenant from all its links and write the differences.

    Vectorised end to end (numpy arrays in, :func:`resolve`, differences out), so it is the same
    rule as the incremental path at the cost of one read of the tenant's identifiers and links.
    """
    lock_tenant_graph(session)
    session.flush()
    with _bulk(session):
        return _rebuild(session, config, actor=actor)


def _rebuild(session: Session, config: CdpConfig, *, actor: str | None) -> RebuildResult:
    started = time.perf_counter()
    tenant_id = current_tenant(session)
    # Profiles as dense codes in id order (the order resolve() needs).
    prof_list = sorted(r[0] for r in _fetch(session, _ACTIVE_PROFILES_SQL, tenant_id))
    prof_names = np.array(prof_list, dtype=object)
    rows = _fetch(session, _NODES_SQL, tenant_id)
    link_rows = _fetch(
        session,
        "SELECT seq, a_id, b_id FROM cdp_links WHERE tenant_id = {mark} AND status = 'active' ORDER BY seq",
        tenant_id,
    )
    n = len(rows)
    if n == 0:
        return RebuildResult(0, 0, 0, 0, 0, 0, 0, round(time.perf_counter() - started, 3))
    ids, namespaces, profile_ids, stored_q = zip(*rows, strict=True)
    # Text columns to dense codes in Arrow's compute kernels, not a dict look-up per row.
    ns_encoded = pa.array(namespaces, pa.string()).dictionary_encode()
    ns_found = [str(x) for x in ns_encoded.dictionary.to_pylist()]
    ns_names = sorted(ns_found)
    ns_rank = np.array([ns_names.index(x) for x in ns_found], dtype=np.int64)
    ns_codes = ns_rank[ns_encoded.indices.to_numpy(zero_copy_only=False)]
    node_profile = (
        pc.index_in(pa.array(profile_ids, pa.string()), value_set=pa.array(prof_list, pa.string()))
        .fill_null(-1)
        .to_numpy(zero_copy_only=False)
        .astype(np.int64)
    )
    has_profile = node_profile >= 0
    links = np.array(link_rows, dtype=np.int64).reshape(-1, 3)
    g = GraphInput(
        node_ids=np.array(ids, dtype=np.int64),
        node_ns=ns_codes,
        node_profile=node_profile,
        joins_ns=np.array([config.joins(str(name)) for name in ns_names], dtype=np.bool_),
        link_seq=links[:, 0].copy(),
        link_a=links[:, 1].copy(),
        link_b=links[:, 2].copy(),
        threshold=config.quarantine_threshold,
    )
    result = resolve(g)
    now = utcnow()
    ctx = _Context(actor=actor, reason="full rebuild")
    # Each component's profile: the one it keeps, or a new one (codes after the existing ones).
    comp_code = result.keep.copy()
    new_comps = np.nonzero(comp_code < 0)[0]
    comp_code[new_comps] = len(prof_names) + np.arange(len(new_comps))
    created = _new_ids(len(new_comps))
    names = np.concatenate([prof_names.astype(object), np.array(created, dtype=object)])
    node_new = comp_code[result.labels]
    moved = np.nonzero(node_new != node_profile)[0]
    stored = np.array(stored_q, dtype=np.bool_)
    flagged = np.nonzero(stored != result.quarantined)[0]
    conn = session.connection()
    _insert_profiles(session, created, tenant_id, now)
    moved_ids = g.node_ids[moved].tolist()
    _set_identifiers(
        session, "profile_id", list(zip(moved_ids, names[node_new[moved]].tolist(), strict=True))
    )
    _set_identifiers(
        session,
        "quarantined",
        list(zip(g.node_ids[flagged].tolist(), result.quarantined[flagged].tolist(), strict=True)),
    )
    # Profiles no component keeps were merged into the component of their oldest identifier.
    kept = np.zeros(len(prof_names), dtype=np.bool_)
    kept[result.keep[result.keep >= 0]] = True
    members = np.nonzero(has_profile)[0]
    first_member: dict[int, int] = {}
    parts: dict[int, set[int]] = {}
    for i in members[np.isin(node_profile[members], np.nonzero(~kept)[0]) | np.isin(members, moved)]:
        code = int(node_profile[i])
        first_member.setdefault(code, int(i))
        parts.setdefault(code, set()).add(int(result.labels[i]))
    merges = splits = 0
    absorbed = [code for code in first_member if not kept[code]]
    if absorbed:
        conn.execute(
            _PROFILES.update()
            .where(_PROFILES.c.id == bindparam("b_id"))
            .values(status="merged", merged_into=bindparam("b_into"), updated_at=now),
            [{"b_id": prof_names[c], "b_into": names[node_new[first_member[c]]]} for c in absorbed],
        )
        for c in absorbed:
            merges += 1
            _audit(
                session,
                "merge",
                str(names[node_new[first_member[c]]]),
                others=[str(prof_names[c])],
                identifiers=[],
                ctx=ctx,
                at=now,
            )
    for code, comps in parts.items():
        if kept[code] and len({int(comp_code[c]) for c in comps} - {code}) > 0:
            splits += 1
            others = sorted({str(names[comp_code[c]]) for c in comps} - {str(prof_names[code])})
            _audit(session, "split", str(prof_names[code]), others=others, identifiers=[], ctx=ctx, at=now)
    if ctx.audits:
        conn.execute(_AUDIT.insert(), ctx.audits)
    return RebuildResult(
        identifiers=n,
        links=len(links),
        profiles=result.n_components,
        merges=merges,
        splits=splits,
        new_profiles=len(created),
        moved_identifiers=len(moved),
        seconds=round(time.perf_counter() - started, 3),
    )
