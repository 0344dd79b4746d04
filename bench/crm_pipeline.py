"""List and search over many opportunities through the crm service, as the API calls it.

Builds a fresh database (SQLite in a temporary directory, or a fresh schema of the PostgreSQL
database given), generates ``--size`` open opportunities (plus 10% closed ones) with their
assessments, then times ``service.list_opportunities`` (one page of 50, with probabilities) for:
the first page, a deep page, a text search, a stage filter, and a sales rep's scoped list (the rep
owns 1 in 20 opportunities, about 5,500). Totals are counted at most ten pages ahead
(``total_capped``), as the console and the API do.
Prints p50/p99 per case (ms), then one JSON object on the last line. Target: p99 < 200 ms.

    python bench/crm_pipeline.py [--size 100000] [--repeat 50] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.crm import service
from bcone.iam import service as iam
from bcone.migrate import upgrade_to_head


@contextmanager
def _database(url: str | None) -> Iterator[Database]:
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
            try:
                yield db
            finally:
                db.dispose()
        return
    schema = f"bench_crm_{os.getpid()}"
    admin = Database(url)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    db = Database(f"{url}{sep}options=-csearch_path%3D{schema}")
    try:
        yield db
    finally:
        db.dispose()
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=10_000, help="open opportunities (default 10,000)")
    parser.add_argument("--repeat", type=int, default=30, help="calls per case")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()

    with _database(args.database_url) as db:
        upgrade_to_head(db.engine)
        with db.session() as s:
            tenant = iam.create_tenant(session=s, slug="bench", name="Bench")
        with db.session(tenant_id=tenant.id) as s:
            rep = iam.create_user(
                session=s,
                email="rep@bench.example",
                display_name="Rep",
                password="bench password 1",
                role="sales_rep",
            )
        started = time.perf_counter()
        owners = [rep.id] + [f"gen-user-{i:02d}" for i in range(19)]
        with db.session(tenant_id=tenant.id) as s:
            service.generate_pipeline(
                session=s, closed=args.size // 10, open_count=args.size, seed=1, owner_user_ids=owners
            )
        if db.dialect == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # Only this schema's crm tables: a database-wide ANALYZE waits on other sessions.
                # VACUUM as autovacuum would after a bulk load: it sets the visibility map that
                # index-only scans rely on, and the statistics the training query's plan needs.
                conn.execute(
                    text(
                        "VACUUM ANALYZE crm_opportunities, crm_assessments, crm_team_members, crm_sales_teams"
                    )
                )
        with db.session(tenant_id=tenant.id) as s:
            model = service.train_win_model(session=s)  # a tenant with this many closed deals has a model
        load_seconds = time.perf_counter() - started
        everyone = service.Viewer.system()
        one_rep = service.Viewer(rep.id, "sales_rep")
        deep = max(1, (args.size // 50) // 2)
        cases: dict[str, Callable[[], object]] = {}

        def case(params: PageParams, viewer: service.Viewer, **filters: object) -> Callable[[], object]:
            def run() -> object:
                with db.session(tenant_id=tenant.id, write=False) as s:
                    return service.list_opportunities(params, session=s, viewer=viewer, **filters)

            return run

        cases["first_page"] = case(PageParams(), everyone)
        cases["deep_page"] = case(PageParams(page=deep), everyone)
        cases["search"] = case(PageParams(q="陈列"), everyone)
        cases["search_no_hit"] = case(PageParams(q="不存在的商机"), everyone)
        cases["stage_filter"] = case(PageParams(), everyone, stage="negotiation", status="open")
        cases["rep_scoped"] = case(PageParams(), one_rep)
        results: dict[str, dict[str, float]] = {}
        for name, run in cases.items():
            run()  # warm up
            samples = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                run()
                samples.append(time.perf_counter() - t0)
            results[name] = _percentiles(samples)
            print(
                f"{name:>14}: p50 {results[name]['p50_ms']:8.2f} ms   p99 {results[name]['p99_ms']:8.2f} ms"
            )
    worst = max(r["p99_ms"] for r in results.values())
    print(
        json.dumps(
            {
                "bench": "crm_pipeline",
                "database": "postgresql" if args.database_url else "sqlite",
                "open_opportunities": args.size,
                "closed_opportunities": args.size // 10,
                "page_size": 50,
                "repeat": args.repeat,
                "load_seconds": round(load_seconds, 1),
                "probabilities": "model" if model is not None else "stage_prior",
                "cases": results,
                "worst_p99_ms": worst,
                "target_p99_ms": 200,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
