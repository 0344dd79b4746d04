"""Loading the demo brand through the domains' services (idempotent: an existing demo is kept)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from bcone.analytics import service as analytics
from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuBulkIn
from bcone.codes import service as codes
from bcone.codes.schemas import BatchIn, Location
from bcone.core.auth import Role
from bcone.core.db import Database
from bcone.core.events import Event, append_events, flush_outbox
from bcone.core.settings import Settings
from bcone.core.tenancy import unscoped
from bcone.core.warehouse import open_warehouse
from bcone.demo import _scale
from bcone.demo._crm import CRM_CLOSED as CRM_CLOSED
from bcone.demo._crm import CRM_OPEN as CRM_OPEN
from bcone.demo._crm import load_crm
from bcone.demo._store import load_store
from bcone.demo.generator import CASE_SIZE, DemoBrand, DemoOrganization, build_demo_brand
from bcone.iam import service as iam
from bcone.iam.errors import TenantNotFound
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn, StaffIn
from bcone.promotions import service as promotions
from bcone.promotions.schemas import CampaignIn, PrizeTier

DEMO_OWNER_EMAIL = "owner@demo.bcone.dev"
DEMO_PARTNER_EMAIL = "partner@demo.bcone.dev"
# A demo login, printed by `bcone demo`; real tenants choose their own passwords.
DEMO_PASSWORD = "bcone-demo-2026"
EVENT_CHUNK = 20_000
CAMPAIGN_NAME = "开盖扫码赢红包"
# The CRM (pipeline sizes CRM_CLOSED, CRM_OPEN, the sales team, tiers, bonuses, visits): demo/_crm.py

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoSummary:
    """What ``load_demo`` created (or found), and how to log in."""

    tenant_slug: str
    tenant_name: str
    owner_email: str
    partner_email: str
    password: str
    created: bool
    organizations: int
    staff: int
    skus: int
    events: int
    seconds: float
    batches: int = 0
    scans: int = 0
    alerts: int = 0
    opportunities: int = 0
    campaign_id: str | None = None
    storefronts: int = 0
    store_orders: int = 0


def load_demo(
    db: Database,
    settings: Settings,
    *,
    seed: int = 2026,
    scale: float = 1.0,
    today: date | None = None,
    progress: Progress | None = None,
    history_consumers: int | None = None,
) -> DemoSummary:
    """Create the demo tenant, unless it exists: users, catalog, network and events, then unit
    codes (packed and shipped), a running scan campaign with a history of scans (rewards and
    diversion alerts) and a CRM pipeline with its win-rate model.

    The plan is seeded; what the services draw themselves (code keys, the campaign's prize draw
    with ``secrets``) differs from one load to the next.
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    brand = build_demo_brand(seed=seed, scale=scale, today=today)
    with db.session() as session:
        unscoped(session)
        try:
            tenant = iam.get_tenant_by_slug(brand.slug, session=session)
            existing = True
        except TenantNotFound:
            tenant = iam.create_tenant(session=session, slug=brand.slug, name=brand.name)
            existing = False
    if existing:
        say(f"demo tenant '{brand.slug}' already exists: kept as it is")
        return DemoSummary(
            brand.slug,
            tenant.name,
            DEMO_OWNER_EMAIL,
            DEMO_PARTNER_EMAIL,
            DEMO_PASSWORD,
            False,
            0,
            0,
            0,
            0,
            time.perf_counter() - started,
        )
    with db.session(tenant_id=tenant.id) as session:
        say(f"catalog: {len(brand.skus)} SKUs")
        _load_catalog(session, brand)
        say(f"network: {len(brand.organizations)} organisations, {len(brand.staff)} staff")
        network.create_organizations_bulk([_org_in(o) for o in brand.organizations], session=session)
        ids = network.organization_ids_by_code([o.code for o in brand.organizations], session=session)
        network.create_staff_bulk(_staff_in(brand), session=session)
        owner_id = _load_users(session, ids[brand.organizations[0].code])
    say(f"events: {len(brand.events)} orders, scans and visits")
    _load_events(db, tenant.id, brand, ids)
    plan = brand.codes
    say(
        f"codes: {len(plan.batches)} batches, {len(plan.shipments)} shipments, "
        f"scan campaign with {len(plan.scans)} scans"
    )
    step = time.perf_counter()
    serials, campaign_id = _load_codes(db, settings, tenant.id, brand, ids)
    alerts = _load_scans(db, settings, tenant.id, brand, ids, serials)
    say(f"codes: {alerts} diversion alerts, loaded in {time.perf_counter() - step:.1f} s")
    step = time.perf_counter()
    opportunities = load_crm(db, tenant.id, seed, owner_id, brand, ids)
    say(f"crm: {opportunities} opportunities and the win model in {time.perf_counter() - step:.1f} s")
    cloud = load_store(db, settings, tenant.id, brand, ids, seed=seed, scale=scale, today=today)
    say(
        f"cloud stores: {cloud.storefronts} storefronts, {cloud.visits} visits, {cloud.orders} orders "
        f"({cloud.open_orders} to fulfil), {cloud.commissions_settled} commissions settled "
        f"in {cloud.seconds:.1f} s"
    )
    step = time.perf_counter()
    consumers = round(_scale.HISTORY_CONSUMERS * scale) if history_consumers is None else history_consumers
    if consumers > 0:
        end = today or datetime.now(UTC).astimezone(_scale.LOCAL).date()
        history = _scale.plan_for_brand(tenant.id, brand, ids, consumers=consumers, end=end, seed=seed)
        added = _scale.load_history(db, settings, history)
        say(f"history: {consumers:,} consumers, {added:,} events in {time.perf_counter() - step:.1f} s")
    with open_warehouse(settings) as warehouse:
        warehouse.ensure_schema()
        moved = flush_outbox(db, warehouse)
        summarised = analytics.refresh_summaries(warehouse, tenant.id, force=True)
    say(f"warehouse: {moved.events} events flushed in {moved.seconds:.1f} s")
    say(f"analytics summaries refreshed in {sum(r.seconds for r in summarised):.1f} s")
    return DemoSummary(
        brand.slug,
        brand.name,
        DEMO_OWNER_EMAIL,
        DEMO_PARTNER_EMAIL,
        DEMO_PASSWORD,
        True,
        len(brand.organizations),
        len(brand.staff),
        len(brand.skus),
        len(brand.events),
        time.perf_counter() - started,
        batches=2 * len(plan.batches),
        scans=len(plan.scans),
        alerts=alerts,
        opportunities=opportunities,
        campaign_id=campaign_id,
        storefronts=cloud.storefronts,
        store_orders=cloud.orders,
    )


