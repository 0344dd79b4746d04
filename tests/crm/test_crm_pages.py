"""The console pages of tiers, growth tasks, leads, bonuses, visits and the edit forms: each in
both languages, scoped by role, with bad input answered on the page (nothing written)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.crm import service
from bcone.crm.schemas import AccountIn, OpportunityIn
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.crm.conftest import Sales, viewer
from tests.fixtures_iam import ConsoleLogin


def test_forms_and_pages_for_a_rep_and_a_manager(
    app: FastAPI, db: Database, tenant: TenantOut, sales: Sales, console_login: ConsoleLogin
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        network.create_organization(
            OrganizationIn(kind="distributor", code="D-SH", name="上海经销", division_code="310101"),
            session=s,
        )
        org = network.create_organization(
            OrganizationIn(
                kind="store",
                code="S-1",
                name="黄浦一店",
                parent_code="D-SH",
                division_code="310101",
                lng=121.475,
                lat=31.23,
            ),
            session=s,
        )
        service.create_account(
            AccountIn(
                name="黄浦一店", kind="network", network_org_id=org.id, owner_user_id=sales.rep.id, tier="A"
            ),
            session=s,
        )
        service.create_account(AccountIn(name="别组客户", owner_user_id=sales.other_team_rep.id), session=s)
    with TestClient(app) as c:
        token = console_login(c, sales.rep.email)
        csrf = {"csrf_token": token}
        # accounts: the rep sees their own only
        page = c.get("/crm/accounts")
        assert page.status_code == 200
        assert "黄浦一店" in page.text
        assert "别组客户" not in page.text
        assert "客户与分级" in page.text
        assert "Accounts and tiers" in c.get("/crm/accounts", headers={"Accept-Language": "en"}).text
        r = c.post("/crm/accounts/new", data={**csrf, "name": "新客户", "potential": "120"})
        assert r.status_code == 422
        assert "field-invalid" in r.text
        r = c.post(
            "/crm/accounts/new",
            data={**csrf, "name": "新客户", "potential": "90", "strategic_fit": "80"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        account_url = r.headers["location"]
        assert "新客户" in c.get(account_url).text
        assert c.post("/crm/tiers/run", data=csrf).status_code == 403  # a rep does not run tiering
        # a new opportunity through the form; a bad amount comes back on the form
        account_id = account_url.rsplit("/", 1)[1]
        close = (date.today() + timedelta(days=40)).isoformat()
        body = {**csrf, "account_id": account_id, "name": "年度陈列", "close_date": close, "grade": "key"}
        r = c.post("/crm/opportunities/new", data={**body, "amount_yuan": "12.345"})
        assert r.status_code == 422
        assert "field-invalid" in r.text
        r = c.post("/crm/opportunities/new", data={**body, "amount_yuan": "50000"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        opp_url = r.headers["location"]
        opp_id = opp_url.rsplit("/", 1)[1]
        detail = c.get(opp_url)
        assert detail.status_code == 200
        assert "assessment-form" in detail.text
        assert "request-form" in detail.text
        r = c.post(
            f"{opp_url}/team", data={**csrf, "user_id": sales.rep2.id, "role": "SR"}, follow_redirects=False
        )
        assert r.status_code == 303
        c.post(
            f"{opp_url}/contributions",
            data={**csrf, "user_id": sales.rep2.id, "what": "方案", "weight": "30"},
        )
        c.post(f"{opp_url}/activities", data={**csrf, "kind": "comment", "body": f"@{sales.rep2.email} 请看"})
        c.post(f"{opp_url}/requests", data={**csrf, "kind": "presales", "body": "演示", "due_date": close})
        c.post(
            f"{opp_url}/assessments",
            data={**csrf, "score.identify_pain": "2", "evidence.identify_pain": "缺货"},
        )
        c.post(
            f"{opp_url}/edit",
            data={
                **csrf,
                "name": "年度陈列协议",
                "amount_yuan": "60000",
                "close_date": close,
                "grade": "key",
                "own_estimate": "70",
            },
        )
        with db.session(tenant_id=tenant.id) as s:
            opp = service.get_opportunity(opp_id, session=s, viewer=viewer(sales.rep))
            assert (opp.name, opp.amount_fen, opp.own_estimate) == ("年度陈列协议", 6_000_000, 70)
            assert [m.role for m in service.team(opp_id, session=s, viewer=viewer(sales.rep)).members] == [
                "SR"
            ]
            assert service.list_requests(opp_id, session=s, viewer=viewer(sales.rep))[0].kind == "presales"
            assert service.assessments(opp_id, session=s, viewer=viewer(sales.rep))[0].scores == {
                "identify_pain": 2
            }
            comments = [
                e
                for e in service.timeline(opp_id, session=s, viewer=viewer(sales.rep))
                if e.kind == "comment"
            ]
            assert comments[0].mentions == [sales.rep2.id]
        # bad evidence: back to the page with the field, nothing written
        r = c.post(f"{opp_url}/assessments", data={**csrf, "score.champion": "3"}, follow_redirects=True)
        assert "evidence.champion" in r.text
        # leads: capture, bad import rows listed, qualify, convert
        r = c.post(
            "/crm/leads/new",
            data={**csrf, "company": "盒马", "contact_name": "李", "estimated_yuan": "-1"},
            follow_redirects=True,
        )
        assert "estimated_fen" in r.text
        c.post(
            "/crm/leads/new",
            data={
                **csrf,
                "company": "盒马",
                "contact_name": "李",
                "estimated_yuan": "3000",
                "referrer_user_id": sales.rep2.id,
            },
        )
        r = c.post(
            "/crm/leads/import",
            data=csrf,
            files={"file": ("leads.csv", "公司,联系人\n永辉,张\n,王\n".encode(), "text/csv")},
        )
        assert r.status_code == 422
        assert "import-report" in r.text
        with db.session(tenant_id=tenant.id) as s:
            lead = service.list_leads(PageParams(q="盒马"), session=s, viewer=viewer(sales.rep)).items[0]
        c.post(f"/crm/leads/{lead.id}/qualify", data={**csrf, "qualified": "1"})
        r = c.post(
            f"/crm/leads/{lead.id}/convert", data={**csrf, "close_date": close}, follow_redirects=False
        )
        assert r.status_code == 303
        assert r.headers["location"].startswith("/crm/opportunities/")
        assert "已转化" in c.get("/crm/leads").text
        # visits: plan, check in too far (the distance is shown), check in, audit, order
        first = (date.today().replace(day=1) + timedelta(days=32)).replace(day=1)  # next month
        month = first.strftime("%Y-%m")
        r = c.post(
            "/crm/visits/plan",
            data={**csrf, "month": month, "start_lng": "121.47", "start_lat": "31.23"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        with db.session(tenant_id=tenant.id) as s:
            plans = service.list_plans(
                session=s, viewer=viewer(sales.rep), date_from=first, date_to=first + timedelta(days=31)
            )
        visit = plans[0].visits[0]
        assert len([v for p in plans for v in p.visits]) == 4  # tier A: four visits a month
        r = c.post(
            f"/crm/visits/{visit.id}/check-in",
            data={**csrf, "lng": "121.50", "lat": "31.23"},
            follow_redirects=True,
        )
        assert "location" in r.text
        assert "check-in-form" not in r.text
        r = c.post(
            f"/crm/visits/{visit.id}/check-in",
            data={**csrf, "lng": "121.4751", "lat": "31.2301"},
            follow_redirects=True,
        )
        assert "audit-form" in r.text
        r = c.post(
            f"/crm/visits/{visit.id}/audit",
            data={**csrf, "sku": ["", ""], "facings": ["", ""], "stock": ["", ""], "price_yuan": ["", ""]},
            follow_redirects=True,
        )
        assert "lines" in r.text  # no line: the field is named
        assert c.get(f"/crm/visits?day={visit.visit_date}").status_code == 200
        assert c.get("/crm/bonus").status_code == 200
        assert c.get(f"/crm/bonus/{sales.rep.id}").status_code == 200
        assert c.get(f"/crm/bonus/{sales.other_team_rep.id}").status_code == 403
        assert c.get("/crm/growth?status=all").status_code == 200
    with TestClient(app) as m:
        token = console_login(m, sales.manager.email)
        r = m.post("/crm/tiers/run", data={"csrf_token": token}, follow_redirects=True)
        assert r.status_code == 200
        page = m.get("/crm/accounts", headers={"HX-Request": "true", "HX-Target": "account-results"})
        assert "新客户" in page.text
        assert "别组客户" not in page.text
        assert "<html" not in page.text
        assert m.get("/crm/growth", headers={"Accept-Language": "en"}).status_code == 200


def test_bad_input_through_the_api_is_problem_json(owner_client: TestClient, sales: Sales) -> None:
    c = owner_client
    model = c.get("/api/v1/crm/tier-model").json()
    body = {
        "weights": {"value": 0.5, "potential": 0.4, "strategic_fit": 0.3},
        "thresholds": model["thresholds"],
        "policies": model["policies"],
    }
    r = c.post("/api/v1/crm/tier-models", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "weights"
    r = c.put(
        "/api/v1/crm/bonus/policy", json={"pool_basis_points": 100, "role_ratios": {"AR": 0.9, "SR": 0.3}}
    )
    assert (r.status_code, r.json()["field"]) == (422, "role_ratios")
    r = c.put(
        "/api/v1/crm/bonus/policy",
        json={"pool_basis_points": 100, "currency": "USD", "role_ratios": {"AR": 1}},
    )
    assert (r.status_code, r.json()["field"]) == (422, "currency")
    r = c.post("/api/v1/crm/leads", json={"company": "盒马", "contact_name": "李", "estimated_fen": -1})
    assert (r.status_code, r.json()["field"]) == (422, "estimated_fen")
    r = c.post("/api/v1/crm/leads", json={"company": "盒马", "contact_name": "李", "currency": "HKD"})
    assert (r.status_code, r.json()["field"]) == (422, "currency")
    assert c.get("/api/v1/crm/leads").json()["total"] == 0  # nothing written
    r = c.post("/api/v1/crm/tiers/run-now")
    assert r.status_code == 200
    assert r.json()["accounts"] == 0


def test_the_opportunity_page_forms_remove_finish_answer_and_cancel(
    app: FastAPI, db: Database, tenant: TenantOut, sales: Sales, console_login: ConsoleLogin
) -> None:
    close = date.today() + timedelta(days=30)
    with db.session(tenant_id=tenant.id) as s:
        account = service.create_account(AccountIn(name="连锁客户", owner_user_id=sales.rep.id), session=s)
        opp = service.create_opportunity(
            OpportunityIn(account_id=account.id, name="新品进场", amount_fen=100_000, close_date=close),
            session=s,
            viewer=viewer(sales.rep),
        )
    opp_url = f"/crm/opportunities/{opp.id}"
    with TestClient(app) as c:
        csrf = {"csrf_token": console_login(c, sales.rep.email)}
        c.post(f"{opp_url}/team", data={**csrf, "user_id": sales.rep2.id, "role": "SR"})
        c.post(
            f"{opp_url}/activities",
            data={**csrf, "kind": "task", "body": "约采购", "assignee_user_id": sales.rep.id, "due_date": ""},
        )
        c.post(
            f"{opp_url}/requests", data={**csrf, "kind": "presales", "body": "演示", "due_date": str(close)}
        )
        with db.session(tenant_id=tenant.id) as s:
            member = service.team(opp.id, session=s, viewer=viewer(sales.rep)).members[0]
            task = next(
                e for e in service.timeline(opp.id, session=s, viewer=viewer(sales.rep)) if e.kind == "task"
            )
            asked = service.list_requests(opp.id, session=s, viewer=viewer(sales.rep))[0]
        assert task.done is False

        r = c.post(f"{opp_url}/team/{member.id}/remove", data=csrf, follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, opp_url)
        r = c.post(f"{opp_url}/tasks/{task.id}/done", data=csrf, follow_redirects=False)
        assert r.status_code == 303
        # a rejection without its reason comes back naming the field, and changes nothing
        r = c.post(
            f"{opp_url}/requests/{asked.id}", data={**csrf, "status": "rejected"}, follow_redirects=True
        )
        assert "response：a rejection gives its reason" in r.text
        with db.session(tenant_id=tenant.id) as s:
            assert service.list_requests(opp.id, session=s, viewer=viewer(sales.rep))[0].status == "open"
        c.post(f"{opp_url}/requests/{asked.id}", data={**csrf, "status": "accepted", "response": "周三"})
        r = c.post(f"{opp_url}/tasks/no-such-task/done", data=csrf, follow_redirects=True)
        assert "activity_id：no task no-such-task" in r.text
        r = c.post(f"{opp_url}/cancel", data={**csrf, "reason": "客户撤单"}, follow_redirects=True)
        assert "a manager cancels a won deal" in r.text
        with db.session(tenant_id=tenant.id) as s:
            assert service.team(opp.id, session=s, viewer=viewer(sales.rep)).members == []
            timeline = service.timeline(opp.id, session=s, viewer=viewer(sales.rep))
            assert next(e for e in timeline if e.kind == "task").done is True
            answered = service.list_requests(opp.id, session=s, viewer=viewer(sales.rep))[0]
            assert (answered.status, answered.response) == ("accepted", "周三")

    with TestClient(app) as c:
        csrf = {"csrf_token": console_login(c, sales.manager.email)}
        r = c.post(f"{opp_url}/cancel", data={**csrf, "reason": "  "}, follow_redirects=True)
        assert "reason：give the reason" in r.text
        r = c.post(f"{opp_url}/cancel", data={**csrf, "reason": "客户撤单"}, follow_redirects=True)
        assert "only a won deal is cancelled" in r.text
        with db.session(tenant_id=tenant.id) as s:
            assert service.get_opportunity(opp.id, session=s, viewer=viewer(sales.manager)).status == "open"
