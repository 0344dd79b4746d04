"""The identity graph's rules as one pure, vectorised function: who is the same consumer.

Nodes are identifiers, edges are *links* (two identifiers seen together in one event), each
with a ``seq`` giving its age. The same function resolves a few profiles during ingestion and
every profile of a tenant in a full rebuild, so the two paths cannot disagree:

1. **Quarantine.** An identifier of a joining namespace that is linked with more than
   ``threshold`` distinct identifiers of one joining namespace (a shop's shared phone seen
   with six unionids: six people) is quarantined. It is derived from the links alone.
2. **Which links count.** A link joins when both ends may join (their namespace joins and they
   are not quarantined). An identifier that may not join (an attach-only namespace such as
   ``device``, or a quarantined one) *attaches*: only its oldest link counts, so it belongs to
   the first consumer it was seen with and never bridges two.
3. **Profiles** are the connected components of the counted links
   (``scipy.sparse.csgraph.connected_components``).
4. **Which profile id survives.** Each component takes the oldest (smallest) profile id its
   identifiers already had; when several components claim the same id (a profile split), the
   component holding the oldest identifier keeps it and the others get new profiles. Profiles
   no component keeps were merged away.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DEFAULT_QUARANTINE_THRESHOLD = 5


@dataclass(frozen=True)
class GraphInput:
    """Nodes sorted by id, with their namespace code and current profile code (-1: none)."""

    node_ids: IntArray
    node_ns: IntArray  # index into joins_ns
    node_profile: IntArray  # index into the caller's sorted profile ids, -1 for none
    joins_ns: BoolArray  # per namespace code: may this namespace join two profiles?
    link_seq: IntArray
    link_a: IntArray  # node ids
    link_b: IntArray
    threshold: int = DEFAULT_QUARANTINE_THRESHOLD
    # Nodes whose quarantine is already known (their links were not all loaded), and its value.
    fixed_quarantine: BoolArray | None = None
    fixed_values: BoolArray | None = None


@dataclass(frozen=True)
class GraphResult:
    labels: IntArray  # component per node
    quarantined: BoolArray  # per node
    counted: BoolArray  # per link: does it join?
    keep: IntArray  # per component: the profile code it keeps, -1 for a new profile
    n_components: int


def _empty_int() -> IntArray:
    return np.zeros(0, dtype=np.int64)


def quarantine(g: GraphInput, a: IntArray, b: IntArray) -> BoolArray:
    """Nodes of joining namespaces linked with more than ``threshold`` joining identifiers of one namespace."""
    n = len(g.node_ids)
    joins = g.joins_ns[g.node_ns]
    # Each link seen from both ends: (node, namespace of the other end), joining neighbours only.
    owner = np.concatenate([a, b])
    other = np.concatenate([b, a])
    keep = joins[other] & joins[owner]
    if not keep.any():
        return np.zeros(n, dtype=np.bool_)
    n_ns = len(g.joins_ns)
    pair = owner[keep] * n_ns + g.node_ns[other[keep]]
    values, counts = np.unique(pair, return_counts=True)
    flagged = np.zeros(n, dtype=np.bool_)
    flagged[values[counts > g.threshold] // n_ns] = True
    return flagged


def resolve(g: GraphInput) -> GraphResult:
    """Apply the rules of the module docstring to ``g``."""
    n = len(g.node_ids)
    if n == 0:
        return GraphResult(_empty_int(), np.zeros(0, np.bool_), np.zeros(0, np.bool_), _empty_int(), 0)
    a = np.searchsorted(g.node_ids, g.link_a).astype(np.int64)
    b = np.searchsorted(g.node_ids, g.link_b).astype(np.int64)
    quarantined = quarantine(g, a, b)
    if g.fixed_quarantine is not None and g.fixed_values is not None:
        quarantined = np.where(g.fixed_quarantine, g.fixed_values, quarantined)
    may_join = g.joins_ns[g.node_ns] & ~quarantined
    counted = may_join[a] & may_join[b]
    # An attaching node counts its oldest link only.
    ends = np.concatenate([a, b])
    seqs = np.concatenate([g.link_seq, g.link_seq])
    link_idx = np.concatenate([np.arange(len(a)), np.arange(len(a))])
    attaching = ~may_join[ends]
    if attaching.any():
        ends_a, seqs_a, idx_a = ends[attaching], seqs[attaching], link_idx[attaching]
        order = np.lexsort((seqs_a, ends_a))
        _, first = np.unique(ends_a[order], return_index=True)
        counted[idx_a[order][first]] = True
    ca, cb = a[counted], b[counted]
    matrix = coo_matrix((np.ones(len(ca), dtype=np.int8), (ca, cb)), shape=(n, n))
    n_components, labels_raw = connected_components(matrix, directed=False)
    labels = labels_raw.astype(np.int64)
    keep = _surviving_profiles(labels, g.node_profile, n_components)
    return GraphResult(labels, quarantined, counted, keep, int(n_components))


def _surviving_profiles(labels: IntArray, node_profile: IntArray, n_components: int) -> IntArray:
    big = np.iinfo(np.int64).max
    has = node_profile >= 0
    cand = np.full(n_components, big, dtype=np.int64)
    np.minimum.at(cand, labels[has], node_profile[has])
    # The component's oldest identifier (node ids grow with age): breaks ties between the parts
    # of a split profile.
    first_node = np.full(n_components, big, dtype=np.int64)
    np.minimum.at(first_node, labels, np.arange(len(labels), dtype=np.int64))
    keep = np.full(n_components, -1, dtype=np.int64)
    claimed = cand != big
    comps = np.nonzero(claimed)[0]
    if len(comps):
        order = np.lexsort((first_node[comps], cand[comps]))
        comps = comps[order]
        winners = np.ones(len(comps), dtype=np.bool_)
        winners[1:] = cand[comps][1:] != cand[comps][:-1]
        keep[comps[winners]] = cand[comps[winners]]
    return keep