def _load_catalog(session: Session, brand: DemoBrand) -> None:
    catalog.create_skus_bulk(
        [
            SkuBulkIn(
                product_name=s.product_name,
                line=s.line,
                sku_code=s.sku_code,
                gtin=s.gtin,
                name=s.name,
                specification=s.specification,
                unit=s.unit,
                list_price_fen=s.list_price_fen,
            )
            for s in brand.skus
        ],
        session=session,
    )


def _org_in(o: DemoOrganization) -> OrganizationIn:
    return OrganizationIn(
        kind=o.kind,
        code=o.code,
        name=o.name,
        parent_code=o.parent_code,
        division_code=o.division_code,
        address=o.address,
        lng=o.lng,
        lat=o.lat,
        sales_regions=list(o.sales_regions),
        contact_name=o.contact_name,
        contact_phone=o.contact_phone,
    )


def _staff_in(brand: DemoBrand) -> list[StaffIn]:
    """Staff records; each sales rep covers the stores of its distributor, split among its reps."""
    distributor_of: dict[str, str] = {}
    parent = {o.code: o.parent_code for o in brand.organizations}
    for o in brand.organizations:
        if o.kind == "store":
            up = o.parent_code or ""
            distributor_of[o.code] = up if parent.get(up) is None else str(parent[up])
    reps_by_distributor: dict[str, list[int]] = {}
    for index, person in enumerate(brand.staff):
        if person.kind == "sales_rep" and person.org_code:
            reps_by_distributor.setdefault(person.org_code, []).append(index)
    assigned: dict[int, list[str]] = {}
    for store, distributor in sorted(distributor_of.items()):
        reps = reps_by_distributor.get(distributor, [])
        if reps:
            # Deterministic round-robin by store number, so the same seed gives the same routes.
            assigned.setdefault(reps[int(store[1:]) % len(reps)], []).append(store)
    return [
        StaffIn(
            kind=p.kind,
            name=p.name,
            phone=p.phone,
            employee_code=p.employee_code,
            # Sales reps belong to the brand: no organisation, but a distributor and its stores to cover.
            org_code=None if p.kind == "sales_rep" else p.org_code,
            assigned_org_codes=[str(p.org_code), *assigned.get(i, [])] if p.kind == "sales_rep" else [],
        )
        for i, p in enumerate(brand.staff)
    ]


def _load_users(session: Session, partner_org_id: str) -> str:
    owner = iam.create_user(
        session=session,
        email=DEMO_OWNER_EMAIL,
        display_name="演示品牌负责人",
        password=DEMO_PASSWORD,
        role=Role.owner,
    )
    iam.create_user(
        session=session,
        email=DEMO_PARTNER_EMAIL,
        display_name="北京经销商",
        password=DEMO_PASSWORD,
        role=Role.partner,
        org_id=partner_org_id,
    )
    return owner.id


def _load_events(db: Database, tenant_id: str, brand: DemoBrand, ids: dict[str, str]) -> None:
    sku_codes = {s.sku_code for s in brand.skus}
    for start in range(0, len(brand.events), EVENT_CHUNK):
        chunk = brand.events[start : start + EVENT_CHUNK]
        events = [
            Event(
                tenant_id=tenant_id,
                ts=e.ts,
                type=e.type,
                profile_id=e.profile_key,
                org_id=ids.get(e.org_code or ""),
                sku=e.sku_code if e.sku_code in sku_codes else None,
                region=e.region,
                amount=e.amount_fen,
                properties=dict(e.properties),
            )
            for e in chunk
        ]
        with db.session(tenant_id=tenant_id) as session:
            append_events(session, events)


