"""Organisations through the service: tree rules, locations, regions, listing, tenants, scoping."""

from __future__ import annotations

import time

import pytest

from bcone.core.errors import BconeError, NotFound
from bcone.core.geo import UnknownDivision
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.network import service
from bcone.network.errors import (
    DuplicateCode,
    HasChildren,
    InvalidLocation,
    InvalidParent,
    UnknownOrganization,
)
from bcone.network.schemas import OrganizationIn, OrganizationOut, OrganizationUpdate
from tests.network.conftest import TenantSession

Network = dict[str, OrganizationOut]


def _store(code: str = "S-NEW", **kw: object) -> OrganizationIn:
    fields: dict[str, object] = {"kind": "store", "code": code, "name": "新店", "division_code": "440305"}
    fields.update(kw)
    return OrganizationIn.model_validate(fields)


def test_created_distributor_has_ancestry_regions_and_centroid(network: Network) -> None:
    gd = network["D-GD"]
    assert (gd.kind, gd.parent_id, gd.distributor_id, gd.wholesaler_id) == ("distributor", None, gd.id, None)
    assert gd.sales_regions == ["440000"]
    assert gd.division_name == "广东省 广州市 天河区"
    # No coordinates were given: the district's centroid stands in, and says so.
    assert (gd.lng, gd.lat, gd.location_approximate) == (113.361575, 23.124807, True)
    assert gd.contact_phone == "13800138000"
    sz = network["W-SZ"]
    assert (sz.lng, sz.lat, sz.location_approximate) == (113.93, 22.53, False)
    assert sz.contact_phone == "0755-26001234"
    assert (sz.parent_code, sz.distributor_id, sz.wholesaler_id) == ("D-GD", gd.id, sz.id)
    ns1 = network["S-NS1"]
    assert (ns1.parent_id, ns1.distributor_id, ns1.wholesaler_id) == (sz.id, gd.id, sz.id)
    th1 = network["S-TH1"]
    assert (th1.parent_id, th1.distributor_id, th1.wholesaler_id) == (gd.id, gd.id, None)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"kind": "wholesaler", "code": "W-X", "parent_code": None}, "needs a parent"),
        ({"kind": "store", "code": "S-X", "parent_code": None}, "needs a parent"),
        ({"kind": "wholesaler", "code": "W-X", "parent_code": "S-NS1"}, "must be a distributor, not a store"),
        ({"kind": "store", "code": "S-X", "parent_code": "S-NS1"}, "not a store"),
        ({"kind": "distributor", "code": "D-X", "parent_code": "S-NS1"}, "has no parent"),
        ({"kind": "distributor", "code": "D-X", "parent_code": "D-BJ"}, "has no parent"),
    ],
)
def test_tree_rules_refuse_wrong_parents(
    network: Network, tenant_session: TenantSession, item: dict[str, object], message: str
) -> None:
    with tenant_session() as s, pytest.raises(InvalidParent, match=message) as err:
        service.create_organization(
            OrganizationIn.model_validate({"name": "X", "division_code": "440305", **item}), session=s
        )
    assert err.value.field == "parent_id"
    assert err.value.status == 422


def test_a_store_cannot_become_a_distributors_parent_and_no_cycles(
    network: Network, tenant_session: TenantSession
) -> None:
    with tenant_session() as s:
        with pytest.raises(InvalidParent, match="has no parent"):
            service.update_organization(
                network["D-GD"].id, OrganizationUpdate(parent_id=network["S-NS1"].id), session=s
            )
        with pytest.raises(InvalidParent, match="under itself"):
            service.update_organization(
                network["W-SZ"].id, OrganizationUpdate(parent_id=network["W-SZ"].id), session=s
            )
        # A wholesaler turned into a store could be put under its own store: refused (it has children).
        with pytest.raises(HasChildren):
            service.update_organization(
                network["W-SZ"].id, OrganizationUpdate(kind="store", parent_id=network["S-NS1"].id), session=s
            )
        # A store cannot be placed under a store, not even one of its siblings.
        with pytest.raises(InvalidParent, match="not a store"):
            service.update_organization(
                network["S-TH1"].id, OrganizationUpdate(parent_id=network["S-NS1"].id), session=s
            )
    with tenant_session() as s:
        unchanged = service.get_organization(network["D-GD"].id, session=s)
    assert unchanged.parent_id is None


def test_unknown_parent_code_and_unknown_division_are_refused(
    network: Network, tenant_session: TenantSession
) -> None:
    with tenant_session() as s:
        with pytest.raises(UnknownOrganization) as err:
            service.create_organization(_store(parent_code="NOPE"), session=s)
        assert err.value.field == "parent_id"
        with pytest.raises(UnknownDivision) as err2:
            service.create_organization(_store(parent_code="D-GD", division_code="999999"), session=s)
        assert (err2.value.code, err2.value.field, err2.value.status) == (
            "unknown_division",
            "division_code",
            422,
        )
        with pytest.raises(UnknownDivision) as err3:
            service.create_organization(
                _store(parent_code="D-GD", sales_regions=["440000", "123456"]), session=s
            )
        assert err3.value.field == "sales_regions"


