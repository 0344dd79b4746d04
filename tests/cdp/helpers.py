"""Helpers for the cdp tests: resolve identity sets and read the resulting partition."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from bcone.cdp._identity import CdpConfig, load_config, rebuild, resolve_identity_sets
from bcone.cdp.identifiers import identity_key, normalise
from bcone.cdp.models import Identifier, Profile
from bcone.core.db import Database

SECRET = "test-secret-key-of-at-least-32-characters"

Ids = Sequence[tuple[str, str]]


def resolve(db: Database, tenant_id: str, *sets: Ids, config: CdpConfig | None = None) -> list[str | None]:
    key = identity_key(SECRET, tenant_id)
    with db.session(tenant_id=tenant_id) as s:
        cfg = config or load_config(s)
        normalised = [[normalise(ns, v, key) for ns, v in ids] for ids in sets]
        return resolve_identity_sets(s, normalised, [f"e{i}" for i in range(len(sets))], cfg)


def partition(db: Database, tenant_id: str) -> dict[str, frozenset[tuple[str, str]]]:
    """profile id -> its identifiers as (namespace, display)."""
    out: dict[str, set[tuple[str, str]]] = {}
    with db.session(tenant_id=tenant_id, write=False) as s:
        for ident in s.scalars(select(Identifier)):
            assert ident.profile_id is not None
            out.setdefault(ident.profile_id, set()).add((ident.namespace, ident.display))
        active = set(s.scalars(select(Profile.id).where(Profile.status == "active")))
    assert set(out) <= active, "an identifier points to a merged profile"
    return {k: frozenset(v) for k, v in out.items()}


def groups(db: Database, tenant_id: str) -> set[frozenset[tuple[str, str]]]:
    return set(partition(db, tenant_id).values())


def quarantined(db: Database, tenant_id: str) -> set[tuple[str, str]]:
    with db.session(tenant_id=tenant_id, write=False) as s:
        return {
            (i.namespace, i.display)
            for i in s.scalars(select(Identifier).where(Identifier.quarantined.is_(True)))
        }


def full_rebuild(db: Database, tenant_id: str, config: CdpConfig | None = None) -> object:
    with db.session(tenant_id=tenant_id) as s:
        return rebuild(s, config or load_config(s))
