"""A small channel network to test against: two distributors, a wholesaler, stores, regions.

D-GD  广东 distributor, sales region 广东省 (440000)
  W-SZ   wholesaler in 深圳 南山
    S-NS1  store in 深圳 南山 (under the wholesaler)
  S-TH1  store in 广州 天河 (straight under the distributor)
D-BJ  北京 distributor, sales region 北京 朝阳 + 海淀
  S-CY1  store in 北京 朝阳
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from sqlalchemy.orm import Session

from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.network import service
from bcone.network.schemas import OrganizationIn, OrganizationOut

TenantSession = Callable[..., AbstractContextManager[Session]]


@pytest.fixture
def tenant_session(db: Database, tenant: TenantOut) -> TenantSession:
    """``with tenant_session() as s:`` - a unit of work of ``tenant`` that commits on exit."""

    def _open(tenant_id: str | None = None) -> AbstractContextManager[Session]:
        return db.session(tenant_id=tenant_id or tenant.id)

    return _open


NETWORK = [
    OrganizationIn(
        kind="distributor",
        code="D-GD",
        name="广东粤饮商贸",
        division_code="440106",
        address="广州市天河区体育西路 1 号",
        sales_regions=["440000"],
        contact_name="陈国强",
        contact_phone="13800138000",
    ),
    OrganizationIn(
        kind="wholesaler",
        code="W-SZ",
        name="深圳南山二批",
        parent_code="D-GD",
        division_code="440305",
        lng=113.93,
        lat=22.53,
        contact_phone="0755-26001234",
    ),
    OrganizationIn(
        kind="store", code="S-NS1", name="南山好又多便利店", parent_code="W-SZ", division_code="440305"
    ),
    OrganizationIn(kind="store", code="S-TH1", name="天河美宜佳", parent_code="D-GD", division_code="440106"),
    OrganizationIn(
        kind="distributor",
        code="D-BJ",
        name="北京京饮贸易",
        division_code="110105",
        sales_regions=["110105", "110108"],
        contact_name="王芳",
    ),
    OrganizationIn(
        kind="store", code="S-CY1", name="朝阳物美超市", parent_code="D-BJ", division_code="110105"
    ),
]


@pytest.fixture
def network(tenant_session: TenantSession) -> Iterator[dict[str, OrganizationOut]]:
    """The network of the module docstring, created through the service; ``{code: organisation}``."""
    out: dict[str, OrganizationOut] = {}
    with tenant_session() as s:
        for item in NETWORK:
            out[item.code] = service.create_organization(item, session=s)
    return out
