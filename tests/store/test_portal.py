"""The partner portal and the console's store pages, rendered for real users on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.core.db import Database, utcnow
from bcone.iam.schemas import TenantOut
from bcone.store import service
from bcone.store.schemas import CommissionRuleIn, OrderForCommission, OrderLineForCommission, ShareLinkIn
from tests.store.storefront_helpers import World, make_world


@pytest.fixture
def world(db: Database, tenant: TenantOut) -> World:
    w = make_world(db, tenant)
    with db.session(tenant_id=w.tenant_id) as s:
        service.create_commission_rule(CommissionRuleIn(level1_bp=1000, level2_bp=200), session=s)
        link = service.create_share_link(
            ShareLinkIn(storefront_id=w.s_front.id, sharer_storefront_id=w.a_front.id), session=s
        )
        service.attribute_visit(session=s, share_token=link.token, consumer_key="o-dan")
        service.accrue_commissions(
            session=s,
            order=OrderForCommission(
                order_id="ORD-P1",
                consumer_key="o-dan",
                storefront_id=w.s_front.id,
                lines=[OrderLineForCommission(sku="TEA-500", quantity=2, paid_fen=1000)],
                paid_at=utcnow(),
            ),
        )
    return w


def test_partner_portal_shows_visits_commissions_and_leaderboard(
    db: Database,
    world: World,
    app: FastAPI,
    make_user: Callable[..., object],
    console_login: Callable[..., str],
) -> None:
    user = make_user("partner", org_id=world.store.id)
    with TestClient(app) as c:
        console_login(c, user.email)  # type: ignore[attr-defined]
        page = c.get("/store/portal")
        assert page.status_code == 200
        assert 'id="portal-name">联华超市' in page.text
        assert "¥0.20" in page.text  # the store's level-2 commission on ¥10.00, pending
        assert 'data-status="pending"' in page.text
        assert "小李" in page.text  # the shop assistant leads the leaderboard
        # a partner does not reach the brand's console pages, nor another partner's storefront
        assert c.get("/store/price-rules").status_code == 403
        assert c.get(f"/store/portal?storefront_id={world.d_front.id}").status_code == 404
    with db.session(tenant_id=world.tenant_id) as s:
        service.mark_order_completed(session=s, order_id="ORD-P1", completed_at=utcnow() - timedelta(days=8))
        assert service.settle_due_commissions(session=s) == 2
    with TestClient(app) as c:
        console_login(c, user.email)  # type: ignore[attr-defined]
        page = c.get("/store/portal")
        assert 'data-status="settled"' in page.text
        assert 'id="portal-balance">¥0.20' in page.text


def test_console_pages_render_and_validate(
    db: Database,
    world: World,
    app: FastAPI,
    make_user: Callable[..., object],
    console_login: Callable[..., str],
) -> None:
    owner = make_user("owner")
    with TestClient(app) as c:
        token = console_login(c, owner.email)  # type: ignore[attr-defined]
        for path in (
            "/store/storefronts",
            "/store/price-rules",
            "/store/commission-rules",
            "/store/settlements",
            "/store/sharers",
        ):
            r = c.get(path)
            assert r.status_code == 200, path
        r = c.get("/store/storefronts", params={"q": "no such"})
        assert "没有符合条件的云店" in r.text
        r = c.get(f"/store/storefronts/{world.s_front.id}")
        assert r.status_code == 200
        assert "TEA-500" in r.text
        r = c.post(
            "/store/price-rules",
            data={"csrf_token": token, "sku_code": "TEA-500", "floor_fen": "900", "ceiling_fen": "100"},
        )
        assert r.status_code == 422
        r = c.post(
            "/store/price-rules",
            data={"csrf_token": token, "sku_code": "TEA-500", "floor_fen": "400", "ceiling_fen": "600"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        r = c.post(
            f"/store/storefronts/{world.s_front.id}/listings",
            data={"csrf_token": token, "sku_code": "TEA-500", "price_fen": "700"},
        )
        assert r.status_code == 422
        assert "field-error" in r.text
        r = c.post(
            "/store/commission-rules", data={"csrf_token": token, "level1_bp": "20000", "category": "茶饮"}
        )
        assert r.status_code == 422
        r = c.post("/store/storefronts", data={"csrf_token": token, "partner_kind": "org", "partner": "NOPE"})
        assert r.status_code == 422
        r = c.post(
            "/store/settlements/settings",
            data={"csrf_token": token, "binding_days": "15", "return_window_days": "0"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        with db.session(tenant_id=world.tenant_id) as s:
            service.mark_order_completed(session=s, order_id="ORD-P1", completed_at=utcnow())
        r = c.post("/store/settlements/settle", data={"csrf_token": token})
        assert r.status_code == 200
        assert "已结算 2 笔佣金" in r.text or "Settled 2 commissions" in r.text
