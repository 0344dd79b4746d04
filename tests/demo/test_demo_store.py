"""The demo's cloud stores: storefronts, rules, sharing, orders and settled commissions, loaded
through the store service; the demo partner sees them in the portal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings
from bcone.core.tenancy import unscoped
from bcone.demo._store import COMMISSION_RULES, store_counts
from bcone.demo.service import DEMO_PARTNER_EMAIL, DEMO_PASSWORD, load_demo
from bcone.iam import service as iam
from bcone.network import service as network
from bcone.store import service as store
from bcone.store.schemas import OrderOut

TODAY = date(2026, 2, 1)
SCALE = 0.02


def _all_orders(session: Session) -> list[OrderOut]:
    out: list[OrderOut] = []
    page = 1
    while True:
        batch = store.list_orders(PageParams(page=page, page_size=200), session=session)
        out += batch.items
        if page * 200 >= batch.total:
            return out
        page += 1


def test_demo_loads_cloud_stores_with_orders_and_settled_commissions(
    db: Database,
    settings: Settings,
    app: FastAPI,
    console_login: Callable[..., str],
) -> None:
    summary = load_demo(db, settings, seed=4, scale=SCALE, today=TODAY, history_consumers=0)
    stores, planned = store_counts(SCALE)
    assert summary.storefronts > 3
    assert planned <= summary.store_orders <= planned + 5
    with db.session() as session:
        tenant = iam.get_tenant_by_slug("demo", session=unscoped(session))
    with db.session(tenant_id=tenant.id, write=False) as s:
        fronts = store.list_storefronts(PageParams(page_size=200), session=s).items
        kinds = Counter(f.partner_type for f in fronts)
        assert 1 <= kinds["store"] <= stores  # the three distributors' stores, up to the cap
        assert kinds["distributor"] == 3
        assert kinds["shop_assistant"] + kinds["koc"] >= 1
        partner_org = network.get_organization_by_code("D001", session=s)
        partner = store.storefront_for_partner(partner_org.id, session=s)
        assert partner is not None
        assert partner.slug == "qq-d001"

        # Partner prices lie inside the brand's band for the cloud store.
        rules = store.list_price_rules(PageParams(page_size=200), session=s).items
        band = {
            r.sku_id: (r.floor_fen, r.ceiling_fen)
            for r in rules
            if r.channel == "store" and not r.region_prefix
        }
        assert len(band) == 30
        listed = 0
        for front in fronts:
            if front.partner_type != "store":
                continue
            for item in store.list_assortment(front.id, session=s):
                if item.listed:
                    floor, ceiling = band[item.sku_id]
                    assert floor is not None
                    assert ceiling is not None
                    assert floor <= item.effective_price_fen <= ceiling
                    listed += 1
        assert listed >= stores
        assert {r.partner_type for r in store.list_commission_rules(PageParams(), session=s).items} == {
            t for t, *_ in COMMISSION_RULES
        }
        coupons = store.list_coupons(PageParams(), session=s).items
        assert {c.kind for c in coupons} == {"fixed", "percent", "threshold"}

        # Orders over the past weeks, through payment and fulfilment, some cancelled or refunded.
        orders = _all_orders(s)
        assert len(orders) == summary.store_orders
        statuses = Counter(o.status for o in orders)
        assert statuses["completed"] > len(orders) // 2
        assert statuses["cancelled"] >= 1
        assert statuses["refunded"] >= 1
        paid_days = {o.paid_at.date() for o in orders if o.paid_at is not None}
        assert len(paid_days) >= 10
        assert all(o.paid_fen == o.total_fen for o in orders if o.status == "completed")
        # The demo partner's distributor has orders to fulfil.
        to_fulfil = store.list_orders_for_org(session=s, org_id=partner_org.id).items
        open_orders = [o for o in to_fulfil if o.status in ("assigned", "shipped", "ready_for_pickup")]
        assert open_orders

        # Commissions: settled through the ledger, one refunded after settlement clawed back.
        totals = store.commission_totals(None, session=s)
        assert totals.settled_fen > 0
        assert totals.clawed_back_fen > 0
        with_commissions = {
            c.beneficiary_storefront_id
            for c in store.list_commissions(PageParams(page_size=200), session=s).items
        }
        balances = sum(
            store.partner_statement(fid, PageParams(page_size=1), session=s).balance_fen
            for fid in with_commissions
        )
        assert balances == totals.settled_fen
        mine = store.commission_totals([partner.id], session=s)
        assert mine.settled_fen > 0
        visits = store.visit_stats([partner.id], session=s)
        assert visits.visits > 0
        assert visits.bindings > 0

    with TestClient(app) as client:
        console_login(client, DEMO_PARTNER_EMAIL, DEMO_PASSWORD)
        page = client.get("/store/portal")
        assert page.status_code == 200, page.text
        assert f'id="portal-name">{partner.name}' in page.text
        assert 'id="portal-orders"' in page.text
        assert all(f'data-order="{o.id}"' in page.text for o in open_orders)
