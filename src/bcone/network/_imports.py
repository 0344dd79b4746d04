"""Bulk imports of organisations and staff from CSV or XLSX (policy: ``docs/imports.md``).

Rows are matched by code (partner code, employee code): a known code updates that record, a new
one creates it, so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bcone.core.errors import ValidationFailed
from bcone.core.imports import (
    Column,
    ImportMode,
    ImportReport,
    RowOutcome,
    Table,
    TableRow,
    parse_choice,
    read_table,
    run_import,
    split_codes,
)
from bcone.network import _rules as rules
from bcone.network._organizations import create_organization, get_organization, update_organization
from bcone.network._staff import create_staff, get_staff, update_staff
from bcone.network.models import Organization, Staff
from bcone.network.schemas import OrganizationIn, OrganizationUpdate, StaffIn, StaffUpdate

ORGANIZATION_COLUMNS = (
    Column("kind", ("类型", "组织类型", "type"), required=True),
    Column("code", ("编码", "组织编码", "客户编码"), required=True),
    Column("name", ("名称", "组织名称", "客户名称"), required=True),
    Column("parent_code", ("上级编码", "上级组织编码", "parent")),
    Column("division_code", ("行政区划代码", "区划代码", "division")),
    Column("address", ("地址", "详细地址")),
    Column("lng", ("经度", "longitude")),
    Column("lat", ("纬度", "latitude")),
    Column("sales_regions", ("销售区域", "regions")),
    Column("status", ("状态",)),
    Column("contact_name", ("联系人", "contact")),
    Column("contact_phone", ("联系电话", "电话", "phone")),
)
STAFF_COLUMNS = (
    Column("kind", ("类型", "人员类型", "type"), required=True),
    Column("employee_code", ("工号", "员工编号"), required=True),
    Column("name", ("姓名", "名称"), required=True),
    Column("phone", ("手机号", "电话", "mobile"), required=True),
    Column("org_code", ("所属组织编码", "门店编码", "organization")),
    Column("assigned_org_codes", ("负责组织编码", "assigned_orgs")),
    Column("status", ("状态",)),
)

# Every spelling a Chinese or English sheet uses for a value -> the stored value.
ORG_KIND_CHOICES = {
    "distributor": "distributor",
    "经销商": "distributor",
    "wholesaler": "wholesaler",
    "分销商": "wholesaler",
    "二批": "wholesaler",
    "二批商": "wholesaler",
    "store": "store",
    "retailer": "store",
    "门店": "store",
    "终端": "store",
    "零售商": "store",
}
ORG_STATUS_CHOICES = {
    "active": "active",
    "正常": "active",
    "启用": "active",
    "suspended": "suspended",
    "暂停": "suspended",
    "closed": "closed",
    "关闭": "closed",
    "停业": "closed",
}
STAFF_KIND_CHOICES = {
    "sales_rep": "sales_rep",
    "业务员": "sales_rep",
    "销售代表": "sales_rep",
    "shop_assistant": "shop_assistant",
    "导购": "shop_assistant",
    "店员": "shop_assistant",
    "koc": "koc",
}
STAFF_STATUS_CHOICES = {
    "active": "active",
    "在职": "active",
    "正常": "active",
    "inactive": "inactive",
    "离职": "inactive",
    "停用": "inactive",
}
_COMPARED = {"created_at", "updated_at"}


def _number(row: TableRow, key: str) -> float | None:
    text = row.get(key)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValidationFailed(f"{text!r} is not a number", field=key) from None


def _organization_fields(row: TableRow, table: Table) -> dict[str, Any]:
    present = table.headers
    fields: dict[str, Any] = {
        "kind": parse_choice(row.get("kind"), ORG_KIND_CHOICES, field_name="kind"),
        "code": row.get("code"),
        "name": row.get("name"),
    }
    if "division_code" in present:
        fields["division_code"] = row.get("division_code")
    for key in ("address", "contact_name"):
        if key in present:
            fields[key] = row.get(key)
    if "parent_code" in present:
        fields["parent_code"] = row.get("parent_code") or None
    if "contact_phone" in present:
        fields["contact_phone"] = row.get("contact_phone") or None
    if "lng" in present or "lat" in present:
        fields["lng"], fields["lat"] = _number(row, "lng"), _number(row, "lat")
    if "sales_regions" in present:
        fields["sales_regions"] = split_codes(row.get("sales_regions"))
    if "status" in present:
        fields["status"] = parse_choice(
            row.get("status"), ORG_STATUS_CHOICES, field_name="status", default="active"
        )
    return fields


def import_organization_table(table: Table, *, session: Session, mode: ImportMode) -> ImportReport:
    """Create or update one organisation per row, matched by partner code.

    Distributors are applied before wholesalers before stores, so a row may name a parent that
    appears further down the file. The division code is required for new organisations.
    """

    def apply(row: TableRow) -> RowOutcome:
        fields = _organization_fields(row, table)
        existing = session.scalars(select(Organization.id).where(Organization.code == fields["code"])).first()
        if existing is None:
            if not fields.get("division_code"):
                raise ValidationFailed(
                    "division_code is required for a new organisation", field="division_code"
                )
            create_organization(OrganizationIn(**fields), session=session)
            return "created"
        before = get_organization(existing, session=session).model_dump(exclude=_COMPARED)
        after = update_organization(existing, OrganizationUpdate(**fields), session=session)
        return "unchanged" if after.model_dump(exclude=_COMPARED) == before else "updated"

    def rank(row: TableRow) -> int:
        kind = ORG_KIND_CHOICES.get(row.get("kind").lower())
        return rules.KIND_RANK.get(kind or "", len(rules.KIND_RANK))

    return run_import(
        session=session,
        table=table,
        mode=mode,
        apply=apply,
        rows=sorted(table.rows, key=rank),
        field_aliases={"parent_id": "parent_code"},
    )


def import_organizations(
    data: bytes, filename: str, *, session: Session, mode: ImportMode = ImportMode.all_or_nothing
) -> ImportReport:
    """Import organisations from a CSV/XLSX file; 422 when the file itself is unreadable."""
    return import_organization_table(
        read_table(data, filename, ORGANIZATION_COLUMNS), session=session, mode=mode
    )


def _staff_fields(row: TableRow, table: Table) -> dict[str, Any]:
    present = table.headers
    fields: dict[str, Any] = {
        "kind": parse_choice(row.get("kind"), STAFF_KIND_CHOICES, field_name="kind"),
        "employee_code": row.get("employee_code"),
        "name": row.get("name"),
        "phone": row.get("phone"),
    }
    if "org_code" in present:
        fields["org_code"] = row.get("org_code") or None
        fields["org_id"] = None
    if "assigned_org_codes" in present:
        fields["assigned_org_codes"] = split_codes(row.get("assigned_org_codes"))
        fields["assigned_org_ids"] = []
    if "status" in present:
        fields["status"] = parse_choice(
            row.get("status"), STAFF_STATUS_CHOICES, field_name="status", default="active"
        )
    return fields


def import_staff_table(table: Table, *, session: Session, mode: ImportMode) -> ImportReport:
    """Create or update one staff member per row, matched by employee code."""

    def apply(row: TableRow) -> RowOutcome:
        fields = _staff_fields(row, table)
        existing = session.scalars(
            select(Staff.id).where(Staff.employee_code == fields["employee_code"])
        ).first()
        if existing is None:
            create_staff(StaffIn(**fields), session=session)
            return "created"
        before = get_staff(existing, session=session).model_dump(exclude=_COMPARED)
        after = update_staff(existing, StaffUpdate(**fields), session=session)
        return "unchanged" if after.model_dump(exclude=_COMPARED) == before else "updated"

    return run_import(
        session=session,
        table=table,
        mode=mode,
        apply=apply,
        field_aliases={"org_id": "org_code", "assigned_org_ids": "assigned_org_codes"},
    )


def import_staff(
    data: bytes, filename: str, *, session: Session, mode: ImportMode = ImportMode.all_or_nothing
) -> ImportReport:
    """Import staff from a CSV/XLSX file; 422 when the file itself is unreadable."""
    return import_staff_table(read_table(data, filename, STAFF_COLUMNS), session=session, mode=mode)
