"""The identity graph against the real databases: joins, attach-only, quarantine, unlink, audit,
incremental == full rebuild (hypothesis), and concurrent joins."""

from __future__ import annotations

import itertools
import json
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bcone.cdp._identity import CdpConfig, RebuildResult, unlink
from bcone.cdp.models import Identifier, Link, MergeAudit, Profile
from bcone.cdp.service import unlink_link
from bcone.core.db import Database
from bcone.iam import service as iam
from bcone.iam.schemas import TenantOut
from tests.cdp.helpers import full_rebuild, groups, partition, quarantined, resolve

UNION = "wechat_unionid:op1"
OPENID = "wechat_openid:wxapp1"


def test_a_shared_identifier_joins_two_profiles_and_the_oldest_survives(
    db: Database, tenant: TenantOut
) -> None:
    [first] = resolve(db, tenant.id, [(OPENID, "o-1"), ("phone", "+86 138 0013 8000")])
    [second] = resolve(db, tenant.id, [("tmall_ouid", "t-9"), (UNION, "u-1")])
    assert first != second
    [joined] = resolve(db, tenant.id, [(UNION, "u-1"), ("phone", "13800138000")])
    assert joined == min(first, second)  # type: ignore[type-var]
    assert groups(db, tenant.id) == {
        frozenset({(OPENID, "o-1"), ("phone", "138****8000"), ("tmall_ouid", "t-9"), (UNION, "u-1")})
    }
    with db.session(tenant_id=tenant.id, write=False) as s:
        loser = s.get(Profile, max(first, second))  # type: ignore[type-var]
        assert loser is not None
        assert (loser.status, loser.merged_into) == ("merged", joined)
        [audit] = s.scalars(select(MergeAudit).where(MergeAudit.kind == "merge"))
        assert audit.profile_id == joined
        assert json.loads(audit.other_profiles) == [loser.id]
        assert {"namespace": "phone", "value": "138****8000"} in json.loads(audit.identifiers)
        assert audit.event_id == "e0"


def test_raw_phones_are_never_stored(db: Database, tenant: TenantOut, other_tenant: TenantOut) -> None:
    resolve(db, tenant.id, [("phone", "13800138000"), ("email", "Alice@Example.COM")])
    resolve(db, other_tenant.id, [("phone", "13800138000")])
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT tenant_id, namespace, key, display FROM cdp_identifiers").all()
    text = repr(rows)
    assert "13800138000" not in text
    assert "alice@example.com" not in text.lower()
    keys = {(r[0], r[1]): r[2] for r in rows}
    assert keys[(tenant.id, "phone")] != keys[(other_tenant.id, "phone")]  # a per-tenant key
    assert {r[3] for r in rows} == {"138****8000", "a***@example.com"}


def test_attach_only_identifiers_never_bridge_two_people(db: Database, tenant: TenantOut) -> None:
    [alone] = resolve(db, tenant.id, [("device", "d-1")])
    [with_phone] = resolve(db, tenant.id, [("device", "d-1"), ("phone", "13800000001")])
    assert with_phone == alone  # the device's first link attaches it
    [other] = resolve(db, tenant.id, [("device", "d-1"), ("phone", "13800000002")])
    assert other != alone
    assert groups(db, tenant.id) == {
        frozenset({("device", "d-1"), ("phone", "138****0001")}),
        frozenset({("phone", "138****0002")}),
    }


def test_a_shared_shop_phone_is_quarantined_and_does_not_merge(db: Database, tenant: TenantOut) -> None:
    config = CdpConfig(quarantine_threshold=3)
    for n in range(3):
        resolve(db, tenant.id, [(OPENID, f"o-{n}"), ("phone", "13900000000")], config=config)
    assert len(groups(db, tenant.id)) == 1  # three openids on one phone: still one person
    resolve(db, tenant.id, [(OPENID, "o-3"), ("phone", "13900000000")], config=config)
    assert quarantined(db, tenant.id) == {("phone", "139****0000")}
    parts = groups(db, tenant.id)
    assert len(parts) == 4  # the earlier merge is undone, the phone attaches to the first openid
    assert frozenset({(OPENID, "o-0"), ("phone", "139****0000")}) in parts
    with db.session(tenant_id=tenant.id, write=False) as s:
        kinds = [a.kind for a in s.scalars(select(MergeAudit).order_by(MergeAudit.at))]
    assert "quarantine" in kinds
    assert "split" in kinds
    assert full_rebuild_changes(db, tenant.id, config) == (0, 0, 0, 0)