@pytest.mark.parametrize(
    ("lng", "lat", "field", "message"),
    [
        (116.4, None, "lat", "both"),
        (None, 39.9, "lng", "both"),
        (39.9, 116.4, "lat", "swapped"),
        (200.0, 39.9, "lng", "-180..180"),
        (-0.12, 51.5, "lng", "outside China"),  # London
        (116.4, 60.0, "lat", "outside China"),
    ],
)
def test_implausible_locations_are_refused(
    network: Network,
    tenant_session: TenantSession,
    lng: float | None,
    lat: float | None,
    field: str,
    message: str,
) -> None:
    with tenant_session() as s, pytest.raises(InvalidLocation, match=message) as err:
        service.create_organization(_store(parent_code="D-GD", lng=lng, lat=lat), session=s)
    assert err.value.field == field


def test_codes_are_unique_per_tenant_but_not_across_tenants(
    network: Network, tenant_session: TenantSession, other_tenant: TenantOut
) -> None:
    with tenant_session() as s, pytest.raises(DuplicateCode) as err:
        service.create_organization(_store("S-NS1", parent_code="D-GD"), session=s)
    assert (err.value.status, err.value.field) == (409, "code")
    with tenant_session(other_tenant.id) as s:
        service.create_organization(
            OrganizationIn(kind="distributor", code="D-GD", name="Other brand's", division_code="110105"),
            session=s,
        )


def test_another_tenants_organisation_is_not_found(
    network: Network, tenant_session: TenantSession, other_tenant: TenantOut
) -> None:
    with tenant_session(other_tenant.id) as s:
        with pytest.raises(NotFound):
            service.get_organization(network["D-GD"].id, session=s)
        with pytest.raises(NotFound):
            service.update_organization(network["D-GD"].id, OrganizationUpdate(name="hijacked"), session=s)
        # Nor can another tenant hang a store under it.
        service.create_organization(
            OrganizationIn(kind="distributor", code="D-O", name="Other", division_code="110105"), session=s
        )
        with pytest.raises(UnknownOrganization):
            service.create_organization(_store(parent_id=network["D-GD"].id), session=s)
        assert service.list_organizations(PageParams(), session=s).total == 1
    with tenant_session() as s:
        assert service.get_organization(network["D-GD"].id, session=s).name == "广东粤饮商贸"


def test_search_filters_and_pagination(network: Network, tenant_session: TenantSession) -> None:
    with tenant_session() as s:

        def codes(**kw: object) -> list[str]:
            params = PageParams(
                q=kw.pop("q", None), page_size=int(kw.pop("page_size", 50)), page=int(kw.pop("page", 1))
            )
            return [o.code for o in service.list_organizations(params, session=s, **kw).items]  # type: ignore[arg-type]

        assert codes() == ["D-BJ", "D-GD", "S-CY1", "S-NS1", "S-TH1", "W-SZ"]
        assert codes(q="体育西路") == ["D-GD"]  # address
        assert codes(q="王芳") == ["D-BJ"]  # contact name
        assert codes(q="0755") == ["W-SZ"]  # contact phone
        assert codes(q="s-n") == ["S-NS1"]  # code, case-insensitive
        assert codes(q="100%") == []  # LIKE wildcards are literal
        assert codes(kind="store") == ["S-CY1", "S-NS1", "S-TH1"]
        assert codes(division="440000") == [
            "D-GD",
            "S-NS1",
            "S-TH1",
            "W-SZ",
        ]  # a province finds its districts
        assert codes(division="440300") == ["S-NS1", "W-SZ"]
        assert codes(parent_id=network["D-GD"].id) == ["S-TH1", "W-SZ"]
        page = service.list_organizations(PageParams(page=2, page_size=4), session=s)
        assert (page.total, page.pages, [o.code for o in page.items]) == (6, 2, ["S-TH1", "W-SZ"])
        service.update_organization(network["S-TH1"].id, OrganizationUpdate(status="suspended"), session=s)
        assert codes(status="suspended") == ["S-TH1"]


def test_subtrees_follow_a_moved_wholesaler(network: Network, tenant_session: TenantSession) -> None:
    gd, bj, sz, ns1 = (network[c] for c in ("D-GD", "D-BJ", "W-SZ", "S-NS1"))
    with tenant_session() as s:
        assert set(service.organization_subtree_ids(gd.id, session=s)) == {
            gd.id,
            sz.id,
            ns1.id,
            network["S-TH1"].id,
        }
        assert set(service.organization_subtree_ids(sz.id, session=s)) == {sz.id, ns1.id}
        assert service.organization_subtree_ids(ns1.id, session=s) == [ns1.id]
        service.update_organization(sz.id, OrganizationUpdate(parent_code="D-BJ"), session=s)
    with tenant_session() as s:
        assert set(service.organization_subtree_ids(bj.id, session=s)) == {
            bj.id,
            sz.id,
            ns1.id,
            network["S-CY1"].id,
        }
        assert service.get_organization(ns1.id, session=s).distributor_id == bj.id


