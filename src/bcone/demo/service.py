"""Loading the demo brand through the domains' services (idempotent: an existing demo is kept)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuBulkIn
from bcone.core.auth import Role
from bcone.core.db import Database
from bcone.core.events import Event, append_events, flush_outbox
from bcone.core.settings import Settings
from bcone.core.tenancy import unscoped
from bcone.core.warehouse import open_warehouse
from bcone.demo.generator import DemoBrand, DemoOrganization, build_demo_brand
from bcone.iam import service as iam
from bcone.iam.errors import TenantNotFound
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn, StaffIn

DEMO_OWNER_EMAIL = "owner@demo.bcone.dev"
DEMO_PARTNER_EMAIL = "partner@demo.bcone.dev"
# A demo login, printed by `bcone demo`; real tenants choose their own passwords.
DEMO_PASSWORD = "bcone-demo-2026"
EVENT_CHUNK = 20_000

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


def load_demo(
    db: Database,
    settings: Settings,
    *,
    seed: int = 2026,
    scale: float = 1.0,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Create the demo tenant with its users, catalog, network and events, unless it exists."""
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
        _load_users(session, ids[brand.organizations[0].code])
    say(f"events: {len(brand.events)} orders, scans and visits")
    _load_events(db, tenant.id, brand, ids)
    with open_warehouse(settings) as warehouse:
        warehouse.ensure_schema()
        moved = flush_outbox(db, warehouse)
    say(f"warehouse: {moved.events} events flushed in {moved.seconds:.1f} s")
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


def _load_users(session: Session, partner_org_id: str) -> None:
    iam.create_user(
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