def _serials(session: Session, settings: Settings, batch_id: str, count: int) -> list[str]:
    urls = codes.sample_urls(batch_id, count, session=session, secret_key=settings.secret_key)
    return [codes.parse_digital_link(url).serial for url in urls]


def _load_codes(
    db: Database, settings: Settings, tenant_id: str, brand: DemoBrand, ids: dict[str, str]
) -> tuple[list[list[str]], str]:
    """Batches of unit and case codes, commissioned, packed, shipped and received; the campaign.

    Answers each batch's commissioned unit serials and the campaign id.
    """
    key = settings.secret_key
    plan = brand.codes
    units: list[list[str]] = []
    cases: list[list[str]] = []
    sku_ids: list[str] = []
    with db.session(tenant_id=tenant_id) as session:
        for b in plan.batches:
            common = {
                "sku_code": b.sku_code,
                "lot": b.lot,
                "production_date": b.production_date,
                "expiry_date": b.expiry_date,
                "regions": list(b.regions),
            }
            unit_batch = codes.create_batch(
                BatchIn(count=b.cases * CASE_SIZE, level="unit", **common), session=session, secret_key=key
            )
            case_batch = codes.create_batch(
                BatchIn(count=b.cases, level="case", **common), session=session, secret_key=key
            )
            sku_ids.append(unit_batch.sku_id)
            # Printed codes beyond the commissioned ones stay unused, as on a real packing line.
            n_units = b.commissioned_cases * CASE_SIZE
            codes.commission_range(unit_batch.id, 0, n_units, session=session, secret_key=key)
            codes.commission_range(case_batch.id, 0, b.commissioned_cases, session=session, secret_key=key)
            unit_serials = _serials(session, settings, unit_batch.id, n_units)
            case_serials = _serials(session, settings, case_batch.id, b.commissioned_cases)
            codes.aggregate_many(
                [
                    (case, unit_serials[i * CASE_SIZE : (i + 1) * CASE_SIZE])
                    for i, case in enumerate(case_serials)
                ],
                session=session,
                secret_key=key,
            )
            units.append(unit_serials)
            cases.append(case_serials)
        for ship in plan.shipments:
            distributor = ids[ship.distributor_code]
            shipped = [cases[ship.batch][c] for c in ship.cases]
            codes.ship(shipped, distributor, session=session, secret_key=key)
            codes.receive(shipped, distributor, session=session, secret_key=key)
            if ship.store_code and ship.forwarded:
                store = ids[ship.store_code]
                forwarded = [cases[ship.batch][c] for c in ship.forwarded]
                codes.ship(forwarded, store, session=session, secret_key=key)
                codes.receive(forwarded, store, session=session, secret_key=key)
                for case in forwarded:
                    codes.open_case(case, store, session=session, secret_key=key)
        now = datetime.now(UTC).replace(microsecond=0)
        campaign = promotions.create_campaign(
            CampaignIn(
                name=CAMPAIGN_NAME,
                sku_ids=sku_ids,
                starts_at=now - timedelta(days=14),
                ends_at=now + timedelta(days=76),
                prizes=[
                    PrizeTier(
                        kind="random_red_packet", probability=0.3, name="随机红包", min_fen=88, max_fen=888
                    ),
                    PrizeTier(kind="red_packet", probability=0.02, name="大红包", amount_fen=8_800),
                    PrizeTier(kind="points", probability=0.3, name="积分", points=50),
                    PrizeTier(kind="coupon", probability=0.08, name="再来一瓶", coupon_code="QQ-AGAIN"),
                ],
                budget_fen=500_000,
                budget_points=200_000,
                daily_fen=100_000,
                per_consumer_limit=5,
                per_store_limit=100,
                store_rebate_fen=20,
                rate_limit_scans=30,
            ),
            session=session,
        )
        # Activating funds the budgets from the tenant's funding accounts through the ledger.
        promotions.change_status(campaign.id, "activate", session=session)
    return units, campaign.id


def _load_scans(
    db: Database,
    settings: Settings,
    tenant_id: str,
    brand: DemoBrand,
    ids: dict[str, str],
    units: list[list[str]],
) -> int:
    """Consumer scans, each as the scan page does it: one unit of work (bound to no tenant: the
    code names it), ``check_code`` then the scan listeners (the campaign's reward). Answers the
    number of diversion alerts the scans raised."""
    plan = brand.codes
    for scan in plan.scans:
        batch = plan.batches[scan.batch]
        if scan.lat is not None:
            location = Location(lat=scan.lat, lng=scan.lng)
        else:
            location = Location(region=scan.region)
        context = {"openid": scan.openid, "device": scan.device, "locale": "zh-CN"}
        if scan.store_code:
            context["store_id"] = ids[scan.store_code]
        with db.session(write=True) as session:
            result = codes.check_code(
                batch.gtin,
                units[scan.batch][scan.unit],
                location,
                session=session,
                secret_key=settings.secret_key,
            )
            codes.notify_scan_listeners(result, context, session=session)
    with db.session(tenant_id=tenant_id, write=False) as session:
        return len(codes.list_alerts(session=session, limit=len(plan.scans)))
