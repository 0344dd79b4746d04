"""The demo brand: deterministic, believable, loaded through the services, idempotent."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcone.catalog import service as catalog
from bcone.cli import app as bcone_app
from bcone.codes import service as codes
from bcone.core import geo
from bcone.core.db import Database
from bcone.core.gs1 import is_valid_gtin
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings, get_settings
from bcone.core.tenancy import unscoped
from bcone.core.warehouse import open_warehouse
from bcone.crm import service as crm
from bcone.demo.generator import CASE_SIZE, DISTRIBUTORS, build_demo_brand
from bcone.demo.service import CRM_CLOSED, CRM_OPEN, DEMO_OWNER_EMAIL, DEMO_PASSWORD, load_demo
from bcone.iam import service as iam
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec
from bcone.network import service as network
from bcone.promotions import service as promotions

TODAY = date(2026, 2, 1)


def test_the_same_seed_gives_the_same_brand_and_another_seed_another() -> None:
    one = build_demo_brand(seed=7, today=TODAY)
    two = build_demo_brand(seed=7, today=TODAY)
    other = build_demo_brand(seed=8, today=TODAY)
    assert [asdict(o) for o in one.organizations] == [asdict(o) for o in two.organizations]
    assert [asdict(e) for e in one.events] == [asdict(e) for e in two.events]
    assert asdict(one.codes) == asdict(two.codes)
    assert asdict(one.codes) != asdict(other.codes)
    assert [o.name for o in one.organizations] != [o.name for o in other.organizations]


def test_the_brand_is_believable() -> None:
    brand = build_demo_brand(seed=2026, today=TODAY)
    kinds = Counter(o.kind for o in brand.organizations)
    assert kinds["distributor"] == len(DISTRIBUTORS) == 20
    assert kinds["store"] == 2000
    assert Counter(s.kind for s in brand.staff)["sales_rep"] == 50
    assert len(brand.skus) == 30
    assert all(is_valid_gtin(s.gtin) for s in brand.skus)
    assert len({s.gtin for s in brand.skus}) == 30
    by_code = {o.code: o for o in brand.organizations}
    provinces = {
        geo.province_of(o.division_code).code for o in brand.organizations if o.kind == "distributor"
    }  # type: ignore[union-attr]
    assert len(provinces) >= 18  # spread across the country
    for store in (o for o in brand.organizations if o.kind == "store"):
        division = geo.get_division(store.division_code)
        assert division is not None
        assert geo.distance_km(store.lng, store.lat, division.lng, division.lat) < 25
        parent = by_code[str(store.parent_code)]
        distributor = parent if parent.kind == "distributor" else by_code[str(parent.parent_code)]
        # Every store lies inside its distributor's sales regions.
        assert any(geo.contains(region, store.division_code) for region in distributor.sales_regions)
    assert {e.type for e in brand.events} == {"order.paid", "code.scanned", "store.visited"}
    plan = brand.codes
    assert len(plan.batches) == 3
    assert 200 <= len(plan.scans) <= 500
    assert {b.sku_code for b in plan.batches} <= {s.sku_code for s in brand.skus}
    for ship in plan.shipments:
        batch = plan.batches[ship.batch]
        assert by_code[ship.distributor_code].kind == "distributor"
        assert set(by_code[ship.distributor_code].sales_regions) <= set(batch.regions)
        assert max(ship.cases) < batch.commissioned_cases <= batch.cases
    for scan in plan.scans:
        assert scan.unit < plan.batches[scan.batch].commissioned_cases * CASE_SIZE
        assert scan.openid.startswith("dev-openid-")
    located = [s for s in plan.scans if s.lat is not None or s.region is not None]
    assert len(plan.scans) // 2 < len(located) < len(plan.scans)
    assert 5 <= sum(s.out_of_region for s in plan.scans) <= len(plan.scans) // 5


def test_scale_grows_and_shrinks_the_network() -> None:
    small = build_demo_brand(seed=1, scale=0.1, today=TODAY)
    assert Counter(o.kind for o in small.organizations)["store"] == 200
    with pytest.raises(ValueError, match="scale"):
        build_demo_brand(scale=0)


def test_load_demo_through_the_services_once(db: Database, tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path / "data")
    summary = load_demo(db, settings, seed=3, scale=0.05, today=TODAY)
    brand = build_demo_brand(seed=3, scale=0.05, today=TODAY)
    assert summary.created
    assert (summary.organizations, summary.skus, summary.events) == (
        len(brand.organizations),
        30,
        len(brand.events),
    )
    with db.session() as session:
        tenant = iam.get_tenant_by_slug("demo", session=unscoped(session))
        owner = iam.authenticate_password(session=session, email=DEMO_OWNER_EMAIL, password=DEMO_PASSWORD)
    assert owner.role == "owner"
    with db.session(tenant_id=tenant.id) as session:
        orgs = network.list_organizations(PageParams(page_size=1), session=session)
        skus = catalog.list_skus(PageParams(page_size=1), session=session)
    assert (orgs.total, skus.total) == (len(brand.organizations), 30)
    with open_warehouse(settings) as wh:
        stored = wh.query("SELECT count(*) FROM events").rows[0][0]
    # The generated history, plus what the scans recorded (checks, rewards, diversion alerts).
    assert stored >= len(brand.events) + len(brand.codes.scans)
    assert summary.batches == 6
    assert summary.scans == len(brand.codes.scans)
    with db.session(tenant_id=tenant.id) as session:
        batches = codes.list_batches(PageParams(page_size=50), session=session).items
        assert {b.sku_code for b in batches} == {b.sku_code for b in brand.codes.batches}
        assert {b.level for b in batches} == {"unit", "case"}
        assert codes.recent_events(session=session, limit=1)
        # A running campaign, funded through the ledger, that has paid rewards out of its budget.
        campaign = promotions.get_campaign(str(summary.campaign_id), session=session)
        assert campaign.status == "active"
        assert campaign.funded_fen == campaign.budget_fen > 0
        figures = promotions.figures(campaign.id, session=session)
        assert figures.scans == len(brand.codes.scans)
        assert figures.winners > 0
        assert figures.spent_fen > 0
        budget = ledger.find_account(
            AccountSpec(kind="campaign_budget", unit="fen", owner_type="campaign", owner_id=campaign.id),
            session=session,
        )
        assert budget is not None
        assert budget.balance == campaign.funded_fen - figures.spent_fen - figures.rebates_fen
        wallets = {(k.kind, k.unit): k for k in ledger.balances_by_kind(session=session)}
        assert wallets["consumer_wallet", "fen"].balance == figures.spent_fen
        # Scans far outside the distributors' sales regions raised diversion (窜货) alerts.
        alerts = codes.list_alerts(session=session)
        assert summary.alerts == len(alerts) >= sum(s.out_of_region for s in brand.codes.scans) > 0
        # A CRM pipeline owned by the demo owner, with a trained win-rate model.
        opportunities = crm.list_opportunities(
            PageParams(page_size=1), session=session, viewer=crm.Viewer.system(), with_probability=False
        )
        assert opportunities.total == summary.opportunities == CRM_CLOSED + CRM_OPEN
        assert crm.model_status(session=session).source == "model"
    again = load_demo(db, settings, seed=3, scale=0.05, today=TODAY)
    assert not again.created
    with db.session(tenant_id=tenant.id) as session:
        assert network.list_organizations(PageParams(page_size=1), session=session).total == orgs.total


def test_bcone_demo_command_prints_the_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BCONE_DATA_DIR", str(tmp_path / "bcone-data"))
    monkeypatch.delenv("BCONE_DATABASE_URL", raising=False)
    monkeypatch.delenv("BCONE_WAREHOUSE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(bcone_app, ["demo", "--no-serve", "--scale", "0.02", "--seed", "5"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert DEMO_OWNER_EMAIL in result.output
    assert DEMO_PASSWORD in result.output
    assert (tmp_path / "bcone-data" / "bcone.db").exists()
    assert (tmp_path / "bcone-data" / "warehouse.duckdb").exists()