def full_rebuild_changes(
    db: Database, tenant_id: str, config: CdpConfig | None = None
) -> tuple[int, int, int, int]:
    result = full_rebuild(db, tenant_id, config)
    assert isinstance(result, RebuildResult)
    return (result.merges, result.splits, result.new_profiles, result.moved_identifiers)


def test_unlink_splits_the_profile_again_and_is_audited(db: Database, tenant: TenantOut) -> None:
    [a] = resolve(db, tenant.id, [(OPENID, "o-1"), ("phone", "13800000001")])
    [b] = resolve(db, tenant.id, [("jd_pin", "pin-2"), ("email", "b@example.com")])
    [merged] = resolve(db, tenant.id, [("phone", "13800000001"), ("jd_pin", "pin-2")])  # the wrong merge
    assert len(groups(db, tenant.id)) == 1
    with db.session(tenant_id=tenant.id, write=False) as s:
        links = list(s.scalars(select(Link).order_by(Link.seq)))
    assert len(links) == 3
    wrong = links[-1]  # phone <-> jd_pin
    with db.session(tenant_id=tenant.id) as s:
        out = unlink_link(wrong.seq, session=s, actor="test", reason="shop assistant's phone")
    assert out.splits == 1
    assert len(set(out.profiles)) == 2
    assert merged in out.profiles
    assert groups(db, tenant.id) == {
        frozenset({(OPENID, "o-1"), ("phone", "138****0001")}),
        frozenset({("jd_pin", "pin-2"), ("email", "b***@example.com")}),
    }
    # The same pair seen again does not merge them again: the link stays removed.
    resolve(db, tenant.id, [("phone", "13800000001"), ("jd_pin", "pin-2")])
    assert len(groups(db, tenant.id)) == 2
    with db.session(tenant_id=tenant.id, write=False) as s:
        audit = {a.kind: a for a in s.scalars(select(MergeAudit))}
    assert audit["unlink"].reason == "shop assistant's phone"
    assert audit["unlink"].actor == "test"
    assert {"namespace": "jd_pin", "value": "pin-2"} in json.loads(audit["unlink"].identifiers)
    assert full_rebuild_changes(db, tenant.id) == (0, 0, 0, 0)
    assert set(partition(db, tenant.id)) - {a, b}
    assert merged in partition(db, tenant.id)


def test_other_tenants_identifiers_never_join(
    db: Database, tenant: TenantOut, other_tenant: TenantOut
) -> None:
    [mine] = resolve(db, tenant.id, [(UNION, "u-1")])
    [theirs] = resolve(db, other_tenant.id, [(UNION, "u-1")])
    assert mine != theirs
    assert len(partition(db, tenant.id)) == len(partition(db, other_tenant.id)) == 1


NAMESPACES = [OPENID, UNION, "phone", "device", "tmall_ouid"]
VALUES = {
    OPENID: ["o-1", "o-2", "o-3", "o-4"],
    UNION: ["u-1", "u-2", "u-3"],
    "phone": ["13800000001", "13800000002", "13800000003"],
    "device": ["d-1", "d-2", "d-3"],
    "tmall_ouid": ["t-1", "t-2"],
}
identity = st.sampled_from(NAMESPACES).flatmap(lambda ns: st.tuples(st.just(ns), st.sampled_from(VALUES[ns])))
batches = st.lists(
    st.lists(st.lists(identity, min_size=1, max_size=3), min_size=1, max_size=3), min_size=1, max_size=6
)


_examples = itertools.count()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=batches, unlinks=st.lists(st.integers(min_value=0, max_value=50), max_size=2))
def test_incremental_resolution_equals_the_full_rebuild(
    db: Database, history: list[list[list[tuple[str, str]]]], unlinks: list[int]
) -> None:
    with db.session() as s:  # a fresh tenant per example: the examples share the database
        tenant_id = iam.create_tenant(session=s, slug=f"hyp{next(_examples)}", name="Hypothesis").id
    config = CdpConfig(quarantine_threshold=2)
    for batch in history:
        resolve(db, tenant_id, *batch, config=config)
    with db.session(tenant_id=tenant_id, write=False) as s:
        seqs = sorted(s.scalars(select(Link.seq).where(Link.status == "active")))
    for pick in unlinks:
        if seqs:
            seq = seqs.pop(pick % len(seqs))
            with db.session(tenant_id=tenant_id) as s:
                unlink(s, seq, config, actor="test", reason=None)
    before = partition(db, tenant_id)
    q_before = quarantined(db, tenant_id)
    assert full_rebuild_changes(db, tenant_id, config) == (0, 0, 0, 0)
    assert partition(db, tenant_id) == before
    assert quarantined(db, tenant_id) == q_before


