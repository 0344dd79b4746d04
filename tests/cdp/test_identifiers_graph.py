"""Identifiers (namespaces, phones, emails, hashes, masks) and the graph rules against a plain
union-find reference written from the rules' wording."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bcone.cdp.errors import InvalidIdentifier, UnknownNamespace
from bcone.cdp.graph import GraphInput, resolve
from bcone.cdp.identifiers import identity_key, normalise, normalise_phone, search_key

KEY = identity_key("a-secret-key-of-at-least-32-characters!", "tenant-1")


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000", "8613800138000", "(138) 0013-8000"],
)
def test_mainland_mobiles_are_normalised(raw: str) -> None:
    assert normalise_phone(raw) == "13800138000"
    ident = normalise("phone", raw, KEY)
    assert ident.display == "138****8000"
    assert ident.key == normalise("phone", "13800138000", KEY).key
    assert "13800138000" not in ident.key


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "+1 415 555 0100", "021-6888-8888", "abc"])
def test_other_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentifier) as err:
        normalise("phone", raw, KEY, field="identities[0]")
    assert err.value.field == "identities[0].value"


def test_emails_are_lower_cased_hashed_and_masked() -> None:
    a = normalise("email", "  Alice@Example.COM ", KEY)
    assert (a.display, a.key) == ("a***@example.com", normalise("email", "alice@example.com", KEY).key)
    other_tenant = identity_key("a-secret-key-of-at-least-32-characters!", "tenant-2")
    assert normalise("email", "alice@example.com", other_tenant).key != a.key
    assert search_key("ALICE@example.com", KEY) == ("email", a.key)
    assert search_key("pin-1", KEY) is None


def test_namespaces_are_validated_and_scoped() -> None:
    assert normalise("wechat_openid:wx1234", "o-1", KEY).namespace == "wechat_openid:wx1234"
    with pytest.raises(UnknownNamespace) as err:
        normalise("weibo", "x", KEY, field="events[2].identities[1]")
    assert err.value.field == "events[2].identities[1].namespace"
    assert "weibo" in err.value.detail
    with pytest.raises(InvalidIdentifier, match="appid"):
        normalise("wechat_openid", "o-1", KEY)
    with pytest.raises(InvalidIdentifier, match="no scope"):
        normalise("phone:cn", "13800138000", KEY)
    with pytest.raises(InvalidIdentifier):
        normalise("device", "has space", KEY)


def _reference(
    ns: list[int], joins: list[bool], links: list[tuple[int, int]], threshold: int
) -> tuple[set[frozenset[int]], set[int]]:
    """The rules of bcone.cdp.graph, one statement at a time, with a dict-based union-find."""
    n = len(ns)
    quarantined: set[int] = set()
    for v in range(n):
        if not joins[ns[v]]:
            continue
        per_ns: dict[int, set[int]] = {}
        for a, b in links:
            if v in (a, b):
                other = b if a == v else a
                if joins[ns[other]]:
                    per_ns.setdefault(ns[other], set()).add(other)
        if any(len(s) > threshold for s in per_ns.values()):
            quarantined.add(v)
    may_join = [joins[ns[v]] and v not in quarantined for v in range(n)]
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    for a, b in links:  # links are in seq order
        if may_join[a] and may_join[b]:
            union(a, b)
    for v in range(n):
        if not may_join[v]:
            first = next(((a, b) for a, b in links if v in (a, b)), None)
            if first is not None:
                union(*first)
    groups: dict[int, set[int]] = {}
    for v in range(n):
        groups.setdefault(find(v), set()).add(v)
    return {frozenset(g) for g in groups.values()}, quarantined


graphs = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 2), min_size=n, max_size=n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=25),
        st.integers(1, 3),
    )
)


@settings(max_examples=300, deadline=None)
@given(graph=graphs)
def test_resolve_matches_the_reference(graph: tuple[list[int], list[tuple[int, int]], int]) -> None:
    ns, raw_links, threshold = graph
    joins = [True, True, False]  # two joining namespaces and one attach-only
    links = list(dict.fromkeys((min(a, b), max(a, b)) for a, b in raw_links if a != b))
    g = GraphInput(
        node_ids=np.arange(len(ns), dtype=np.int64),
        node_ns=np.array(ns, dtype=np.int64),
        node_profile=np.full(len(ns), -1, dtype=np.int64),
        joins_ns=np.array(joins),
        link_seq=np.arange(len(links), dtype=np.int64),
        link_a=np.array([a for a, _ in links], dtype=np.int64),
        link_b=np.array([b for _, b in links], dtype=np.int64),
        threshold=threshold,
    )
    result = resolve(g)
    got: dict[int, set[int]] = {}
    for v, label in enumerate(result.labels.tolist()):
        got.setdefault(label, set()).add(v)
    expected_groups, expected_q = _reference(ns, joins, links, threshold)
    assert {frozenset(s) for s in got.values()} == expected_groups
    assert set(np.nonzero(result.quarantined)[0].tolist()) == expected_q


def test_the_oldest_profile_survives_and_a_split_keeps_it_where_the_oldest_identifier_is() -> None:
    # Nodes 0..3; 0-1 joined, 2-3 joined; node profiles: 0->P1, 1->P0, 2->P0, 3->P2.
    g = GraphInput(
        node_ids=np.arange(4, dtype=np.int64),
        node_ns=np.zeros(4, dtype=np.int64),
        node_profile=np.array([1, 0, 0, 2], dtype=np.int64),
        joins_ns=np.array([True]),
        link_seq=np.array([1, 2], dtype=np.int64),
        link_a=np.array([0, 2], dtype=np.int64),
        link_b=np.array([1, 3], dtype=np.int64),
    )
    r = resolve(g)
    keep = {frozenset(np.nonzero(r.labels == c)[0].tolist()): int(r.keep[c]) for c in range(r.n_components)}
    # P0 was split between both components: the one holding node 1 (older than node 2) keeps it;
    # the other takes its own oldest candidate only if no one else claimed it first: here P0 is
    # its oldest, already kept, so it gets a new profile (-1) and P2 is merged away.
    assert keep == {frozenset({0, 1}): 0, frozenset({2, 3}): -1}
