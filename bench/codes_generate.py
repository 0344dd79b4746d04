"""Code generation throughput: serials + printer CSV, against a naive uuid4-and-insert approach.

The bcone path computes a batch's serials (Feistel permutation + tag, AES over numpy chunks) and
writes the GS1 Digital Link CSV a chunk at a time, in one thread: its rate is per core. The naive
path, on a smaller count, draws a uuid4 per code, inserts one row per code into SQLite (to keep
codes unique) and writes the same CSV line; its rate is reported per second the same way. The
last line is one JSON object, e.g. ``{"bench": "codes_generate", "codes": 2000000, ...}``.

    .venv/bin/python bench/codes_generate.py [--codes N] [--naive-codes N] [--chunk N]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from bcone.codes._export import CodeExport
from bcone.codes._serials import CodeKey
from bcone.codes.schemas import BatchOut

HOST = "id.bcone.dev"
GTIN = "06901234567892"


def _batch(count: int) -> BatchOut:
    return BatchOut(
        id="01a20000-0000-7000-8000-000000000000",
        sku_id="sku",
        sku_code="ICT-500",
        gtin=GTIN,
        count=count,
        level="unit",
        lot="L240601",
        production_date=date(2026, 6, 1),
        expiry_date=date(2027, 12, 31),
        regions=[],
        key_version=1,
        range_start=1_000_000_000,
        range_end=1_000_000_000 + count,
        status="active",
        voided_at=None,
        void_reason="",
        created_at=datetime.now(UTC),
    )


def bcone_path(out: Path, codes: int, chunk: int) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, bytes written) for ``codes`` codes into a CSV file."""
    export = CodeExport(batch=_batch(codes), key=CodeKey(1, os.urandom(32)), host=HOST, fmt="csv")
    wall, cpu = time.perf_counter(), time.process_time()
    size = 0
    with out.open("wb") as fh:
        for part in export.chunks(chunk_codes=chunk):
            fh.write(part)
            size += len(part)
    return time.perf_counter() - wall, time.process_time() - cpu, size


def naive_path(out: Path, db_path: Path, codes: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds): uuid4 per code, one INSERT per code, the same CSV line."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE codes (serial TEXT PRIMARY KEY, batch_id TEXT NOT NULL)")
    prefix = f"https://{HOST}/01/{GTIN}/21/"
    wall, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN")
    with out.open("w", encoding="ascii") as fh:
        fh.write("serial,url\n")
        for _ in range(codes):
            serial = uuid.uuid4().hex
            conn.execute("INSERT INTO codes (serial, batch_id) VALUES (?, ?)", (serial, "b1"))
            fh.write(f"{serial},{prefix}{serial}?10=L240601&17=271231\n")
    conn.execute("COMMIT")
    result = time.perf_counter() - wall, time.process_time() - cpu
    conn.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--codes", type=int, default=2_000_000, help="codes for the bcone path")
    parser.add_argument("--naive-codes", type=int, default=100_000, help="codes for the naive path")
    parser.add_argument("--chunk", type=int, default=100_000, help="codes per generated chunk")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_dir = Path(tmp)
        wall, cpu, size = bcone_path(tmp_dir / "codes.csv", args.codes, args.chunk)
        naive_wall, naive_cpu = naive_path(tmp_dir / "naive.csv", tmp_dir / "naive.db", args.naive_codes)
    print(
        f"bcone: {args.codes:,} codes in {wall:.2f} s ({args.codes / wall:,.0f} codes/s, {size / 1e6:.0f} MB)"
    )
    print(
        f"naive: {args.naive_codes:,} codes in {naive_wall:.2f} s ({args.naive_codes / naive_wall:,.0f} codes/s)"
    )
    print(
        json.dumps(
            {
                "bench": "codes_generate",
                "codes": args.codes,
                "codes_per_s": round(args.codes / wall),
                "codes_per_cpu_s": round(args.codes / cpu) if cpu else None,
                "csv_bytes": size,
                "naive_codes": args.naive_codes,
                "naive_codes_per_s": round(args.naive_codes / naive_wall),
                "naive_codes_per_cpu_s": round(args.naive_codes / naive_cpu) if naive_cpu else None,
                "speedup": round((args.codes / wall) / (args.naive_codes / naive_wall), 1),
                "chunk": args.chunk,
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
