"""The organisation list: totals on every page, literal search, one tenant only, the same contract
as a single read, and over HTTP the same answer for GET requests that run in database threads."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.iam import service as iam
from bcone.iam.schemas import TenantOut
from bcone.network import service
from bcone.network.schemas import OrganizationIn, OrganizationOut
from tests.fixtures_iam import AuthHeaders
from tests.network.conftest import TenantSession

Network = dict[str, OrganizationOut]
BASE = "/api/v1/network"


def _page(
    s: Session, page: int = 1, page_size: int = 50, q: str | None = None, **kw: Any
) -> tuple[int, list[str]]:
    found = service.list_organizations(PageParams(page=page, page_size=page_size, q=q), session=s, **kw)
    return found.total, [o.code for o in found.items]


def test_every_page_knows_the_total(network: Network, tenant_session: TenantSession) -> None:
    with tenant_session() as s:
        assert _page(s, page_size=4) == (6, ["D-BJ", "D-GD", "S-CY1", "S-NS1"])  # full page
        assert _page(s, page=2, page_size=4) == (6, ["S-TH1", "W-SZ"])  # short last page
        assert _page(s, page=2, page_size=3) == (6, ["S-NS1", "S-TH1", "W-SZ"])  # full last page
        assert _page(s, page=3, page_size=3) == (6, [])  # past the end: counted separately
        assert _page(s, page=9, page_size=2, kind="store") == (3, [])
        assert _page(s, page=2, page_size=2, kind="store", q="s-") == (3, ["S-TH1"])
        assert _page(s, kind="distributor", q="nothing like this") == (0, [])


def test_search_wildcards_match_themselves(network: Network, tenant_session: TenantSession) -> None:
    with tenant_session() as s:
        service.create_organization(
            OrganizationIn(
                kind="store",
                code="S_50%/OFF",
                name="五折_店",
                parent_code="D-BJ",
                division_code="110105",
            ),
            session=s,
        )
        assert _page(s, q="_")[1] == ["S_50%/OFF"]
        assert _page(s, q="%")[1] == ["S_50%/OFF"]
        assert _page(s, q="0%/o")[1] == ["S_50%/OFF"]
        assert _page(s, q="/")[1] == ["S_50%/OFF"]
        assert _page(s, q="s_5")[1] == ["S_50%/OFF"]
        assert _page(s, q="s%o")[1] == []


def test_another_tenants_network_is_never_listed_or_counted(
    db: Database, network: Network, tenant_session: TenantSession, other_tenant: TenantOut
) -> None:
    with db.session(tenant_id=other_tenant.id) as s:
        assert _page(s) == (0, [])
        assert _page(s, kind="store", q="S") == (0, [])
        assert _page(s, parent_id=network["D-GD"].id) == (0, [])
        service.create_organization(
            OrganizationIn(kind="distributor", code="D-GD", name="别家经销商", division_code="440106"),
            session=s,
        )
        assert _page(s, page=3, page_size=1) == (1, [])
    with tenant_session() as s:
        assert _page(s, q="D-GD") == (1, ["D-GD"])


def test_listed_organisations_read_as_they_do_one_by_one(
    network: Network, tenant_session: TenantSession
) -> None:
    with tenant_session() as s:
        listed = service.list_organizations(PageParams(), session=s).items
        assert listed == [service.get_organization(o.id, session=s) for o in listed]
        sz = next(o for o in listed if o.code == "W-SZ")
        assert (sz.parent_code, sz.parent_name) == ("D-GD", "广东粤饮商贸")
        assert next(o for o in listed if o.code == "D-BJ").sales_regions == ["110105", "110108"]


def test_the_api_lists_and_reads_in_database_threads(
    network: Network, auth_headers: AuthHeaders, app: FastAPI, tenant_session: TenantSession
) -> None:
    with TestClient(app, headers=auth_headers("analyst")) as client:
        resp = client.get(f"{BASE}/organizations", params={"page": 2, "page_size": 2, "kind": "store"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert (body["total"], [o["code"] for o in body["items"]]) == (3, ["S-TH1"])
        one = client.get(f"{BASE}/organizations/{network['S-TH1'].id}").json()
        assert body["items"][0] == one
        assert client.get(f"{BASE}/organizations", params={"page_size": 500}).status_code == 422


def test_a_writing_request_with_a_new_api_key_does_not_wait_for_itself(
    db: Database, tenant: TenantOut, auth_headers: AuthHeaders, app: FastAPI
) -> None:
    # The key's first use stamps last_used_at; in a writing request on SQLite the request already
    # holds the write lock, so stamping from another connection would wait out the busy timeout.
    headers = auth_headers("owner")
    started = time.monotonic()
    with TestClient(app, headers=headers) as client:
        resp = client.post(
            f"{BASE}/organizations",
            json={"kind": "distributor", "code": "D-NEW", "name": "新经销商", "division_code": "110105"},
        )
    assert resp.status_code == 201, resp.text
    assert time.monotonic() - started < 10
    with db.session(tenant_id=tenant.id) as s:
        keys = iam.list_api_keys(session=s, params=PageParams()).items
    assert [k.last_used_at is not None for k in keys] == [True]
