"""Statements prepared once with core.tenancy.tenant_query: every tenant-scoped entity they read,
in joins, aliases and subqueries, is limited to the bound tenant, as session queries are."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import String, bindparam, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, aliased, mapped_column

from bcone.core.db import Database, IdMixin
from bcone.core.tenancy import TenantNotBound, TenantScoped, run_tenant_query, tenant_query, unscoped

TENANT_A = "01900000-0000-7000-8000-0000000000aa"
TENANT_B = "01900000-0000-7000-8000-0000000000bb"


class _Base(DeclarativeBase):
    """A separate metadata, so this test table never joins the application's schema."""


class Item(IdMixin, TenantScoped, _Base):
    __tablename__ = "tenant_query_test_items"

    name: Mapped[str] = mapped_column(String(50))
    # No foreign key on purpose: a row pointing at another tenant's row is what must not leak.
    parent_id: Mapped[str | None] = mapped_column(String(36))


_parent = aliased(Item, name="parent")
# Each item with its parent's name (outer join) and how many items there are (scalar subquery).
ITEMS = tenant_query(
    select(Item.name, _parent.name, select(func.count()).select_from(Item).scalar_subquery())
    .outerjoin(_parent, _parent.id == Item.parent_id)
    .order_by(Item.name)
)
# Items whose parent is named :parent_name (IN over a subquery), via a derived table.
_children = select(Item.name, Item.parent_id).subquery()
CHILDREN_OF = tenant_query(
    select(_children.c.name)
    .where(_children.c.parent_id.in_(select(Item.id).where(Item.name == bindparam("parent_name"))))
    .order_by(_children.c.name)
)


@pytest.fixture
def items(db: Database) -> Iterator[dict[str, str]]:
    """a-root and a-child (tenant A), b-root and b-child (B), and a-stray: an A row whose parent
    id names B's root. Returns their ids by name."""
    _Base.metadata.create_all(db.engine)
    ids: dict[str, str] = {}
    try:
        for tenant_id, prefix in ((TENANT_B, "b"), (TENANT_A, "a")):
            with db.session(tenant_id=tenant_id) as s:
                root = Item(name=f"{prefix}-root")
                s.add(root)
                s.flush()
                s.add(Item(name=f"{prefix}-child", parent_id=root.id))
                if prefix == "a":
                    s.add(Item(name="a-stray", parent_id=ids["b-root"]))
                s.flush()
                ids[root.name] = root.id
        yield ids
    finally:
        _Base.metadata.drop_all(db.engine)


def test_joins_aliases_and_subqueries_see_only_the_bound_tenant(db: Database, items: dict[str, str]) -> None:
    with db.session(tenant_id=TENANT_A) as s:
        rows = [tuple(r) for r in run_tenant_query(s, ITEMS)]
        # The stray row stays (outer join), but B's root is not joined in as its parent.
        assert rows == [("a-child", "a-root", 3), ("a-root", None, 3), ("a-stray", None, 3)]
        assert list(run_tenant_query(s, CHILDREN_OF, {"parent_name": "a-root"}).scalars()) == ["a-child"]
        assert list(run_tenant_query(s, CHILDREN_OF, {"parent_name": "b-root"}).scalars()) == []
    with db.session(tenant_id=TENANT_B) as s:
        assert [tuple(r) for r in run_tenant_query(s, ITEMS)] == [
            ("b-child", "b-root", 2),
            ("b-root", None, 2),
        ]


def test_no_tenant_bound_is_refused_even_when_unscoped(db: Database, items: dict[str, str]) -> None:
    with db.session() as s, pytest.raises(TenantNotBound):
        run_tenant_query(s, ITEMS)
    with db.session() as s, pytest.raises(TenantNotBound):
        run_tenant_query(unscoped(s), ITEMS)


def test_sees_the_unit_of_works_own_unflushed_changes(db: Database, items: dict[str, str]) -> None:
    with db.session(tenant_id=TENANT_A) as s:
        s.add(Item(name="a-new", parent_id=items["a-root"]))
        assert list(run_tenant_query(s, CHILDREN_OF, {"parent_name": "a-root"}).scalars()) == [
            "a-child",
            "a-new",
        ]
