"""Staff through the service, and the phone numbers every contact is validated against."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bcone.core.errors import NotFound
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.network import service
from bcone.network.errors import DuplicateCode, InvalidStaffOrganization, UnknownOrganization
from bcone.network.schemas import OrganizationOut, StaffIn, StaffUpdate, normalise_phone
from tests.network.conftest import TenantSession

Network = dict[str, OrganizationOut]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("010-62345678", "010-62345678"),
        ("(0755) 2600 1234", "0755-26001234"),
        ("075526001234", "0755-26001234"),
        ("0755-2600123", "0755-2600123"),
        ("021-62345678 转 8001", "021-62345678-8001"),
        ("400-820-8820", "400-820-8820"),
        ("4008208820", "400-820-8820"),
    ],
)
def test_chinese_phone_numbers_are_normalised(raw: str, stored: str) -> None:
    assert normalise_phone(raw) == stored


@pytest.mark.parametrize(
    "raw",
    ["12800138000", "1380013800", "138001380001", "phone", "010-0234567", "+1 415 555 0100", "0755-123"],
)
def test_non_chinese_or_malformed_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        normalise_phone(raw)


def test_a_bad_contact_phone_fails_validation_on_its_field() -> None:
    with pytest.raises(ValidationError) as err:
        StaffIn(kind="koc", name="小红", phone="12345", employee_code="K1", org_code="S-NS1")
    assert err.value.errors()[0]["loc"] == ("phone",)


def _rep(code: str = "R1", **kw: object) -> StaffIn:
    fields: dict[str, object] = {
        "kind": "sales_rep",
        "name": "业务员张伟",
        "phone": "13900139000",
        "employee_code": code,
    }
    fields.update(kw)
    return StaffIn.model_validate(fields)


def test_staff_kinds_and_their_organisations(network: Network, tenant_session: TenantSession) -> None:
    with tenant_session() as s:
        rep = service.create_staff(_rep(assigned_org_codes=["D-GD", "S-TH1"]), session=s)
        assert rep.org_id is None
        assert set(rep.assigned_org_ids) == {network["D-GD"].id, network["S-TH1"].id}
        assistant = service.create_staff(
            StaffIn(
                kind="shop_assistant", name="李娜", phone="13700137000", employee_code="A1", org_code="S-NS1"
            ),
            session=s,
        )
        assert (assistant.org_code, assistant.org_name) == ("S-NS1", "南山好又多便利店")
        koc = service.create_staff(
            StaffIn(
                kind="koc", name="小红", phone="13600136000", employee_code="K1", org_id=network["D-BJ"].id
            ),
            session=s,
        )
        assert koc.org_code == "D-BJ"
        cases: list[tuple[StaffIn, str, str]] = [
            (_rep("R2", org_code="D-GD"), "org_id", "belong to the brand"),
            (
                StaffIn(
                    kind="shop_assistant", name="x", phone="13700137001", employee_code="A2", org_code="W-SZ"
                ),
                "org_id",
                "works in a store, not a wholesaler",
            ),
            (
                StaffIn(kind="koc", name="x", phone="13700137002", employee_code="K2"),
                "org_id",
                "needs the organisation",
            ),
            (
                StaffIn(
                    kind="koc",
                    name="x",
                    phone="13700137003",
                    employee_code="K3",
                    org_code="S-NS1",
                    assigned_org_codes=["S-NS1"],
                ),
                "assigned_org_ids",
                "only sales reps",
            ),
        ]
        for item, field, message in cases:
            with pytest.raises(InvalidStaffOrganization, match=message) as err:
                service.create_staff(item, session=s)
            assert err.value.field == field
        with pytest.raises(UnknownOrganization):
            service.create_staff(_rep("R3", assigned_org_codes=["NOPE"]), session=s)
        with pytest.raises(DuplicateCode) as dup:
            service.create_staff(_rep("A1"), session=s)
        assert dup.value.field == "employee_code"


def test_list_staff_by_organisation_search_and_partner_scope(
    network: Network, tenant_session: TenantSession, other_tenant: TenantOut
) -> None:
    with tenant_session() as s:
        rep = service.create_staff(_rep(assigned_org_codes=["W-SZ"]), session=s)
        service.create_staff(
            StaffIn(
                kind="shop_assistant", name="李娜", phone="13700137000", employee_code="A1", org_code="S-NS1"
            ),
            session=s,
        )
        service.create_staff(
            StaffIn(
                kind="shop_assistant", name="赵敏", phone="13700137009", employee_code="A2", org_code="S-CY1"
            ),
            session=s,
        )

        def codes(**kw: object) -> list[str]:
            params = PageParams(q=kw.pop("q", None))
            return [x.employee_code for x in service.list_staff(params, session=s, **kw).items]  # type: ignore[arg-type]

        assert codes() == ["A1", "A2", "R1"]
        assert codes(q="李") == ["A1"]
        assert codes(q="137009") == ["A2"]
        assert codes(kind="sales_rep") == ["R1"]
        assert codes(org_id=network["W-SZ"].id) == ["R1"]  # assigned, not working there
        assert codes(org_id=network["S-NS1"].id) == ["A1"]
        # The wholesaler's partner users see its store's assistant and the rep who covers it.
        assert codes(scope_org_id=network["W-SZ"].id) == ["A1", "R1"]
        assert codes(scope_org_id=network["D-BJ"].id) == ["A2"]
        with pytest.raises(NotFound):
            service.get_staff(rep.id, session=s, scope_org_id=network["D-BJ"].id)
        moved = service.update_staff(
            rep.id, StaffUpdate(assigned_org_codes=["S-CY1"], status="inactive"), session=s
        )
        assert (moved.assigned_org_ids, moved.status) == ([network["S-CY1"].id], "inactive")
        with pytest.raises(InvalidStaffOrganization):
            service.update_staff(rep.id, StaffUpdate(kind="shop_assistant"), session=s)
    with tenant_session(other_tenant.id) as s:
        with pytest.raises(NotFound):
            service.get_staff(rep.id, session=s)
        assert service.list_staff(PageParams(), session=s).total == 0


def test_bulk_staff_for_the_demo(network: Network, tenant_session: TenantSession) -> None:
    items = [
        StaffIn(
            kind="shop_assistant",
            name=f"导购{i}",
            phone=f"1370013{i:04d}",
            employee_code=f"A{i}",
            org_code="S-NS1",
        )
        for i in range(300)
    ]
    items.append(_rep(assigned_org_ids=[network["D-GD"].id, network["D-BJ"].id]))
    with tenant_session() as s:
        assert service.create_staff_bulk(items, session=s) == 301
    with tenant_session() as s:
        assert service.list_staff(PageParams(), session=s, org_id=network["S-NS1"].id).total == 300
        assert service.list_staff(PageParams(), session=s, org_id=network["D-BJ"].id).total == 1
        with pytest.raises(InvalidStaffOrganization) as err:
            service.create_staff_bulk([_rep("R9"), _rep("R10", org_code="S-NS1")], session=s)
        assert err.value.field == "items[1].org_id"