def test_organizations_covering_a_division(network: Network, tenant_session: TenantSession) -> None:
    with tenant_session() as s:
        assert [o.code for o in service.organizations_covering("440305", session=s)] == ["D-GD"]
        assert [o.code for o in service.organizations_covering("110108", session=s)] == ["D-BJ"]
        assert service.organizations_covering("110101", session=s) == []  # 东城: nobody's region
        service.update_organization(network["D-GD"].id, OrganizationUpdate(status="suspended"), session=s)
        assert service.organizations_covering("440305", session=s) == []
        covering = service.organizations_covering("440305", session=s, include_inactive=True)
        assert [o.code for o in covering] == ["D-GD"]


def test_partner_scope_limits_reads_to_the_subtree(network: Network, tenant_session: TenantSession) -> None:
    sz = network["W-SZ"]
    with tenant_session() as s:
        page = service.list_organizations(PageParams(), session=s, scope_org_id=sz.id)
        assert [o.code for o in page.items] == ["S-NS1", "W-SZ"]
        assert service.get_organization(network["S-NS1"].id, session=s, scope_org_id=sz.id).code == "S-NS1"
        for outside in ("D-GD", "S-TH1", "D-BJ"):
            with pytest.raises(NotFound):
                service.get_organization(network[outside].id, session=s, scope_org_id=sz.id)
        with pytest.raises(NotFound):
            service.update_organization(
                network["D-BJ"].id, OrganizationUpdate(name="x"), session=s, scope_org_id=sz.id
            )


def test_update_recentres_an_approximate_location_and_clears_fields(
    network: Network, tenant_session: TenantSession
) -> None:
    with tenant_session() as s:
        moved = service.update_organization(
            network["S-NS1"].id, OrganizationUpdate(division_code="110105", parent_code="D-BJ"), session=s
        )
        assert (moved.lng, moved.lat, moved.location_approximate) == (116.443205, 39.921506, True)
        placed = service.update_organization(
            network["S-NS1"].id, OrganizationUpdate(lng=116.45, lat=39.93), session=s
        )
        assert (placed.lng, placed.lat, placed.location_approximate) == (116.45, 39.93, False)
        cleared = service.update_organization(
            network["W-SZ"].id, OrganizationUpdate(contact_phone=None), session=s
        )
        assert cleared.contact_phone is None
        with pytest.raises(BconeError, match="name cannot be empty"):
            service.update_organization(network["W-SZ"].id, OrganizationUpdate(name=None), session=s)


def test_bulk_create_loads_thousands_of_stores_quickly(tenant_session: TenantSession) -> None:
    items = [
        OrganizationIn(
            kind="distributor",
            code=f"D{d}",
            name=f"经销商{d}",
            division_code="440000",
            sales_regions=["440000"],
        )
        for d in range(10)
    ]
    items += [
        OrganizationIn(
            kind="store", code=f"S{i:05d}", name=f"门店{i}", parent_code=f"D{i % 10}", division_code="440305"
        )
        for i in range(2500)
    ]
    with tenant_session() as s:
        started = time.perf_counter()
        assert service.create_organizations_bulk(list(reversed(items)), session=s) == 2510
        elapsed = time.perf_counter() - started
    assert elapsed < 15, f"bulk create took {elapsed:.1f}s"
    with tenant_session() as s:
        assert service.list_organizations(PageParams(), session=s, kind="store").total == 2500
        d3 = service.get_organization_by_code("D3", session=s)
        assert len(service.organization_subtree_ids(d3.id, session=s)) == 251
        assert d3.sales_regions == ["440000"]
        ids = service.organization_ids_by_code(["D3", "S00007", "nope"], session=s)
        assert set(ids) == {"D3", "S00007"}


def test_bulk_create_refuses_the_whole_batch_naming_the_item(tenant_session: TenantSession) -> None:
    items = [
        OrganizationIn(kind="distributor", code="D1", name="经销商", division_code="440000"),
        OrganizationIn(kind="store", code="S1", name="门店", parent_code="D1", division_code="440305"),
        OrganizationIn(kind="store", code="S2", name="门店", parent_code="S1", division_code="440305"),
    ]
    with tenant_session() as s:
        with pytest.raises(InvalidParent) as err:
            service.create_organizations_bulk(items, session=s)
        assert err.value.field == "items[2].parent_id"
        assert service.list_organizations(PageParams(), session=s).total == 0
