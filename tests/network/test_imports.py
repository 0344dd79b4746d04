"""Importing organisations and staff from CSV (UTF-8, GBK) and XLSX, in both import modes."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from bcone.core.imports import ImportFileInvalid, ImportMode
from bcone.core.pagination import PageParams
from bcone.network import service
from bcone.network.schemas import OrganizationOut
from tests.network.conftest import TenantSession

ORG_CSV = """类型,编码,名称,上级编码,行政区划代码,地址,经度,纬度,销售区域,状态,联系人,联系电话
门店,S-001,南山便利店,W-01,440305,南山大道1号,,,,正常,张三,13800138001
经销商,D-01,粤饮商贸,,440106,体育西路1号,113.32,23.13,440000；440300,正常,陈国强,020-38001234
二批,W-01,深圳二批,D-01,440305,,,,,,,
门店,S-002,区划写错的店,D-01,999999,,,,,,,
门店,S-003,电话写错的店,D-01,440305,,,,,,,12345
门店,S-004,挂在门店下的店,S-001,440305,,,,,,,
"""
# (row, column as the file names it, the cell, error code) for every bad row above.
ORG_ERRORS = [
    (5, "行政区划代码", "999999", "unknown_division"),
    (6, "联系电话", "12345", "value_error"),
    (7, "上级编码", "S-001", "invalid_parent"),
]


def org_xlsx() -> bytes:
    """The same file as ``ORG_CSV`` with English headers and numbers typed as numbers."""
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    header = ["kind", "code", "name", "parent_code", "division_code", "address", "lng", "lat"]
    sheet.append([*header, "sales_regions", "status", "contact_name", "contact_phone"])
    sheet.append(["store", "S-001", "南山便利店", "W-01", 440305, "南山大道1号", None, None])
    sheet.cell(row=2, column=10, value="active")
    sheet.cell(row=2, column=11, value="张三")
    sheet.cell(row=2, column=12, value=13800138001)  # a phone typed as a number
    sheet.append(
        ["distributor", "D-01", "粤饮商贸", None, 440106, "体育西路1号", 113.32, 23.13, "440000;440300"]
    )
    sheet.cell(row=3, column=10, value="active")
    sheet.cell(row=3, column=11, value="陈国强")
    sheet.cell(row=3, column=12, value="020-38001234")
    sheet.append(["wholesaler", "W-01", "深圳二批", "D-01", 440305])
    sheet.append(["store", "S-002", "区划写错的店", "D-01", 999999])
    sheet.append(
        ["store", "S-003", "电话写错的店", "D-01", 440305, None, None, None, None, None, None, 12345]
    )
    sheet.append(["store", "S-004", "挂在门店下的店", "S-001", 440305])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


FILES = {
    "utf8.csv": ORG_CSV.encode("utf-8"),
    "gbk.csv": ORG_CSV.encode("gbk"),
    "network.xlsx": org_xlsx(),
}
XLSX_COLUMNS = {"行政区划代码": "division_code", "联系电话": "contact_phone", "上级编码": "parent_code"}


def _codes(tenant_session: TenantSession) -> list[str]:
    with tenant_session() as s:
        return [o.code for o in service.list_organizations(PageParams(), session=s).items]


def _expected_errors(filename: str) -> list[tuple[int, str, str, str]]:
    if filename.endswith(".xlsx"):
        return [(row, XLSX_COLUMNS[col], value, code) for row, col, value, code in ORG_ERRORS]
    return ORG_ERRORS


@pytest.mark.parametrize("filename", sorted(FILES))
def test_all_or_nothing_rejects_the_file_and_reports_every_bad_row(
    tenant_session: TenantSession, filename: str
) -> None:
    with tenant_session() as s:
        report = service.import_organizations(FILES[filename], filename, session=s)
    assert report.mode is ImportMode.all_or_nothing
    assert (report.imported, report.total_rows, report.created, report.failed) == (False, 6, 0, 3)
    assert [(e.row, e.column, e.value, e.code) for e in report.errors] == _expected_errors(filename)
    assert "not a Chinese mobile" in report.errors[1].message
    assert "not a store" in report.errors[2].message
    assert _codes(tenant_session) == []


@pytest.mark.parametrize("filename", sorted(FILES))
def test_valid_rows_writes_the_good_rows_and_reimport_changes_nothing(
    tenant_session: TenantSession, filename: str
) -> None:
    with tenant_session() as s:
        report = service.import_organizations(
            FILES[filename], filename, session=s, mode=ImportMode.valid_rows
        )
    assert (report.imported, report.created, report.updated, report.failed) == (True, 3, 0, 3)
    assert [(e.row, e.column) for e in report.errors] == [(r, c) for r, c, _, _ in _expected_errors(filename)]
    assert _codes(tenant_session) == ["D-01", "S-001", "W-01"]
    with tenant_session() as s:
        d01 = service.get_organization_by_code("D-01", session=s)
        s001 = service.get_organization_by_code("S-001", session=s)
    # The store came before its parents in the file and still landed under the wholesaler.
    assert (s001.parent_code, s001.distributor_id, s001.contact_phone) == ("W-01", d01.id, "13800138001")
    assert (d01.sales_regions, d01.lng, d01.location_approximate) == (["440000", "440300"], 113.32, False)
    assert s001.location_approximate is True
    with tenant_session() as s:
        again = service.import_organizations(FILES[filename], filename, session=s, mode=ImportMode.valid_rows)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 3, 3)
    assert _codes(tenant_session) == ["D-01", "S-001", "W-01"]


def test_reimport_updates_changed_rows_by_code(tenant_session: TenantSession) -> None:
    good = "\n".join(ORG_CSV.splitlines()[:4]) + "\n"
    with tenant_session() as s:
        assert service.import_organizations(good.encode(), "a.csv", session=s).created == 3
    changed = good.replace("南山大道1号", "南山大道2号").replace(",正常,张三", ",暂停,张三")
    with tenant_session() as s:
        report = service.import_organizations(changed.encode(), "a.csv", session=s)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    with tenant_session() as s:
        s001 = service.get_organization_by_code("S-001", session=s)
    assert (s001.address, s001.status) == ("南山大道2号", "suspended")


def test_a_file_without_optional_columns_leaves_those_fields_alone(
    tenant_session: TenantSession, network: dict[str, OrganizationOut]
) -> None:
    data = "编码,名称,类型,上级编码\nS-NS1,南山好又多(新),门店,W-SZ\n".encode()
    with tenant_session() as s:
        report = service.import_organizations(data, "rename.csv", session=s)
        assert report.updated == 1
        renamed = service.get_organization_by_code("S-NS1", session=s)
    assert renamed.name == "南山好又多(新)"
    assert renamed.division_code == network["S-NS1"].division_code


def test_a_new_organisation_needs_a_division_code(tenant_session: TenantSession) -> None:
    data = "编码,名称,类型\nD-9,新经销商,经销商\n".encode()
    with tenant_session() as s:
        report = service.import_organizations(data, "x.csv", session=s)
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "division_code", "validation_failed")]


def test_unreadable_files_are_refused_before_any_row(tenant_session: TenantSession) -> None:
    with tenant_session() as s, pytest.raises(ImportFileInvalid, match="missing required column") as err:
        service.import_organizations("名称,类型\nx,门店\n".encode(), "orgs.csv", session=s)
    assert err.value.extra["column"] == "code"


STAFF_CSV = """类型,工号,姓名,手机号,所属组织编码,负责组织编码,状态
业务员,R-01,张伟,13900139000,,D-GD、D-BJ,在职
导购,A-01,李娜,137 0013 7000,S-NS1,,在职
导购,A-02,王强,13700137001,W-SZ,,在职
KOC,K-01,小红,13600136000,S-CY1,,
导购,A-03,赵敏,1370013,S-NS1,,
"""


def test_staff_import_in_both_modes(
    tenant_session: TenantSession, network: dict[str, OrganizationOut]
) -> None:
    data = STAFF_CSV.encode("gbk")
    with tenant_session() as s:
        rejected = service.import_staff(data, "staff.csv", session=s)
    assert (rejected.imported, rejected.failed) == (False, 2)
    assert [(e.row, e.column, e.code) for e in rejected.errors] == [
        (4, "所属组织编码", "invalid_staff_organization"),
        (6, "手机号", "value_error"),
    ]
    with tenant_session() as s:
        assert service.list_staff(PageParams(), session=s).total == 0
        report = service.import_staff(data, "staff.csv", session=s, mode=ImportMode.valid_rows)
    assert (report.created, report.failed) == (3, 2)
    with tenant_session() as s:
        staff = {x.employee_code: x for x in service.list_staff(PageParams(), session=s).items}
        assert set(staff) == {"A-01", "K-01", "R-01"}
        assert set(staff["R-01"].assigned_org_ids) == {network["D-GD"].id, network["D-BJ"].id}
        assert staff["A-01"].phone == "13700137000"
        again = service.import_staff(data, "staff.csv", session=s, mode=ImportMode.valid_rows)
    assert (again.created, again.unchanged) == (0, 3)
