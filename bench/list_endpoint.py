"""Authenticated list endpoint under concurrent load from a loopback client.

Loads the demo brand (2,068 organisations at scale 1) into a fresh data directory, starts
``bcone serve`` (uvicorn) in its own process(es), and drives
``GET /api/v1/network/organizations?page=N&page_size=20`` with an API key over persistent
connections from this process. Prints requests/s, p50 and p99, then one JSON object.

On PostgreSQL the demo is loaded into a fresh schema (``bench_<pid>``) of the given database,
so a database that already holds data (or a test run's schemas) is left alone; the schema is
vacuumed and analysed as autovacuum would soon do, and dropped at the end. ``--workers 2`` runs
two server processes (``bcone serve --workers 2``, one SO_REUSEPORT socket each).

    python bench/list_endpoint.py [--seconds 15] [--concurrency 16] [--workers 1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loadgen import run_load
from sqlalchemy import text

from bcone.core.auth import Role
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.core.tenancy import unscoped
from bcone.demo.service import load_demo
from bcone.iam import service as iam
from bcone.migrate import upgrade_to_head

PATH = "/api/v1/network/organizations?page=3&page_size=20"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


@contextmanager
def _fresh_schema(database_url: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL schema for the run (yields the URL that selects it); dropped after."""
    if database_url is None:
        yield None
        return
    schema = f"bench_{os.getpid()}"
    admin = Database(database_url)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in database_url else "?"
        yield f"{database_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _prepare(data_dir: Path, database_url: str | None) -> tuple[Settings, str]:
    settings = Settings(environment="development", data_dir=data_dir, database_url=database_url)
    db = Database(settings.effective_database_url)
    upgrade_to_head(db.engine)
    load_demo(db, settings, seed=2026, scale=1.0)
    with db.session() as session:
        unscoped(session)
        tenant = iam.get_tenant_by_slug("demo", session=session)
    with db.session(tenant_id=tenant.id) as session:
        key = iam.create_api_key(session=session, name="bench", role=Role.analyst)
    if db.dialect == "postgresql":
        # Measure a settled database: autovacuum would vacuum and analyse the freshly loaded tables
        # within a minute (planner statistics, index-only counts); do it now instead of waiting.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    db.dispose()
    return settings, key.secret


@contextmanager
def _server(data_dir: Path, database_url: str | None, workers: int) -> Iterator[int]:
    """``uvicorn`` serving the app in a child process (``workers`` processes); yields its port."""
    port = _free_port()
    env = dict(
        os.environ, BCONE_DATA_DIR=str(data_dir), BCONE_JOBS_MODE="queue", BCONE_ENVIRONMENT="development"
    )
    if database_url:
        env["BCONE_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "bcone.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log"]
    server = subprocess.Popen(command, env=env)
    try:
        _wait_ready(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="server processes (bcone serve --workers)")
    parser.add_argument("--database-url", default=None, help="default: embedded SQLite in a temp dir")
    parser.add_argument("--path", default=PATH, help="the GET to measure (default: the organisation list)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, _fresh_schema(args.database_url) as database_url:
        data_dir = Path(tmp) / "bcone-data"
        _settings, secret = _prepare(data_dir, database_url)
        with _server(data_dir, database_url, args.workers) as port:
            headers = {"Authorization": f"Bearer {secret}"}
            for seconds in (args.warmup, args.seconds):  # the first run warms up, the second counts
                result = run_load(
                    "127.0.0.1",
                    port,
                    args.path,
                    headers=headers,
                    concurrency=args.concurrency,
                    seconds=seconds,
                )

    backend = "postgresql" if args.database_url else "sqlite"
    print(
        f"GET {args.path} on {backend}, {args.concurrency} connections, {args.workers} worker(s), "
        f"{result.seconds:.1f} s"
    )
    print(
        f"  {result.rps:,.0f} req/s, p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms, "
        f"errors {result.errors}"
    )
    print(
        json.dumps(
            {
                "bench": "list_endpoint",
                "backend": backend,
                "path": args.path,
                "organizations": 2068,
                "concurrency": args.concurrency,
                "workers": args.workers,
                "seconds": round(result.seconds, 2),
                "requests": result.requests,
                "errors": result.errors,
                "requests_per_s": round(result.rps, 1),
                "p50_ms": round(result.percentile(50), 2),
                "p99_ms": round(result.percentile(99), 2),
                "cpu_count": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
