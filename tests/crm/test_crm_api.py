"""The crm HTTP API and console pages: problem+json for bad input, role scoping, the training
job, metrics and forecast, and the pages in both languages."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.core.jobs import run_pending
from bcone.crm import service
from bcone.iam.schemas import TenantOut
from tests.crm.conftest import Sales
from tests.fixtures_iam import AuthHeaders, ConsoleLogin

CLOSE = (date.today() + timedelta(days=20)).isoformat()


def test_accounts_and_bad_input_through_the_api(owner_client: TestClient, sales: Sales) -> None:
    c = owner_client
    r = c.post("/api/v1/crm/accounts", json={"name": "华润万家", "industry": "零售", "tier": "A"})
    assert r.status_code == 201, r.text
    account = r.json()
    r = c.post("/api/v1/crm/accounts", json={"name": "华润万家"})
    assert (r.status_code, r.json()["code"]) == (409, "duplicate_account")
    r = c.post(
        f"/api/v1/crm/accounts/{account['id']}/contacts",
        json={"name": "陈总", "decision_role": "economic_buyer"},
    )
    assert r.status_code == 201, r.text
    body = {"account_id": account["id"], "name": "年度陈列协议", "amount_fen": 5_000_000, "close_date": CLOSE}
    # Bad input: problem+json naming the field, nothing written.
    for bad, field in (
        ({"amount_fen": -5}, "amount_fen"),
        ({"currency": "USD"}, "currency"),
        ({"close_date": "soon"}, "close_date"),
        ({"grade": "gold"}, "grade"),
    ):
        r = c.post("/api/v1/crm/opportunities", json={**body, **bad})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == field
    r = c.post("/api/v1/crm/opportunities", json={**body, "owner_user_id": "nobody"})
    assert (r.status_code, r.json()["field"]) == (422, "owner_user_id")
    # An owner's API key has no user of its own: it names the opportunity's owner.
    r = c.post("/api/v1/crm/opportunities", json=body)
    assert (r.status_code, r.json()["field"]) == (422, "owner_user_id")
    assert c.get("/api/v1/crm/opportunities").json()["total"] == 0
    r = c.post("/api/v1/crm/opportunities", json={**body, "owner_user_id": sales.rep.id})
    assert r.status_code == 201, r.text
    assert r.json()["sales_team_id"] == sales.team_id
    assert c.get("/api/v1/crm/stages").json()[0]["key"] == "qualify"
    assert c.get("/api/v1/crm/scorecard/template").json()["version"] == 1
    assert c.get("/api/v1/crm/model/metrics").status_code == 404


def test_api_with_users(
    app: FastAPI, db: Database, tenant: TenantOut, sales: Sales, console_login: ConsoleLogin
) -> None:
    with TestClient(app) as rep:
        token = console_login(rep, sales.rep.email)
        h = {"X-CSRF-Token": token}
        acc = rep.post("/api/v1/crm/accounts", json={"name": "永辉超市"}, headers=h).json()
        body = {"account_id": acc["id"], "name": "扫码营销", "amount_fen": 8_800_000, "close_date": CLOSE}
        r = rep.post("/api/v1/crm/opportunities", json={**body, "own_estimate": 80}, headers=h)
        assert r.status_code == 201, r.text
        opp = r.json()
        r = rep.post(f"/api/v1/crm/opportunities/{opp['id']}/stage", json={"to_stage": "solution"}, headers=h)
        assert r.status_code == 422
        problem = r.json()
        assert (problem["code"], problem["field"]) == ("scorecard_items_missing", "to_stage")
        assert problem["missing"] == ["identify_pain", "metrics", "decision_criteria", "champion"]
        r = rep.post(
            f"/api/v1/crm/opportunities/{opp['id']}/assessments",
            json={"scores": {"identify_pain": 3}, "evidence": {}},
            headers=h,
        )
        assert (r.status_code, r.json()["field"]) == (422, "evidence.identify_pain")
        r = rep.post(
            f"/api/v1/crm/opportunities/{opp['id']}/assessments",
            json={"scores": {"identify_pain": 2, "metrics": 1}, "evidence": {"identify_pain": "门店缺货"}},
            headers=h,
        )
        assert r.status_code == 201, r.text
        r = rep.post(f"/api/v1/crm/opportunities/{opp['id']}/stage", json={"to_stage": "needs"}, headers=h)
        assert (r.status_code, r.json()["stage_key"]) == (200, "needs")
        r = rep.post(
            f"/api/v1/crm/opportunities/{opp['id']}/team",
            json={"user_id": sales.rep2.id, "role": "SR"},
            headers=h,
        )
        assert r.status_code == 201, r.text
        r = rep.post(
            f"/api/v1/crm/opportunities/{opp['id']}/contributions",
            json={"user_id": sales.rep2.id, "what": "方案设计", "weight": 40},
            headers=h,
        )
        assert r.status_code == 201, r.text
        rep.post(
            f"/api/v1/crm/opportunities/{opp['id']}/activities",
            json={"kind": "comment", "body": "好"},
            headers=h,
        )
        kinds = {e["kind"] for e in rep.get(f"/api/v1/crm/opportunities/{opp['id']}/timeline").json()}
        assert kinds == {"stage_change", "assessment", "contribution", "comment"}
        got = rep.get(f"/api/v1/crm/opportunities/{opp['id']}").json()
        assert got["probability"]["source"] == "stage_prior"
        assert got["probability"]["value"] == 0.25
        page = rep.get("/api/v1/crm/opportunities", params={"q": "永辉", "stage": "needs"}).json()
        assert [o["id"] for o in page["items"]] == [opp["id"]]
        # A rep may not train, nor edit the scorecard.
        assert rep.post("/api/v1/crm/model/train", headers=h).status_code == 403
        assert rep.post("/api/v1/crm/scorecard/templates", json={"items": []}, headers=h).status_code == 403
        forecast = rep.get("/api/v1/crm/forecast", params={"by": "owner"}).json()
        assert forecast["total"]["weighted_fen"] == round(8_800_000 * 0.25)
    with TestClient(app) as other:
        token = console_login(other, sales.other_team_rep.email)
        assert other.get(f"/api/v1/crm/opportunities/{opp['id']}").status_code == 404
        assert other.get("/api/v1/crm/opportunities").json()["total"] == 0
    with TestClient(app) as manager:
        token = console_login(manager, sales.manager.email)
        assert manager.get("/api/v1/crm/opportunities").json()["total"] == 1
        with db.session(tenant_id=tenant.id) as s:
            service.generate_pipeline(session=s, closed=600, open_count=10, seed=9)
        r = manager.post("/api/v1/crm/model/train", headers={"X-CSRF-Token": token})
        assert r.status_code == 202, r.text
        job_id = r.json()["job_id"]
        assert run_pending(db, worker_id="test") == 1
        job = manager.get(f"/api/v1/crm/model/jobs/{job_id}").json()
        assert job["status"] == "succeeded", job
        status = manager.get("/api/v1/crm/model/status").json()
        assert (status["source"], status["model"]["version"]) == ("model", 1)
        metrics = manager.get("/api/v1/crm/model/metrics").json()["metrics"]
        assert set(metrics) >= {"raw", "calibrated", "own_estimate", "by_team", "by_stage"}
        assert metrics["calibrated"]["auc"] > 0.75
        got = manager.get(f"/api/v1/crm/opportunities/{opp['id']}").json()
        assert got["probability"]["source"] == "model"
        assert got["probability"]["reasons"]


def test_console_pages_in_both_languages(
    app: FastAPI, db: Database, tenant: TenantOut, sales: Sales, console_login: ConsoleLogin
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        service.generate_pipeline(session=s, closed=400, open_count=30, seed=2, owner_user_ids=[sales.rep.id])
    with TestClient(app) as c:
        token = console_login(c, sales.rep.email)
        page = c.get("/crm", params={"status": "open"})
        assert page.status_code == 200
        assert "商机" in page.text
        assert 'id="prior-notice"' in page.text
        assert 'href="/crm"' in page.text  # the navigation entry
        first = page.text.split('href="/crm/opportunities/')[1].split('"')[0]
        detail = c.get(f"/crm/opportunities/{first}")
        assert detail.status_code == 200
        assert "铁三角" in detail.text
        assert "客情判断" in detail.text
        r = c.post(
            f"/crm/opportunities/{first}/stage",
            data={"to_stage": "lost", "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        english = c.get("/crm", headers={"Accept-Language": "en"}).text
        assert "Opportunities" in english
        assert c.get("/crm/forecast?by=team").status_code == 200
        model = c.get("/crm/model")
        assert model.status_code == 200
    with db.session(tenant_id=tenant.id) as s:
        assert service.train_win_model(session=s) is not None
    with TestClient(app) as c:
        console_login(c, sales.manager.email)
        model = c.get("/crm/model")
        assert 'id="reliability-chart"' in model.text
        assert "reliability-data" in model.text
        search = c.get(
            "/crm", params={"q": "门店"}, headers={"HX-Request": "true", "HX-Target": "opp-results"}
        )
        assert search.status_code == 200
        assert "<html" not in search.text


def test_patch_and_roles(
    owner_client: TestClient, auth_headers: AuthHeaders, sales: Sales, app: FastAPI
) -> None:
    c = owner_client
    acc = c.post("/api/v1/crm/accounts", json={"name": "大润发"}).json()
    body = {
        "account_id": acc["id"],
        "name": "A",
        "amount_fen": 100,
        "close_date": CLOSE,
        "owner_user_id": sales.rep.id,
    }
    opp = c.post("/api/v1/crm/opportunities", json=body).json()
    r = c.patch(
        f"/api/v1/crm/opportunities/{opp['id']}", json={"amount_fen": 250_000, "forecast_category": "commit"}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["amount_fen"], r.json()["forecast_category"]) == (250_000, "commit")
    r = c.patch(f"/api/v1/crm/opportunities/{opp['id']}", json={"forecast_category": "closed"})
    assert (r.status_code, r.json()["field"]) == (422, "forecast_category")
    r = c.patch(f"/api/v1/crm/opportunities/{opp['id']}", json={"currency": "EUR"})
    assert (r.status_code, r.json()["field"]) == (422, "currency")
    assert c.get(f"/api/v1/crm/opportunities/{opp['id']}").json()["amount_fen"] == 250_000
    r = c.patch(f"/api/v1/crm/accounts/{acc['id']}", json={"name": "大润发超市"})
    assert r.status_code == 200
    found = c.get("/api/v1/crm/opportunities", params={"q": "润发超市"}).json()
    assert [o["id"] for o in found["items"]] == [opp["id"]]
    # Roles outside sales see nothing of the CRM.
    with TestClient(app, headers=auth_headers("marketer")) as marketer:
        assert marketer.get("/api/v1/crm/opportunities").status_code == 403
