"""Unit-to-case associations per second: ``codes.service.aggregate`` as a packing line calls it.

Commissions ``--units`` unit codes and ``--units / --case-size`` case codes, then packs them
with ``aggregate_many``, ``--cases-per-call`` full cases per call and unit of work (its own
session and commit), as a packing line's station posts its full cases; ``--cases-per-call 1`` is
one call per case. Every call validates its codes as a whole (tag,
range, commissioned, not packed) before the conditional UPDATE.

    .venv/bin/python bench/codes_packing.py                          # SQLite, small (seconds)
    .venv/bin/python bench/codes_packing.py --units 200000 --case-size 48
    .venv/bin/python bench/codes_packing.py --database-url postgresql://postgres@127.0.0.1:5432/test

Prints a human summary, then the figures as one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bcone.catalog import service as catalog
from bcone.catalog.schemas import ProductIn, SkuIn
from bcone.codes import service
from bcone.codes._serials import serials
from bcone.codes._space import TenantKeys
from bcone.codes.schemas import BatchIn
from bcone.core.db import Database
from bcone.core.ids import new_id
from bcone.models import metadata

SECRET = "bench-secret-key-bench-secret-key"
COMMISSION_CHUNK = 50_000


def _database(url: str | None, tmp: Path) -> tuple[Database, str | None]:
    if url is None:
        db = Database(f"sqlite:///{tmp / 'packing-bench.db'}")
        metadata.create_all(db.engine)
        return db, None
    schema = f"bcone_packing_bench_{new_id()[-8:]}"
    admin = Database(url)
    with admin.engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in url else "?"
    db = Database(f"{url}{sep}options=-csearch_path%3D{schema}")
    metadata.create_all(db.engine)
    return db, schema


def _codes(db: Database, tenant: str, level: str, count: int) -> list[str]:
    with db.session(tenant_id=tenant) as s:
        batch = service.create_batch(
            BatchIn(sku_code="BENCH-1", count=count, level=level, lot="B1"), session=s, secret_key=SECRET
        )
        key = TenantKeys(s, tenant, SECRET)[batch.key_version]
        return serials(key, batch.range_start, count)


def run(db: Database, units: int, case_size: int, per_call: int) -> dict[str, Any]:
    tenant = new_id()
    with db.session(tenant_id=tenant) as s:
        catalog.create_product(ProductIn(name="Bench"), session=s)
        catalog.create_sku(
            SkuIn(
                product_name="Bench", sku_code="BENCH-1", gtin="6901234567892", name="Bench", list_price="1"
            ),
            session=s,
        )
    cases = units // case_size
    unit_codes = _codes(db, tenant, "unit", cases * case_size)
    case_codes = _codes(db, tenant, "case", cases)
    start = time.perf_counter()
    everything = unit_codes + case_codes
    for i in range(0, len(everything), COMMISSION_CHUNK):
        with db.session(tenant_id=tenant) as s:
            service.commission(everything[i : i + COMMISSION_CHUNK], session=s, secret_key=SECRET)
    commission_s = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    for first in range(0, cases, per_call):
        packs = [
            (case_codes[c], unit_codes[c * case_size : (c + 1) * case_size])
            for c in range(first, min(cases, first + per_call))
        ]
        with db.session(tenant_id=tenant) as s:
            service.aggregate_many(packs, session=s, secret_key=SECRET)
    pack_s = time.perf_counter() - start
    pack_cpu = time.process_time() - cpu
    packed = cases * case_size
    return {
        "units": packed,
        "cases": cases,
        "case_size": case_size,
        "cases_per_call": per_call,
        "commission_seconds": round(commission_s, 3),
        "commissioned_per_s": round(len(everything) / commission_s, 1),
        "pack_seconds": round(pack_s, 3),
        "associations_per_s": round(packed / pack_s, 1),
        "cases_per_s": round(cases / pack_s, 1),
        # CPU of this (the application's) process only; the database server's is not included.
        "app_cpu_seconds": round(pack_cpu, 3),
        "associations_per_app_cpu_s": round(packed / pack_cpu, 1) if pack_cpu else None,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--units", type=int, default=20_000, help="unit codes to pack (default 20000)")
    parser.add_argument("--case-size", type=int, default=24, help="units per case (default 24)")
    parser.add_argument(
        "--cases-per-call",
        type=int,
        default=100,
        help="full cases posted per call (default 100; 1 = a call per case)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, schema = _database(args.database_url, Path(tmp))
        try:
            figures = run(db, args.units, args.case_size, args.cases_per_call)
        finally:
            if schema is not None:
                with db.engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            db.dispose()
    result = {"bench": "codes_packing", "database": db.dialect, **figures}
    print(
        f"{db.dialect}: packed {figures['units']} units into {figures['cases']} cases of {figures['case_size']}: "
        f"{figures['associations_per_s']} unit-to-case associations/s ({figures['cases_per_s']} cases/s, "
        f"{figures['cases_per_call']} per call); "
        f"commissioning {figures['commissioned_per_s']} codes/s; "
        f"{figures['associations_per_app_cpu_s']} per application CPU-second, load {figures['load_average_1m']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
