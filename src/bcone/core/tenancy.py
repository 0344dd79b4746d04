"""Tenant scoping, applied in one place.

Every tenant-scoped table mixes in :class:`TenantScoped`. A session bound to a tenant
(``session.info["tenant_id"]``, set by :func:`bind_tenant`) gets, on every ORM statement, a
criterion ``tenant_id = <bound tenant>`` for every tenant-scoped entity, and new rows are stamped
with the bound tenant at flush. Code never filters by tenant by hand. A session with no tenant bound
(platform operator, migrations, the outbox flusher) sees all rows; it must say so explicitly
with :func:`unscoped`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, Select, String, bindparam, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from bcone.core.errors import BconeError

TENANT_KEY = "tenant_id"
UNSCOPED_KEY = "tenant_unscoped"
# The bound parameter that carries the tenant in statements prepared by tenant_query().
TENANT_PARAM = "bcone_tenant_id"


class TenantScoped:
    """Mixin for rows that belong to one tenant (brand)."""

    tenant_id: Mapped[str] = mapped_column(String(36), index=True)


class TenantNotBound(BconeError):
    code = "tenant_not_bound"
    status = 500
    title = "No tenant bound to this unit of work"


def bind_tenant(session: Session, tenant_id: str) -> None:
    """Scope every later statement of ``session`` to ``tenant_id``."""
    session.info[TENANT_KEY] = tenant_id
    session.info.pop(UNSCOPED_KEY, None)


def unscoped(session: Session) -> Session:
    """Mark ``session`` as deliberately cross-tenant (platform operator, system jobs)."""
    session.info[UNSCOPED_KEY] = True
    session.info.pop(TENANT_KEY, None)
    return session


def current_tenant(session: Session) -> str:
    """The tenant bound to ``session``; raises if none is bound."""
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        raise TenantNotBound("this operation needs a tenant")
    return str(tenant_id)


def tenant_id_for_slug(session: Session, slug: str) -> str | None:
    """The id of the tenant whose slug is ``slug``, or None; for commands that take ``--tenant``.

    ``core`` sits below every domain and may not import ``iam``, which owns tenants, so this reads
    iam's ``tenants`` table (columns ``id`` and ``slug``) with a plain SQL query. That table name
    and those two columns are a contract: renaming them in ``iam`` must update this query.
    """
    value = session.execute(
        text("SELECT id FROM tenants WHERE slug = :slug"), {"slug": slug.strip()}
    ).scalar()
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class TenantQuery:
    """A statement restricted to one tenant, built once; run it with :func:`run_tenant_query`."""

    statement: Select[*tuple[Any, ...]]


# The same criterion as the session hook below, with the tenant as a bound parameter instead of
# a value, so a statement can be built and compiled once and then run for any tenant.
# (SQLAlchemy analyses the lambda and would take a variable in it for a value to bind, hence the
# literal: it is TENANT_PARAM.)
_TENANT_CRITERION = with_loader_criteria(
    TenantScoped, lambda cls: cls.tenant_id == bindparam("bcone_tenant_id"), include_aliases=True
)


def tenant_query(statement: Select[*tuple[Any, ...]]) -> TenantQuery:
    """``statement`` limited to the bound tenant wherever it reads a tenant-scoped entity.

    For hot read paths: building an ORM statement costs more than running it, so such a path builds
    its statements once (values as ``bindparam``) and runs them with :func:`run_tenant_query`.
    The criterion is SQLAlchemy's ``with_loader_criteria``, as for every session query: it reaches
    joins, aliases and subqueries, and goes into the ON clause of an outer join. It applies to
    ORM entities and their attributes (``Organization.code``), not to bare ``Table`` objects.
    """
    return TenantQuery(statement.options(_TENANT_CRITERION))


def run_tenant_query(
    session: Session, query: TenantQuery, params: Mapping[str, Any] | None = None
) -> CursorResult[*tuple[Any, ...]]:
    """Run ``query`` in ``session``'s transaction for the bound tenant; raises if none is bound.

    Rows come back as plain rows (no ORM objects), which is what makes it fast.
    """
    tenant_id = current_tenant(session)
    if session.autoflush:
        session.flush()  # as session.execute would: the query must see this unit's own changes
    values = dict(params) if params else {}
    values[TENANT_PARAM] = tenant_id
    return session.connection().execute(query.statement, values)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the parent row was already scoped
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None:
        if state.session.info.get(UNSCOPED_KEY):
            return
        if _touches_tenant_table(state):
            raise TenantNotBound("a tenant-scoped table was queried with no tenant bound")
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


def _touches_tenant_table(state: ORMExecuteState) -> bool:
    for desc in getattr(state.statement, "column_descriptions", []) or []:
        entity = desc.get("entity")
        if isinstance(entity, type) and issubclass(entity, TenantScoped):
            return True
    table = getattr(state.statement, "table", None)  # UPDATE / DELETE
    entity = getattr(table, "entity_namespace", None)
    return isinstance(entity, type) and issubclass(entity, TenantScoped)


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if getattr(obj, "tenant_id", None) is None:
            if tenant_id is None:
                raise TenantNotBound(f"new {type(obj).__name__} has no tenant")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenantNotBound(f"new {type(obj).__name__} belongs to another tenant")
    if tenant_id is not None:
        for obj in session.dirty:
            if isinstance(obj, TenantScoped) and obj.tenant_id != tenant_id:
                raise TenantNotBound(f"{type(obj).__name__} belongs to another tenant")