def _join_at_once(db: Database, tenant_id: str, sets: list[list[tuple[str, str]]]) -> list[str | None]:
    """Resolve each identity set in its own thread and transaction, all released together."""
    barrier = threading.Barrier(len(sets))
    results: list[str | None] = []
    errors: list[BaseException] = []

    def run(ids: list[tuple[str, str]]) -> None:
        try:
            barrier.wait()
            results.extend(resolve(db, tenant_id, ids))
        except BaseException as exc:  # reported by the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(ids,)) for ids in sets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_two_events_joining_the_same_two_profiles_at_once_end_with_one(
    db: Database, tenant: TenantOut
) -> None:
    for n in range(3):
        [a] = resolve(db, tenant.id, [(UNION, f"u-a{n}")])
        [b] = resolve(db, tenant.id, [(UNION, f"u-b{n}")])
        both = [(UNION, f"u-a{n}"), (UNION, f"u-b{n}")]
        results = _join_at_once(
            db, tenant.id, [[*both, ("device", f"d-{n}-1")], [*both, ("device", f"d-{n}-2")]]
        )
        assert results == [min(a, b), min(a, b)]  # type: ignore[type-var]
    assert len(partition(db, tenant.id)) == 3
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert len(list(s.scalars(select(Profile).where(Profile.status == "merged")))) == 3
    assert full_rebuild_changes(db, tenant.id) == (0, 0, 0, 0)


def test_a_rebuild_from_bare_rows_writes_the_profiles_and_quarantine_of_the_incremental_path(
    db: Database, tenant: TenantOut, other_tenant: TenantOut
) -> None:
    """The rebuild's bulk writes (new profiles, moved identifiers, quarantine flags; COPY and one
    UPDATE … FROM on PostgreSQL): identifiers and links copied without any profile come out as
    the incremental path left them."""
    config = CdpConfig(quarantine_threshold=2)
    sets = [
        [(OPENID, "o-1"), ("phone", "13800000001")],
        [(OPENID, "o-2"), ("phone", "13800000001")],
        [(OPENID, "o-3"), ("phone", "13800000001")],  # the phone is now shared by three openids
        [("jd_pin", "pin-1"), (UNION, "u-1")],
        [(UNION, "u-1"), ("tmall_ouid", "t-1")],
        [("device", "d-1"), (OPENID, "o-4")],
        [("email", "x@example.com")],
    ]
    for ids in sets:
        resolve(db, tenant.id, ids, config=config)
    with db.session(tenant_id=tenant.id, write=False) as s:
        idents = list(s.scalars(select(Identifier).order_by(Identifier.id)))
        links = list(s.scalars(select(Link).order_by(Link.seq)))
        rows = [(i.id, i.namespace, i.key, i.display) for i in idents]
        pairs = [(link.a_id, link.b_id, link.status) for link in links]
    with db.session(tenant_id=other_tenant.id) as s:
        new_id: dict[int, int] = {}
        for old, namespace, key, display in rows:
            copy = Identifier(tenant_id=other_tenant.id, namespace=namespace, key=key, display=display)
            s.add(copy)
            s.flush()
            new_id[old] = copy.id
        for a, b, status in pairs:
            s.add(Link(tenant_id=other_tenant.id, a_id=new_id[a], b_id=new_id[b], status=status))
    result = full_rebuild(db, other_tenant.id, config)
    assert isinstance(result, RebuildResult)
    assert result.new_profiles == len(groups(db, tenant.id)) == len(groups(db, other_tenant.id))
    assert groups(db, other_tenant.id) == groups(db, tenant.id)
    assert quarantined(db, other_tenant.id) == quarantined(db, tenant.id) == {("phone", "138****0001")}
    assert full_rebuild_changes(db, other_tenant.id, config) == (0, 0, 0, 0)
    with db.session(tenant_id=other_tenant.id, write=False) as s:
        profiles = list(s.scalars(select(Profile)))
    assert {p.status for p in profiles} == {"active"}
    assert all(len(p.id) == 36 and p.id[14] == "7" for p in profiles)  # UUIDv7 like new_id()
