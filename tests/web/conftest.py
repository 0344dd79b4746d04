"""Fixtures of the console shell's tests: a logged-in console client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.iam.schemas import TenantOut, UserOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn, OrganizationOut
from tests.fixtures_iam import ConsoleLogin, MakeUser


@pytest.fixture
def owner(make_user: MakeUser) -> UserOut:
    """The tenant's owner, with a name the top bar shows."""
    return make_user("owner", display_name="Wang Fang")


@pytest.fixture
def console(client: TestClient, owner: UserOut, console_login: ConsoleLogin) -> TestClient:
    """``client`` logged in to the console as the owner; it sends the CSRF header on every call."""
    client.headers["X-CSRF-Token"] = console_login(client, owner.email)
    return client


@pytest.fixture
def distributor(db: Database, tenant: TenantOut) -> OrganizationOut:
    """A distributor of the tenant's channel network (partner users belong to one)."""
    with db.session(tenant_id=tenant.id) as s:
        return network.create_organization(
            OrganizationIn(kind="distributor", code="D-SH", name="上海沪饮商贸", division_code="310101"),
            session=s,
        )
