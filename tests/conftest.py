"""Shared fixtures: a real database per backend (SQLite always, PostgreSQL when configured).

Every test that takes ``db`` runs once on SQLite and once on PostgreSQL. PostgreSQL comes from
``BCONE_TEST_DATABASE_URL``; without it those runs skip with a visible reason. In CI (``CI=true``)
the variable is set by ``.ci/run`` and an unreachable server fails the run instead of skipping.
The schema is built once per backend from the models (``tests/core/test_migrations.py`` proves the
Alembic migrations build the same schema); after each test every table is emptied, so tests may
commit like production code does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.models import metadata

pytest_plugins = ["tests.fixtures_iam", "tests.fixtures_web"]

PG_ENV = "BCONE_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_url() -> tuple[str, str]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL leg skipped: set {PG_ENV}=postgresql://postgres@127.0.0.1:5432/test to run it"
        )
    # One schema per test process, so parallel runs on the same server never collide.
    schema = f"bcone_test_{_worker_id()}_{os.getpid()}"
    admin = Database(url)
    try:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")
        pytest.skip(f"PostgreSQL leg skipped: {PG_ENV} unreachable ({exc.__class__.__name__})")
    finally:
        admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


@pytest.fixture(scope="session", params=BACKENDS)
def _database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    schema = None
    if request.param == "postgresql":
        url, schema = _postgres_url()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'bcone.db'}"
    db = Database(url)
    metadata.create_all(db.engine)
    yield db
    if schema is not None:
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    db.dispose()


def truncate_all(db: Database) -> None:
    """Empty every table (fast, keeps the schema)."""
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def db(_database: Database) -> Iterator[Database]:
    """A migrated database on each backend, emptied after the test."""
    yield _database
    truncate_all(_database)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path / "bcone-data")
