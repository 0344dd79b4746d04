"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import os
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bcone.core.db import Database
from bcone.migrate import downgrade_to_base, upgrade_to_head
from bcone.models import metadata


def _fresh_databases(tmp_path: Path) -> list[tuple[str, Database, str | None]]:
    out: list[tuple[str, Database, str | None]] = [
        ("sqlite", Database(f"sqlite:///{tmp_path / 'migrate.db'}"), None)
    ]
    url = os.environ.get("BCONE_TEST_DATABASE_URL")
    if url:
        schema = f"bcone_migrate_{os.getpid()}"
        admin = Database(url)
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        sep = "&" if "?" in url else "?"
        out.append(("postgresql", Database(f"{url}{sep}options=-csearch_path%3D{schema}"), schema))
    return out


def test_migrations_match_models_and_downgrade(tmp_path: Path) -> None:
    for name, db, schema in _fresh_databases(tmp_path):
        try:
            upgrade_to_head(db.engine)
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert diff == [], f"{name}: models and migrations differ: {diff}"
            assert set(metadata.tables) <= set(inspect(db.engine).get_table_names())
            downgrade_to_base(db.engine)
            left = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            assert left == set(), f"{name}: downgrade left {left}"
        finally:
            if schema is not None:
                with db.engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            db.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()
