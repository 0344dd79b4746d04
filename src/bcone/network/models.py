"""Tables of the channel network: organisations (distributor -> wholesaler -> store), their sales
regions, and the people who sell for the brand (sales reps, shop assistants, KOCs).

The tree has fixed depth, so instead of a recursive query each organisation carries its
*ancestry*: ``distributor_id`` and ``wholesaler_id`` name the distributor and wholesaler whose
subtree it lies in (itself for a distributor, resp. a wholesaler). "Everything under X" is then
one indexed equality, which is what partner scoping and every per-distributor report need.
"""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bcone.core.db import Base, IdMixin, TimestampMixin
from bcone.core.tenancy import TenantScoped

ORG_KINDS = ("distributor", "wholesaler", "store")
ORG_STATUSES = ("active", "suspended", "closed")
STAFF_KINDS = ("sales_rep", "shop_assistant", "koc")
STAFF_STATUSES = ("active", "inactive")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organization(IdMixin, TimestampMixin, TenantScoped, Base):
    """A channel partner of the brand: a distributor, a wholesaler or a store."""

    __tablename__ = "organizations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint(_in("kind", ORG_KINDS), name="kind"),
        CheckConstraint(_in("status", ORG_STATUSES), name="status"),
        Index("ix_organizations_tenant_kind_code", "tenant_id", "kind", "code"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("organizations.id"), index=True)
    # Ancestry (see the module docstring); derived from parent_id and kept in step by the service.
    distributor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    wholesaler_id: Mapped[str | None] = mapped_column(String(36), index=True)
    division_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    lng: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    # True when lng/lat are the division's centroid because the partner's own location was unknown.
    location_approximate: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str | None] = mapped_column(String(32))


class OrganizationRegion(TenantScoped, Base):
    """One division of an organisation's sales region (a province covers every city inside it)."""

    __tablename__ = "organization_regions"
    __table_args__ = (
        # "Which organisations cover region X" looks up X and its ancestors here.
        Index("ix_organization_regions_tenant_division", "tenant_id", "division_code"),
    )

    org_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    division_code: Mapped[str] = mapped_column(String(6), primary_key=True)


class Staff(IdMixin, TimestampMixin, TenantScoped, Base):
    """A person selling for the brand: a sales rep (the brand's own), a shop assistant or a KOC."""

    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("tenant_id", "employee_code"),
        CheckConstraint(_in("kind", STAFF_KINDS), name="kind"),
        CheckConstraint(_in("status", STAFF_STATUSES), name="status"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    employee_code: Mapped[str] = mapped_column(String(64))
    # The organisation a shop assistant works in or a KOC shares for; None for sales reps, who
    # belong to the brand and cover organisations through staff_assignments.
    org_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("organizations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")


class StaffAssignment(TenantScoped, Base):
    """A sales rep covers (visits, serves) an organisation."""

    __tablename__ = "staff_assignments"

    staff_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
