"""Identity graph: full rebuild and incremental merges.

1. ``graph``: :func:`bcone.cdp.graph.resolve` (quarantine, counted links, scipy connected
   components, surviving profile ids) on N identifiers and M random links held in numpy arrays:
   the computing part of a full rebuild, without reading the rows from the database.
2. ``db``: on a fresh SQLite file, ``--db-sets`` identity sets are resolved one per transaction
   (the incremental path: each set holds one or two identifiers of one of ``sets / 3`` consumers,
   so sets create profiles, attach to them and merge two of them) and each call timed for
   p50/p99 (a full rebuild afterwards must change nothing);
3. ``db rebuild``: ``--db-identifiers`` / ``--db-links`` rows inserted straight into a SQLite
   file, then the full rebuild from the database twice: the first creates every profile, the
   second reads everything, resolves and finds nothing to change.

Prints its figures, then one JSON object on the last line.

    python bench/cdp_identity.py                      # 1,000,000 identifiers / 500,000 links
    python bench/cdp_identity.py --full               # 10,000,000 / 5,000,000
    python bench/cdp_identity.py --identifiers N --links M --db-sets K
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bcone.cdp._identity import CdpConfig, rebuild, resolve_identity_sets
from bcone.cdp.graph import GraphInput, resolve
from bcone.cdp.identifiers import identity_key, normalise
from bcone.core.db import Database
from bcone.iam import service as iam
from bcone.models import metadata

NAMESPACES = ["wechat_openid:wxapp", "wechat_unionid:op", "phone", "tmall_ouid", "device"]


def bench_graph(n: int, m: int, seed: int = 7) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    node_ids = np.arange(1, n + 1, dtype=np.int64)
    node_ns = rng.integers(0, len(NAMESPACES), size=n, dtype=np.int64)
    # Links between near neighbours in id order (people's identifiers arrive together), a few far.
    a = rng.integers(1, n + 1, size=m, dtype=np.int64)
    offset = rng.integers(1, 20, size=m, dtype=np.int64)
    far = rng.random(m) < 0.01
    b = np.where(far, rng.integers(1, n + 1, size=m, dtype=np.int64), np.minimum(a + offset, n))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo < hi
    pairs = np.unique(np.stack([lo[keep], hi[keep]], axis=1), axis=0)
    g = GraphInput(
        node_ids=node_ids,
        node_ns=node_ns,
        node_profile=np.arange(n, dtype=np.int64),  # every identifier had its own profile
        joins_ns=np.array([ns != "device" for ns in NAMESPACES]),
        link_seq=np.arange(1, len(pairs) + 1, dtype=np.int64),
        link_a=pairs[:, 0].copy(),
        link_b=pairs[:, 1].copy(),
    )
    started = time.perf_counter()
    result = resolve(g)
    seconds = time.perf_counter() - started
    return {
        "graph_identifiers": n,
        "graph_links": len(pairs),
        "graph_seconds": round(seconds, 3),
        "graph_profiles": result.n_components,
        "graph_quarantined": int(result.quarantined.sum()),
    }


def bench_db(sets: int, seed: int = 11) -> dict[str, float]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        metadata.create_all(db.engine)
        with db.session() as s:
            tenant_id = iam.create_tenant(session=s, slug="bench", name="Bench").id
        key = identity_key("bench-secret-key-of-at-least-32-characters", tenant_id)
        config = CdpConfig()
        latencies: list[float] = []
        people = max(1, sets // 3)
        for n in range(sets):
            # A consumer has an openid, a phone, a Tmall id and a device; each set shows one of
            # them alone or two together: two of the consumer's profiles merge.
            k = rng.randrange(people)
            own = [
                ("wechat_openid:wxapp", f"o{k}"),
                ("phone", f"138{k:08d}"),
                ("tmall_ouid", f"t{k}"),
                ("device", f"d{k}"),
            ]
            ids = rng.sample(own, rng.choice((1, 2)))
            started = time.perf_counter()
            with db.session(tenant_id=tenant_id) as s:
                resolve_identity_sets(s, [[normalise(ns, v, key) for ns, v in ids]], [f"e{n}"], config)
            latencies.append(time.perf_counter() - started)
        with db.session(tenant_id=tenant_id) as s:
            result = rebuild(s, config)
        db.dispose()
    latencies.sort()
    return {
        "db_sets": sets,
        "incremental_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "incremental_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "incremental_then_rebuild_changes": result.merges + result.splits + result.moved_identifiers,
    }


def bench_db_rebuild(n: int, m: int, seed: int = 5) -> dict[str, float]:
    """Full rebuild from a SQLite file holding ``n`` identifiers and about ``m`` links, inserted
    directly (not timed): the first rebuild creates every profile, the second finds nothing to change."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'rebuild.db'}")
        metadata.create_all(db.engine)
        with db.session() as s:
            tenant_id = iam.create_tenant(session=s, slug="bench", name="Bench").id
        ns = rng.integers(0, len(NAMESPACES), size=n)
        a = rng.integers(1, n + 1, size=m)
        b = np.minimum(a + rng.integers(1, 20, size=m), n)
        pairs = {(int(x), int(y)) for x, y in zip(a, b, strict=True) if x < y}
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO cdp_identifiers (id, tenant_id, namespace, key, display, quarantined, created_at) "
                "VALUES (?, ?, ?, ?, ?, 0, '2026-11-01 00:00:00')",
                [(i + 1, tenant_id, NAMESPACES[ns[i]], f"k{i}", f"k{i}") for i in range(n)],
            )
            conn.exec_driver_sql(
                "INSERT INTO cdp_links (tenant_id, a_id, b_id, status, created_at) "
                "VALUES (?, ?, ?, 'active', '2026-11-01 00:00:00')",
                [(tenant_id, x, y) for x, y in sorted(pairs)],
            )
        config = CdpConfig()
        timings = []
        cpu = []  # the process's CPU time: what the rebuild costs on a machine shared with others
        for _ in range(2):
            started = time.perf_counter()
            cpu_started = time.process_time()
            with db.session(tenant_id=tenant_id) as s:
                result = rebuild(s, config)
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        db.dispose()
    return {
        "db_rebuild_identifiers": n,
        "db_rebuild_links": len(pairs),
        "db_first_rebuild_seconds": round(timings[0], 2),
        "db_rebuild_seconds": round(timings[1], 2),
        "db_first_rebuild_cpu_seconds": round(cpu[0], 2),
        "db_rebuild_cpu_seconds": round(cpu[1], 2),
        "db_rebuild_profiles": result.profiles,
        "db_rebuild_changes": result.merges + result.splits + result.moved_identifiers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identifiers", type=int, default=1_000_000)
    parser.add_argument("--links", type=int, default=500_000)
    parser.add_argument("--full", action="store_true", help="10,000,000 identifiers / 5,000,000 links")
    parser.add_argument("--db-sets", type=int, default=2_000)
    parser.add_argument(
        "--db-identifiers", type=int, default=200_000, help="identifiers for the rebuild from SQLite"
    )
    parser.add_argument("--db-links", type=int, default=100_000)
    args = parser.parse_args()
    n, m = (10_000_000, 5_000_000) if args.full else (args.identifiers, args.links)
    figures: dict[str, object] = {"bench": "cdp_identity", "cpu_count": os.cpu_count()}
    figures.update(bench_graph(n, m))
    print(f"graph: {n:,} identifiers / {figures['graph_links']:,} links in {figures['graph_seconds']} s")
    figures.update(bench_db(args.db_sets))
    print(
        f"incremental: {args.db_sets} sets, p50 {figures['incremental_p50_ms']} ms, "
        f"p99 {figures['incremental_p99_ms']} ms"
    )
    figures.update(bench_db_rebuild(args.db_identifiers, args.db_links))
    print(
        f"rebuild from SQLite: {args.db_identifiers:,} identifiers / {figures['db_rebuild_links']:,} links: "
        f"first {figures['db_first_rebuild_seconds']} s, again {figures['db_rebuild_seconds']} s"
    )
    figures["load_average"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
