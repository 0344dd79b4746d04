"""What the storefront, commission and portal tests share: a small network, catalog and storefronts.

``make_world(db, tenant)`` builds, in one unit of work: distributor ``D-SH`` (Shanghai) with
store ``S-1`` (Huangpu 310101) under it, a shop assistant ``A-1`` and a KOC ``K-1`` of the store,
two SKUs (``TEA-500`` list ¥5.00 in category 茶饮, ``JUICE-1L`` list ¥12.00 in 果汁), and
storefronts for the distributor, the store, the shop assistant and the KOC.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bcone.catalog import service as catalog
from bcone.catalog.schemas import ProductIn, SkuIn, SkuOut
from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn, OrganizationOut, StaffIn, StaffOut
from bcone.store import service
from bcone.store.schemas import StorefrontIn, StorefrontOut


@dataclass(frozen=True)
class World:
    tenant_id: str
    distributor: OrganizationOut
    store: OrganizationOut
    assistant: StaffOut
    koc: StaffOut
    tea: SkuOut
    juice: SkuOut
    d_front: StorefrontOut
    s_front: StorefrontOut
    a_front: StorefrontOut
    k_front: StorefrontOut


def make_world(db: Database, tenant: TenantOut) -> World:
    with db.session(tenant_id=tenant.id) as s:
        distributor = network.create_organization(
            OrganizationIn(kind="distributor", code="D-SH", name="上海饮品", division_code="310000"),
            session=s,
        )
        store = network.create_organization(
            OrganizationIn(
                kind="store",
                code="S-1",
                name="联华超市",
                parent_code="D-SH",
                division_code="310101",
                contact_name="王店长",
                contact_phone="13800000001",
            ),
            session=s,
        )
        assistant = network.create_staff(
            StaffIn(
                kind="shop_assistant", name="小李", phone="13800000002", employee_code="A-1", org_code="S-1"
            ),
            session=s,
        )
        koc = network.create_staff(
            StaffIn(kind="koc", name="达人小美", phone="13800000003", employee_code="K-1", org_code="S-1"),
            session=s,
        )
        catalog.create_product(ProductIn(name="冰红茶", line="茶饮"), session=s)
        catalog.create_product(ProductIn(name="橙汁", line="果汁"), session=s)
        tea = catalog.create_sku(
            SkuIn(product_name="冰红茶", sku_code="TEA-500", name="冰红茶 500ml", list_price=Decimal("5.00")),
            session=s,
        )
        juice = catalog.create_sku(
            SkuIn(product_name="橙汁", sku_code="JUICE-1L", name="橙汁 1L", list_price=Decimal("12.00")),
            session=s,
        )
        d_front = service.create_storefront(StorefrontIn(org_id=distributor.id, slug="sh-drinks"), session=s)
        s_front = service.create_storefront(StorefrontIn(org_id=store.id, slug="lianhua-1"), session=s)
        a_front = service.create_storefront(StorefrontIn(staff_id=assistant.id, slug="xiaoli"), session=s)
        k_front = service.create_storefront(StorefrontIn(staff_id=koc.id), session=s)
    return World(
        tenant.id, distributor, store, assistant, koc, tea, juice, d_front, s_front, a_front, k_front
    )
