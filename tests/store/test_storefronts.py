"""Storefronts, assortments and partner prices within the brand's price rules, share links and
customer binding, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update

from bcone.core.db import Database, utcnow
from bcone.core.errors import BconeError, NotFound
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn, StaffIn
from bcone.store import service
from bcone.store.errors import PriceOutsideRules, SlugTaken, StorefrontExists, UnknownSku
from bcone.store.models import CustomerBinding, StorefrontListing, StorefrontVisit
from bcone.store.schemas import ListingIn, PriceRuleIn, ShareLinkIn, StorefrontIn, StoreSettingsIn
from tests.store.storefront_helpers import World, make_world


@pytest.fixture
def world(db: Database, tenant: TenantOut) -> World:
    return make_world(db, tenant)


def test_a_storefront_per_partner_with_its_name_and_contact(db: Database, world: World) -> None:
    assert world.s_front.partner_type == "store"
    assert world.s_front.name == "联华超市"
    assert world.s_front.contact_name == "王店长"
    assert world.s_front.contact_phone == "13800000001"
    assert world.a_front.partner_type == "shop_assistant"
    assert world.a_front.org_id == world.store.id
    assert world.k_front.slug.startswith("s-")
    assert world.k_front.url == f"/s/{world.k_front.slug}"
    with db.session(tenant_id=world.tenant_id) as s:
        with pytest.raises(StorefrontExists) as exists:
            service.create_storefront(StorefrontIn(org_id=world.store.id), session=s)
        assert exists.value.field == "org_id"
        with pytest.raises(NotFound) as unknown:
            service.create_storefront(StorefrontIn(org_id="nope"), session=s)
        assert unknown.value.field == "org_id"
        rep = network.create_staff(
            StaffIn(kind="sales_rep", name="Rep", phone="13800000009", employee_code="R-1"), session=s
        )
        with pytest.raises(BconeError) as invalid:
            service.create_storefront(StorefrontIn(staff_id=rep.id), session=s)
        assert invalid.value.status == 422
        assert invalid.value.field == "staff_id"


def test_slugs_are_unique_across_tenants(db: Database, world: World, other_tenant: TenantOut) -> None:
    with db.session(tenant_id=other_tenant.id) as s:
        org = network.create_organization(
            OrganizationIn(kind="distributor", code="X", name="Other", division_code="110101"), session=s
        )
        with pytest.raises(SlugTaken) as taken:
            service.create_storefront(StorefrontIn(org_id=org.id, slug="lianhua-1"), session=s)
        assert taken.value.field == "slug"
    with db.session(tenant_id=other_tenant.id) as s:  # the other tenant sees none of acme's storefronts
        assert service.list_storefronts(PageParams(), session=s).total == 0
        with pytest.raises(NotFound):
            service.get_storefront(world.s_front.id, session=s)


def test_partner_prices_must_stay_within_the_brand_rules(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        service.create_price_rule(PriceRuleIn(sku_code="TEA-500", floor_fen=400, ceiling_fen=600), session=s)
        # Shanghai Huangpu may sell cheaper, but only on the cloud store
        service.create_price_rule(
            PriceRuleIn(
                sku_code="TEA-500", channel="store", region_prefix="3101", floor_fen=300, ceiling_fen=600
            ),
            session=s,
        )
    with db.session(tenant_id=world.tenant_id) as s:
        with pytest.raises(PriceOutsideRules) as low:
            service.set_listing(world.d_front.id, ListingIn(sku_code="TEA-500", price_fen=350), session=s)
        assert low.value.field == "price_fen"
        assert low.value.status == 422
        with pytest.raises(PriceOutsideRules):
            service.set_listing(world.s_front.id, ListingIn(sku_code="TEA-500", price_fen=650), session=s)
    with db.session(tenant_id=world.tenant_id) as s:  # nothing was written
        assert s.scalar(select(func.count()).select_from(StorefrontListing)) == 0
        listing = service.set_listing(
            world.s_front.id, ListingIn(sku_code="TEA-500", price_fen=350), session=s
        )
        assert listing.effective_price_fen == 350
        assert listing.listed
    with db.session(tenant_id=world.tenant_id) as s:
        # the store's own price; its shop assistant sells the store's assortment at the same price
        assert (
            service.resolve_price(session=s, storefront_id=world.s_front.id, sku="TEA-500", region="310101")
            == 350
        )
        assert (
            service.resolve_price(session=s, storefront_id=world.a_front.id, sku=world.tea.id, region=None)
            == 350
        )
        # the juice is not in the store's assortment; the distributor sells the whole catalog at list price
        with pytest.raises(UnknownSku) as not_sold:
            service.resolve_price(session=s, storefront_id=world.s_front.id, sku="JUICE-1L", region="310101")
        assert not_sold.value.field == "sku"
        assert (
            service.resolve_price(session=s, storefront_id=world.d_front.id, sku="JUICE-1L", region=None)
            == 1200
        )
        # a buyer outside Huangpu falls under the nationwide band, which 350 breaks
        with pytest.raises(PriceOutsideRules) as outside:
            service.resolve_price(session=s, storefront_id=world.s_front.id, sku="TEA-500", region="110101")
        assert outside.value.field == "price"
        # so does a platform channel in Huangpu (the district rule is for the cloud store only)
        with pytest.raises(PriceOutsideRules):
            service.resolve_price(
                session=s, storefront_id=world.s_front.id, sku="TEA-500", region="310101", channel="tmall"
            )


def test_share_link_binds_the_first_sharer_until_the_binding_expires(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        by_assistant = service.create_share_link(
            ShareLinkIn(storefront_id=world.s_front.id, sharer_storefront_id=world.a_front.id), session=s
        )
        by_koc = service.create_share_link(
            ShareLinkIn(storefront_id=world.s_front.id, sharer_storefront_id=world.k_front.id), session=s
        )
        again = service.create_share_link(
            ShareLinkIn(storefront_id=world.s_front.id, sharer_storefront_id=world.a_front.id), session=s
        )
        assert again.token == by_assistant.token
        assert by_assistant.url == f"/s/lianhua-1?share={by_assistant.token}"
    with db.session(tenant_id=world.tenant_id) as s:
        first = service.attribute_visit(session=s, share_token=by_assistant.token, consumer_key="o-alice")
        assert first.created
        assert first.sharer_storefront_id == world.a_front.id
        assert first.sharer_name == "小李"
        assert (first.expires_at - first.bound_at) == timedelta(days=30)
    with db.session(tenant_id=world.tenant_id) as s:
        second = service.attribute_visit(session=s, share_token=by_koc.token, consumer_key="o-alice")
        assert not second.created
        assert second.sharer_storefront_id == world.a_front.id
        events = s.execute(
            text("SELECT properties, org_id FROM outbox WHERE type = 'share.clicked' ORDER BY seq")
        ).all()
        assert len(events) == 2
        props = json.loads(events[0][0])
        assert props == {"content_id": world.s_front.id, "shared_by": world.a_front.id, "channel": "wechat"}
        assert events[0][1] == world.store.id
        # the binding expires: the next sharer's link takes the consumer over
        s.execute(update(CustomerBinding).values(expires_at=utcnow() - timedelta(seconds=1)))
        assert service.current_binding(session=s, consumer_key="o-alice") is None
        service.update_store_settings(StoreSettingsIn(binding_days=7, return_window_days=7), session=s)
        third = service.attribute_visit(session=s, share_token=by_koc.token, consumer_key="o-alice")
        assert third.created
        assert third.sharer_storefront_id == world.k_front.id
        assert third.expires_at - third.bound_at == timedelta(days=7)
        current = service.current_binding(session=s, consumer_key="o-alice")
        assert current is not None
        assert current.sharer_storefront_id == world.k_front.id
        assert s.scalar(select(func.count()).select_from(StorefrontVisit)) == 3


def test_concurrent_first_visits_bind_exactly_one_sharer(db: Database, world: World) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        tokens = [
            service.create_share_link(
                ShareLinkIn(storefront_id=world.s_front.id, sharer_storefront_id=front.id), session=s
            ).token
            for front in (world.a_front, world.k_front, world.s_front, world.d_front)
        ]
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def visit(token: str) -> None:
        try:
            barrier.wait()
            with db.session(tenant_id=world.tenant_id) as s:
                results.append(
                    service.attribute_visit(
                        session=s, share_token=token, consumer_key="o-bob"
                    ).sharer_storefront_id
                )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=visit, args=(tokens[i % 4],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 8
    assert len(set(results)) == 1
    with db.session(tenant_id=world.tenant_id) as s:
        assert s.scalar(select(func.count()).select_from(CustomerBinding)) == 1
        assert s.scalar(select(func.count()).select_from(StorefrontVisit)) == 8


def test_storefront_api_and_bad_input(db: Database, world: World, owner_client: TestClient) -> None:
    r = owner_client.get("/api/v1/store/storefronts", params={"q": "联华"})
    assert r.status_code == 200
    assert [f["slug"] for f in r.json()["items"]] == ["lianhua-1"]
    r = owner_client.get("/api/v1/store/storefronts", params={"partner_type": "koc"})
    assert r.json()["total"] == 1
    r = owner_client.post(
        "/api/v1/store/price-rules", json={"sku_code": "TEA-500", "floor_fen": 600, "ceiling_fen": 400}
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    r = owner_client.post("/api/v1/store/price-rules", json={"sku_code": "NOPE", "floor_fen": 100})
    assert r.status_code == 422
    assert r.json()["field"] == "sku_code"
    r = owner_client.post(
        "/api/v1/store/price-rules", json={"sku_code": "TEA-500", "region_prefix": "3", "floor_fen": 1}
    )
    assert r.status_code == 422
    assert r.json()["field"] == "region_prefix"
    r = owner_client.post(
        "/api/v1/store/price-rules", json={"sku_code": "TEA-500", "floor_fen": 400, "ceiling_fen": 600}
    )
    assert r.status_code == 201
    r = owner_client.put(
        f"/api/v1/store/storefronts/{world.s_front.id}/assortment",
        json={"sku_code": "TEA-500", "price_fen": 999},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "price_outside_rules"
    assert r.json()["field"] == "price_fen"
    r = owner_client.put(
        f"/api/v1/store/storefronts/{world.s_front.id}/assortment",
        json={"sku_code": "TEA-500", "price_fen": -1},
    )
    assert r.status_code == 422
    assert r.json()["field"] == "price_fen"
    r = owner_client.put(
        f"/api/v1/store/storefronts/{world.s_front.id}/assortment",
        json={"sku_code": "TEA-500", "price_fen": 450},
    )
    assert r.status_code == 200
    assert r.json()["effective_price_fen"] == 450
    r = owner_client.post("/api/v1/store/storefronts", json={"org_id": "missing"})
    assert r.status_code == 404
    assert r.json()["field"] == "org_id"
    r = owner_client.post(
        "/api/v1/store/storefronts", json={"org_id": world.store.id, "staff_id": world.koc.id}
    )
    assert r.status_code == 422
    r = owner_client.patch(f"/api/v1/store/storefronts/{world.s_front.id}", json={"slug": "Bad Slug"})
    assert r.status_code == 422
    assert r.json()["field"] == "slug"
    r = owner_client.post(
        "/api/v1/store/share-links",
        json={"storefront_id": world.s_front.id, "sharer_storefront_id": world.a_front.id},
    )
    assert r.status_code == 201
    assert r.json()["sharer_name"] == "小李"


def test_partner_sees_only_its_subtree(db: Database, world: World, app: object, auth_headers: object) -> None:
    headers = auth_headers("partner", org_id=world.store.id)  # type: ignore[operator]
    with TestClient(app, headers=headers) as c:  # type: ignore[arg-type]
        r = c.get("/api/v1/store/storefronts")
        assert sorted(f["slug"] for f in r.json()["items"]) == sorted(
            [world.s_front.slug, world.a_front.slug, world.k_front.slug]
        )
        assert c.get(f"/api/v1/store/storefronts/{world.d_front.id}").status_code == 404
        assert c.get("/api/v1/store/price-rules").status_code == 403


def test_public_storefront_page_attributes_the_share_and_sets_the_consumer(
    db: Database, world: World, client: TestClient
) -> None:
    with db.session(tenant_id=world.tenant_id) as s:
        link = service.create_share_link(
            ShareLinkIn(storefront_id=world.s_front.id, sharer_storefront_id=world.a_front.id), session=s
        )
        service.set_listing(world.s_front.id, ListingIn(sku_code="TEA-500", price_fen=450), session=s)
    r = client.get(link.url)
    assert r.status_code == 200
    assert "联华超市" in r.text
    assert "小李" in r.text
    assert "¥4.50" in r.text
    assert f"/s/lianhua-1/buy?sku={world.tea.id}" in r.text
    consumer = client.cookies.get("openid")
    assert consumer
    with db.session(tenant_id=world.tenant_id) as s:
        binding = service.current_binding(session=s, consumer_key=consumer)
        assert binding is not None
        assert binding.sharer_storefront_id == world.a_front.id
    r = client.get("/s/lianhua-1", params={"share": "forged"})  # an unknown token: a plain visit
    assert r.status_code == 200
    assert client.get("/s/nobody").status_code == 404
    svg = client.get(f"/s/lianhua-1/poster.svg?share={link.token}")
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "联华超市" in svg.text
    assert "<path" in svg.text
    png = client.get(f"/s/lianhua-1/poster.png?share={link.token}")
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")
