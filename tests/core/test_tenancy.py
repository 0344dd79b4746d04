"""The tenant filter in core.tenancy: a session bound to tenant A never sees or touches tenant B's rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import String, delete, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, aliased, mapped_column

from bcone.core.db import Database, IdMixin
from bcone.core.tenancy import TenantNotBound, TenantScoped, bind_tenant, unscoped

TENANT_A = "01900000-0000-7000-8000-00000000000a"
TENANT_B = "01900000-0000-7000-8000-00000000000b"


class _Base(DeclarativeBase):
    """A separate metadata, so this test table never joins the application's schema."""


class Note(IdMixin, _Base):
    __tablename__ = "tenancy_test_notes"

    body: Mapped[str] = mapped_column(String(50))


class ScopedNote(IdMixin, TenantScoped, _Base):
    __tablename__ = "tenancy_test_scoped_notes"

    body: Mapped[str] = mapped_column(String(50))


@pytest.fixture
def notes(db: Database) -> Iterator[dict[str, str]]:
    """Two rows for tenant A and one for tenant B; returns their ids by name."""
    _Base.metadata.create_all(db.engine)
    ids: dict[str, str] = {}
    try:
        for tenant_id, names in ((TENANT_A, ("a1", "a2")), (TENANT_B, ("b1",))):
            with db.session(tenant_id=tenant_id) as s:
                rows = [ScopedNote(body=name) for name in names]
                s.add_all(rows)
                s.flush()
                ids.update({r.body: r.id for r in rows})
        yield ids
    finally:
        _Base.metadata.drop_all(db.engine)


def _all_bodies(db: Database) -> list[str]:
    with db.session() as s:
        return sorted(unscoped(s).scalars(select(ScopedNote.body)))


def test_selects_see_only_the_bound_tenant(db: Database, notes: dict[str, str]) -> None:
    with db.session(tenant_id=TENANT_A) as s:
        assert sorted(s.scalars(select(ScopedNote.body))) == ["a1", "a2"]
        assert s.scalar(select(func.count()).select_from(ScopedNote)) == 2
        assert s.get(ScopedNote, notes["b1"]) is None
        assert s.scalars(select(ScopedNote).where(ScopedNote.id == notes["b1"])).first() is None
        other = aliased(ScopedNote)
        assert sorted(s.scalars(select(other.body))) == ["a1", "a2"]
    with db.session(tenant_id=TENANT_B) as s:
        assert list(s.scalars(select(ScopedNote.body))) == ["b1"]


def test_updates_and_deletes_never_reach_another_tenant(db: Database, notes: dict[str, str]) -> None:
    with db.session(tenant_id=TENANT_A) as s:
        s.execute(update(ScopedNote).values(body="changed"))
        s.execute(update(ScopedNote).where(ScopedNote.id == notes["b1"]).values(body="stolen"))
    assert _all_bodies(db) == ["b1", "changed", "changed"]
    with db.session(tenant_id=TENANT_A) as s:
        s.execute(delete(ScopedNote))
    assert _all_bodies(db) == ["b1"]


def test_new_rows_are_stamped_and_another_tenants_row_is_refused(db: Database, notes: dict[str, str]) -> None:
    with db.session(tenant_id=TENANT_A) as s:
        row = ScopedNote(body="a3")
        s.add(row)
        s.flush()
        assert row.tenant_id == TENANT_A
    s = db.sessionmaker()
    bind_tenant(s, TENANT_A)
    s.add(ScopedNote(body="b2", tenant_id=TENANT_B))
    with pytest.raises(TenantNotBound):
        s.flush()
    s.close()
    assert _all_bodies(db) == ["a1", "a2", "a3", "b1"]


def test_changing_a_row_loaded_elsewhere_is_refused(db: Database, notes: dict[str, str]) -> None:
    s = db.sessionmaker()
    row = unscoped(s).get_one(ScopedNote, notes["b1"])
    bind_tenant(s, TENANT_A)
    row.body = "moved"
    with pytest.raises(TenantNotBound):
        s.flush()
    s.close()
    assert _all_bodies(db) == ["a1", "a2", "b1"]


def test_no_tenant_bound_fails_unless_deliberately_unscoped(db: Database, notes: dict[str, str]) -> None:
    with db.session() as s:
        with pytest.raises(TenantNotBound):
            s.scalars(select(ScopedNote)).all()
        with pytest.raises(TenantNotBound):
            s.execute(delete(ScopedNote))
        s.rollback()
        assert len(unscoped(s).scalars(select(ScopedNote)).all()) == 3
    s = db.sessionmaker()
    s.add(ScopedNote(body="orphan"))
    with pytest.raises(TenantNotBound):
        s.flush()
    s.close()
    with db.session() as s:
        assert s.scalars(select(Note)).all() == []  # tables that are not tenant-scoped are free
