"""The network's HTTP API: CRUD, search, problems with fields, tenants, partner scoping, imports."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.iam.schemas import TenantOut
from bcone.network.schemas import OrganizationOut
from tests.fixtures_iam import AuthHeaders
from tests.network.test_imports import ORG_CSV, STAFF_CSV, org_xlsx

Network = dict[str, OrganizationOut]
BASE = "/api/v1/network"


def test_create_get_update_and_list_organisations(owner_client: TestClient) -> None:
    created = owner_client.post(
        f"{BASE}/organizations",
        json={
            "kind": "distributor",
            "code": "D-1",
            "name": "粤饮商贸",
            "division_code": "440106",
            "sales_regions": ["440000"],
            "contact_phone": "+86 138 0013 8000",
        },
    )
    assert created.status_code == 201, created.text
    d1 = created.json()
    assert (d1["contact_phone"], d1["location_approximate"], d1["division_name"]) == (
        "13800138000",
        True,
        "广东省 广州市 天河区",
    )
    store = owner_client.post(
        f"{BASE}/organizations",
        json={
            "kind": "store",
            "code": "S-1",
            "name": "天河店",
            "parent_id": d1["id"],
            "division_code": "440106",
            "lng": 113.33,
            "lat": 23.14,
        },
    ).json()
    assert store["distributor_id"] == d1["id"]
    patched = owner_client.patch(
        f"{BASE}/organizations/{store['id']}", json={"status": "suspended", "address": "体育东路"}
    )
    assert patched.status_code == 200
    assert (patched.json()["status"], patched.json()["lng"]) == ("suspended", 113.33)
    assert owner_client.get(f"{BASE}/organizations/{store['id']}").json()["address"] == "体育东路"
    listed = owner_client.get(f"{BASE}/organizations", params={"q": "体育东", "page_size": 1}).json()
    assert (listed["total"], [o["code"] for o in listed["items"]]) == (1, ["S-1"])
    assert owner_client.get(f"{BASE}/organizations", params={"kind": "distributor"}).json()["total"] == 1
    assert owner_client.get(f"{BASE}/organizations", params={"division": "440000"}).json()["total"] == 2
    covering = owner_client.get(f"{BASE}/coverage", params={"division_code": "440305"}).json()
    assert [o["code"] for o in covering] == ["D-1"]


def test_bad_input_is_422_naming_the_field(owner_client: TestClient) -> None:
    def problem(body: dict[str, object]) -> tuple[int, str, str]:
        resp = owner_client.post(f"{BASE}/organizations", json=body)
        return resp.status_code, resp.json()["code"], resp.json()["field"]

    base = {"kind": "distributor", "code": "D-1", "name": "x", "division_code": "440106"}
    assert problem({**base, "division_code": "999999"}) == (422, "unknown_division", "division_code")
    assert problem({**base, "contact_phone": "12345"}) == (422, "validation_failed", "contact_phone")
    assert problem({**base, "lng": 2.35, "lat": 48.85}) == (422, "invalid_location", "lng")
    assert problem({**base, "kind": "shop"}) == (422, "validation_failed", "kind")
    assert problem({**base, "kind": "store"}) == (422, "invalid_parent", "parent_id")
    assert owner_client.post(f"{BASE}/organizations", json=base).status_code == 201
    assert problem(base) == (409, "duplicate_code", "code")
    d1 = owner_client.get(f"{BASE}/organizations").json()["items"][0]
    store = {"kind": "store", "code": "S-1", "name": "x", "division_code": "440106", "parent_id": d1["id"]}
    s1 = owner_client.post(f"{BASE}/organizations", json=store).json()
    resp = owner_client.patch(f"{BASE}/organizations/{d1['id']}", json={"parent_id": s1["id"]})
    assert (resp.status_code, resp.json()["code"], resp.json()["field"]) == (
        422,
        "invalid_parent",
        "parent_id",
    )


def test_another_tenants_ids_answer_404(
    app: FastAPI, owner_client: TestClient, auth_headers: AuthHeaders, other_tenant: TenantOut
) -> None:
    d1 = owner_client.post(
        f"{BASE}/organizations",
        json={"kind": "distributor", "code": "D-1", "name": "x", "division_code": "440106"},
    ).json()
    with TestClient(app, headers=auth_headers("owner", other_tenant)) as other:
        assert other.get(f"{BASE}/organizations/{d1['id']}").status_code == 404
        assert other.patch(f"{BASE}/organizations/{d1['id']}", json={"name": "mine"}).status_code == 404
        assert other.get(f"{BASE}/organizations").json()["total"] == 0
        resp = other.post(
            f"{BASE}/organizations",
            json={
                "kind": "store",
                "code": "S",
                "name": "x",
                "division_code": "440106",
                "parent_id": d1["id"],
            },
        )
        assert (resp.status_code, resp.json()["field"]) == (422, "parent_id")
    assert owner_client.get(f"{BASE}/organizations/{d1['id']}").json()["name"] == "x"


def test_partner_sees_only_its_subtree_and_cannot_write(
    app: FastAPI, owner_client: TestClient, auth_headers: AuthHeaders, network: Network
) -> None:
    owner_client.post(
        f"{BASE}/staff",
        json={
            "kind": "shop_assistant",
            "name": "李娜",
            "phone": "13700137000",
            "employee_code": "A1",
            "org_code": "S-NS1",
        },
    )
    owner_client.post(
        f"{BASE}/staff",
        json={
            "kind": "shop_assistant",
            "name": "赵敏",
            "phone": "13700137001",
            "employee_code": "A2",
            "org_code": "S-CY1",
        },
    )
    with TestClient(app, headers=auth_headers("partner", org_id=network["W-SZ"].id)) as partner:
        listed = partner.get(f"{BASE}/organizations").json()
        assert [o["code"] for o in listed["items"]] == ["S-NS1", "W-SZ"]
        assert partner.get(f"{BASE}/organizations", params={"q": "朝阳"}).json()["total"] == 0
        assert partner.get(f"{BASE}/organizations/{network['S-NS1'].id}").status_code == 200
        for outside in ("D-GD", "S-TH1", "S-CY1"):
            assert partner.get(f"{BASE}/organizations/{network[outside].id}").status_code == 404
        assert [x["employee_code"] for x in partner.get(f"{BASE}/staff").json()["items"]] == ["A1"]
        resp = partner.patch(f"{BASE}/organizations/{network['W-SZ'].id}", json={"name": "mine"})
        assert resp.status_code == 403
        assert partner.get(f"{BASE}/coverage", params={"division_code": "440305"}).status_code == 403
        assert (
            partner.post(f"{BASE}/organizations/import", files={"file": ("a.csv", b"x")}).status_code == 403
        )
    with TestClient(app, headers=auth_headers("analyst")) as analyst:
        assert analyst.get(f"{BASE}/organizations").json()["total"] == 6
        assert analyst.post(f"{BASE}/organizations", json={}).status_code == 403


def test_staff_crud_over_http(owner_client: TestClient, network: Network) -> None:
    rep = owner_client.post(
        f"{BASE}/staff",
        json={
            "kind": "sales_rep",
            "name": "张伟",
            "phone": "13900139000",
            "employee_code": "R1",
            "assigned_org_codes": ["D-GD"],
        },
    )
    assert rep.status_code == 201, rep.text
    rep_id = rep.json()["id"]
    assert rep.json()["assigned_org_ids"] == [network["D-GD"].id]
    bad = owner_client.post(
        f"{BASE}/staff",
        json={
            "kind": "shop_assistant",
            "name": "x",
            "phone": "13900139001",
            "employee_code": "A1",
            "org_code": "D-GD",
        },
    )
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
        422,
        "invalid_staff_organization",
        "org_id",
    )
    patched = owner_client.patch(f"{BASE}/staff/{rep_id}", json={"phone": "021-62345678"})
    assert patched.json()["phone"] == "021-62345678"
    assert owner_client.get(f"{BASE}/staff/{rep_id}").json()["name"] == "张伟"
    found = owner_client.get(f"{BASE}/staff", params={"org_id": network["D-GD"].id}).json()
    assert [x["employee_code"] for x in found["items"]] == ["R1"]


def test_import_endpoint_rejects_with_the_report_then_accepts_valid_rows(owner_client: TestClient) -> None:
    rejected = owner_client.post(
        f"{BASE}/organizations/import", files={"file": ("网点.csv", ORG_CSV.encode("gbk"), "text/csv")}
    )
    assert rejected.status_code == 422
    body = rejected.json()
    assert (body["code"], body["field"], body["report"]["imported"]) == ("import_rejected", "file", False)
    assert [(e["row"], e["column"]) for e in body["report"]["errors"]] == [
        (5, "行政区划代码"),
        (6, "联系电话"),
        (7, "上级编码"),
    ]
    assert owner_client.get(f"{BASE}/organizations").json()["total"] == 0
    accepted = owner_client.post(
        f"{BASE}/organizations/import",
        files={"file": ("network.xlsx", org_xlsx())},
        data={"mode": "valid_rows"},
    )
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["created"], accepted.json()["failed"]) == (3, 3)
    assert owner_client.get(f"{BASE}/organizations").json()["total"] == 3


def test_import_endpoint_refuses_unreadable_files_and_imports_staff(
    owner_client: TestClient, network: Network
) -> None:
    resp = owner_client.post(f"{BASE}/organizations/import", files={"file": ("a.pdf", b"%PDF-1.7")})
    assert (resp.status_code, resp.json()["code"], resp.json()["filename"]) == (
        422,
        "import_file_invalid",
        "a.pdf",
    )
    resp = owner_client.post(
        f"{BASE}/organizations/import", files={"file": ("a.csv", b"x")}, data={"mode": "sometimes"}
    )
    assert (resp.status_code, resp.json()["field"]) == (422, "mode")
    staff = owner_client.post(
        f"{BASE}/staff/import", files={"file": ("staff.csv", STAFF_CSV.encode())}, data={"mode": "valid_rows"}
    )
    assert (staff.status_code, staff.json()["created"], staff.json()["failed"]) == (200, 3, 2)
