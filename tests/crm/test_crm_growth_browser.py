"""Tiers and growth tasks, leads, visit plans with check-in, bonus statements and the
opportunity's edit forms in a real browser (Chromium through Playwright), as a sales rep.
Screenshots go to ``test-results/``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bcone.app import create_app
from bcone.core.db import Database
from bcone.core.settings import Settings
from bcone.crm import service
from bcone.crm.schemas import AccountIn, AssessmentIn, OpportunityIn, SalesTeamIn, TeamMemberIn, VisitPlanIn
from bcone.iam import service as iam
from bcone.models import metadata
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.browser_support import RESULTS, chromium, live_server, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "browser test password"
REP = "rep@acme.example"
STORES = [
    ("S-1", "黄浦一店", 121.4750, 31.2300, "A"),
    ("S-2", "黄浦二店", 121.4900, 31.2350, "B"),
    ("S-3", "静安店", 121.4480, 31.2290, "C"),
]

NEXT_MONTH = (date.today().replace(day=1) + timedelta(days=32)).replace(day=1)

require_chromium()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data = tmp_path_factory.mktemp("crm-growth-browser")
    settings = Settings(environment="test", data_dir=data, database_url=f"sqlite:///{data}/bcone.db")
    db = Database(settings.effective_database_url)
    metadata.create_all(db.engine)
    with db.session() as s:
        tenant = iam.create_tenant(session=s, slug="acme", name="Acme Foods")
    with db.session(tenant_id=tenant.id) as s:
        rep = iam.create_user(session=s, email=REP, display_name="李明", password=PASSWORD, role="sales_rep")
        sr = iam.create_user(
            session=s, email="sr@acme.example", display_name="赵方案", password=PASSWORD, role="sales_rep"
        )
        mgr = iam.create_user(
            session=s,
            email="mgr@acme.example",
            display_name="王经理",
            password=PASSWORD,
            role="sales_manager",
        )
        service.create_sales_team(
            SalesTeamIn(name="华东组", manager_user_id=mgr.id, member_user_ids=[rep.id, sr.id]), session=s
        )
        network.create_organization(
            OrganizationIn(kind="distributor", code="D-SH", name="上海经销", division_code="310101"),
            session=s,
        )
        for code, name, lng, lat, tier in STORES:
            org = network.create_organization(
                OrganizationIn(
                    kind="store",
                    code=code,
                    name=name,
                    parent_code="D-SH",
                    division_code="310101",
                    lng=lng,
                    lat=lat,
                ),
                session=s,
            )
            service.create_account(
                AccountIn(
                    name=name,
                    kind="network",
                    network_org_id=org.id,
                    owner_user_id=rep.id,
                    tier=tier,
                    potential=90 if tier == "A" else 40,
                    strategic_fit=90 if tier == "A" else 30,
                ),
                session=s,
            )
        acc = service.create_account(
            AccountIn(name="华润万家", owner_user_id=rep.id, potential=95, strategic_fit=90), session=s
        )
        v = service.Viewer(rep.id, "sales_rep")
        opp = service.create_opportunity(
            OpportunityIn(
                account_id=acc.id,
                name="年度陈列协议",
                amount_fen=80_000_000,
                close_date=date.today() + timedelta(days=10),
                grade="key",
                own_estimate=70,
            ),
            session=s,
            viewer=v,
        )
        service.add_team_member(opp.id, TeamMemberIn(user_id=sr.id, role="SR"), session=s, viewer=v)
        service.record_assessment(
            opp.id,
            AssessmentIn(
                scores=dict.fromkeys(
                    (
                        "identify_pain",
                        "metrics",
                        "decision_criteria",
                        "champion",
                        "economic_buyer",
                        "decision_process",
                        "paper_process",
                    ),
                    1,
                )
            ),
            session=s,
            viewer=v,
        )
        for stage in ("needs", "solution", "negotiation", "won"):
            service.move_stage(opp.id, stage, session=s, viewer=v)
        open_opp = service.create_opportunity(
            OpportunityIn(
                account_id=acc.id,
                name="门店扫码二期",
                amount_fen=30_000_000,
                close_date=date.today() + timedelta(days=40),
            ),
            session=s,
            viewer=v,
        )
        service.run_tiering(session=s)
        service.plan_visits(
            VisitPlanIn(month=NEXT_MONTH.strftime("%Y-%m"), start_lng=121.47, start_lat=31.23),
            session=s,
            viewer=v,
        )
        month_start = NEXT_MONTH
        plans = service.list_plans(
            session=s, viewer=v, date_from=month_start, date_to=month_start + timedelta(days=31)
        )
        first_visit_day = plans[0].plan_date.isoformat()
    try:
        with live_server(create_app(settings, db=db)) as url:
            yield {"url": url, "rep": rep.id, "open_opp": open_opp.id, "visit_day": first_visit_day}
    finally:
        db.dispose()


@pytest.fixture
def page(seeded: dict[str, str]) -> Iterator[object]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        assert errors == [], f"JavaScript errors on the page: {errors}"


def test_rep_works_tiers_leads_visits_bonus_and_forms(seeded: dict[str, str], page: object) -> None:
    p = page  # a playwright.sync_api.Page
    base = seeded["url"]
    RESULTS.mkdir(exist_ok=True)
    p.goto(f"{base}/login")  # type: ignore[attr-defined]
    p.fill("input[name=email]", REP)  # type: ignore[attr-defined]
    p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    p.click("button[type=submit]")  # type: ignore[attr-defined]
    p.wait_for_url(f"{base}/")  # type: ignore[attr-defined]

    p.goto(f"{base}/crm/accounts")  # type: ignore[attr-defined]
    assert p.locator("#account-table tbody tr").count() == 4  # type: ignore[attr-defined]
    p.fill("#q", "黄浦")  # type: ignore[attr-defined]
    p.wait_for_function("() => document.querySelectorAll('#account-table tbody tr').length === 2")  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-accounts.png"), full_page=True)  # type: ignore[attr-defined]

    p.goto(f"{base}/crm/growth")  # type: ignore[attr-defined]
    assert p.locator("#growth-table tbody tr").count() >= 2  # type: ignore[attr-defined]
    row = p.locator("#growth-table tbody tr").first  # type: ignore[attr-defined]
    row.locator("select[name=outcome]").select_option("won_growth")
    row.locator("input[name=growth_yuan]").fill("5000")
    row.locator("button[type=submit]").click()
    p.wait_for_selector(".alert-success, .flash-success, [role=status]")  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-growth.png"), full_page=True)  # type: ignore[attr-defined]

    p.goto(f"{base}/crm/leads")  # type: ignore[attr-defined]
    p.fill("#f-company", "盒马鲜生")  # type: ignore[attr-defined]
    p.fill("#f-contact_name", "李经理")  # type: ignore[attr-defined]
    p.fill("#f-estimated_yuan", "30000")  # type: ignore[attr-defined]
    p.click("#lead-save")  # type: ignore[attr-defined]
    p.wait_for_selector("#lead-table")  # type: ignore[attr-defined]
    p.click("#lead-table button.qualify")  # type: ignore[attr-defined]
    p.wait_for_selector("#lead-table button.convert")  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-leads.png"), full_page=True)  # type: ignore[attr-defined]

    p.goto(f"{base}/crm/visits?day={seeded['visit_day']}")  # type: ignore[attr-defined]
    assert p.locator("article.plan").count() >= 1  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-visits.png"), full_page=True)  # type: ignore[attr-defined]
    p.locator("article.plan a").first.click()  # type: ignore[attr-defined]
    p.wait_for_selector("#checkin-form")  # type: ignore[attr-defined]
    p.fill("#f-lng", "121.60")  # type: ignore[attr-defined]
    p.fill("#f-lat", "31.23")  # type: ignore[attr-defined]
    p.click("#checkin-submit")  # type: ignore[attr-defined]
    p.wait_for_selector(".alert-error, [role=alert]")  # type: ignore[attr-defined]
    assert "location" in p.content()  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-visit-too-far.png"), full_page=True)  # type: ignore[attr-defined]

    p.goto(f"{base}/crm/bonus/{seeded['rep']}")  # type: ignore[attr-defined]
    assert p.locator("#statement-table tbody tr").count() == 1  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-bonus-statement.png"), full_page=True)  # type: ignore[attr-defined]

    p.goto(f"{base}/crm/opportunities/{seeded['open_opp']}")  # type: ignore[attr-defined]
    p.fill("#activity-body", "@sr@acme.example 请准备方案")  # type: ignore[attr-defined]
    p.click("#activity-add")  # type: ignore[attr-defined]
    p.wait_for_selector("#timeline li[data-kind=comment]")  # type: ignore[attr-defined]
    assert "赵方案" in p.inner_text("#timeline li[data-kind=comment]")  # type: ignore[attr-defined]
    p.screenshot(path=str(RESULTS / "crm-opportunity-forms.png"), full_page=True)  # type: ignore[attr-defined]
