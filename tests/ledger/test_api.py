"""The ledger's HTTP API: roles, tenants, problem+json errors, payout batches and their CSV."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.ledger import service
from bcone.ledger.schemas import PayoutRequestIn
from tests.fixtures_iam import AuthHeaders
from tests.ledger.helpers import balance, fund, open_account

PROBLEM = "application/problem+json"


def test_accounts_list_and_statement(db: Database, owner_client: TestClient, tenant: TenantOut) -> None:
    opened = owner_client.post(
        "/api/v1/ledger/accounts",
        json={"kind": "campaign_budget", "owner_type": "campaign", "owner_id": "c1"},
    )
    assert opened.status_code == 200, opened.text
    budget = opened.json()
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, budget["id"], 1_000)
    posted = owner_client.post(
        "/api/v1/ledger/transactions",
        json={
            "idempotency_key": "adj-1",
            "kind": "adjustment",
            "memo": "goodwill",
            "entries": [
                {"account_id": budget["id"], "amount": -300},
                {"account_id": wallet.id, "amount": 300},
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    replay = owner_client.post(
        "/api/v1/ledger/transactions",
        json={
            "idempotency_key": "adj-1",
            "kind": "adjustment",
            "memo": "goodwill",
            "entries": [
                {"account_id": budget["id"], "amount": -300},
                {"account_id": wallet.id, "amount": 300},
            ],
        },
    )
    assert replay.status_code == 200
    assert replay.json()["id"] == posted.json()["id"]
    listed = owner_client.get("/api/v1/ledger/accounts", params={"kind": "campaign_budget"}).json()
    assert [(a["owner_id"], a["balance"]) for a in listed["items"]] == [("c1", 700)]
    assert owner_client.get("/api/v1/ledger/accounts", params={"page_size": 1}).json()["total"] == 3
    detail = owner_client.get(f"/api/v1/ledger/accounts/{budget['id']}").json()
    assert detail["account"]["balance"] == 700
    assert [(x["amount"], x["balance_after"], x["kind"]) for x in detail["items"]] == [
        (-300, 700, "adjustment"),
        (1_000, 1_000, "budget_topup"),
    ]
    kinds = {(k["kind"], k["unit"]): k["balance"] for k in owner_client.get("/api/v1/ledger/balances").json()}
    assert kinds[("funding", "fen")] == -1_000
    reversed_ = owner_client.post(f"/api/v1/ledger/transactions/{posted.json()['id']}/reverse")
    assert reversed_.status_code == 200
    assert reversed_.json()["reverses_id"] == posted.json()["id"]
    assert balance(db, tenant.id, wallet.id) == 0


def test_errors_are_problem_json_with_the_field(
    db: Database, owner_client: TestClient, tenant: TenantOut
) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, budget.id, 100)

    def post(key: str, amount: int, credit: int | None = None) -> dict[str, object]:
        resp = owner_client.post(
            "/api/v1/ledger/transactions",
            json={
                "idempotency_key": key,
                "kind": "x",
                "entries": [
                    {"account_id": budget.id, "amount": -amount},
                    {"account_id": wallet.id, "amount": amount if credit is None else credit},
                ],
            },
        )
        assert resp.headers["content-type"].startswith(PROBLEM), resp.text
        body: dict[str, object] = resp.json()
        body["_status"] = resp.status_code
        return body

    funds = post("a", 101)
    assert (funds["_status"], funds["code"], funds["account_id"]) == (409, "insufficient_funds", budget.id)
    unbalanced = post("b", 10, 9)
    assert (unbalanced["_status"], unbalanced["code"], unbalanced["field"]) == (
        422,
        "unbalanced_transaction",
        "entries",
    )
    owner_client.post(
        "/api/v1/ledger/transactions",
        json={
            "idempotency_key": "c",
            "kind": "x",
            "entries": [{"account_id": budget.id, "amount": -10}, {"account_id": wallet.id, "amount": 10}],
        },
    )
    conflict = post("c", 20)
    assert (conflict["_status"], conflict["code"]) == (409, "idempotency_conflict")
    bad = owner_client.post(
        "/api/v1/ledger/payouts", json={"idempotency_key": "p", "account_id": wallet.id, "amount_fen": 0}
    )
    assert bad.status_code == 422
    assert bad.json()["field"] == "amount_fen"
    kind = owner_client.get("/api/v1/ledger/accounts", params={"kind": "piggy_bank"})
    assert kind.status_code == 422
    assert kind.json()["field"] == "kind"
    assert balance(db, tenant.id, wallet.id) == 10


def test_roles_and_tenants(
    db: Database,
    owner_client: TestClient,
    tenant: TenantOut,
    other_tenant: TenantOut,
    auth_headers: AuthHeaders,
) -> None:
    budget = open_account(db, tenant.id, "campaign_budget", "c1")
    app = owner_client.app
    with TestClient(app, headers=auth_headers("analyst")) as analyst:
        assert analyst.get("/api/v1/ledger/accounts").status_code == 200
        assert analyst.get(f"/api/v1/ledger/accounts/{budget.id}").status_code == 200
        refused = analyst.post("/api/v1/ledger/payout-batches")
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
    with TestClient(app, headers=auth_headers("marketer")) as marketer:
        assert marketer.get("/api/v1/ledger/accounts").status_code == 403
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/ledger/accounts").status_code == 401
    with TestClient(app, headers=auth_headers("owner", other_tenant)) as other:
        missing = other.get(f"/api/v1/ledger/accounts/{budget.id}")
        assert missing.status_code == 404
        assert missing.json()["code"] == "account_not_found"
        assert other.get("/api/v1/ledger/accounts").json()["total"] == 0
        assert other.post(f"/api/v1/ledger/transactions/{budget.id}/reverse").status_code == 404


def test_payout_batch_export_and_confirm_file(
    db: Database, owner_client: TestClient, tenant: TenantOut
) -> None:
    wallet = open_account(db, tenant.id, "store_wallet", "s1")
    fund(db, tenant.id, wallet.id, 10_000)
    for i, amount in enumerate((1_234, 5_000)):
        resp = owner_client.post(
            "/api/v1/ledger/payouts",
            json={
                "idempotency_key": f"rebate:{i}",
                "account_id": wallet.id,
                "amount_fen": amount,
                "payee_name": f"门店{i}",
                "payee_account": f"6222 0000 {i}",
            },
        )
        assert resp.status_code == 201, resp.text
    none_yet = owner_client.get("/api/v1/ledger/payout-batches").json()
    assert none_yet["total"] == 0
    batch = owner_client.post("/api/v1/ledger/payout-batches").json()
    assert (batch["line_count"], batch["total_fen"], batch["provider"]) == (2, 6_234, "finance_export")
    again = owner_client.post("/api/v1/ledger/payout-batches")
    assert again.status_code == 409
    assert again.json()["code"] == "payout_state_conflict"
    export = owner_client.get(f"/api/v1/ledger/payout-batches/{batch['id']}/export.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [r["amount_yuan"] for r in rows] == ["12.34", "50.00"]
    rows[0]["status"] = "paid"
    rows[1]["status"] = "failed"
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    bad = owner_client.post(
        f"/api/v1/ledger/payout-batches/{batch['id']}/confirm-file",
        files={"file": ("x.csv", b"line_id,status\nzzz,paid\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_confirmation"
    confirmed = owner_client.post(
        f"/api/v1/ledger/payout-batches/{batch['id']}/confirm-file",
        files={"file": ("done.csv", out.getvalue().encode(), "text/csv")},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "closed"
    assert balance(db, tenant.id, wallet.id) == 10_000 - 1_234
    listed = owner_client.get("/api/v1/ledger/payouts", params={"status": "paid"}).json()
    assert [x["amount_fen"] for x in listed["items"]] == [1_234]
    assert owner_client.get("/api/v1/ledger/payouts/reconciliation").json()["balanced"] is True
    missing = owner_client.get("/api/v1/ledger/payout-batches/nope/export.csv")
    assert missing.status_code == 404
    assert missing.json()["code"] == "payout_batch_not_found"


def test_confirm_json_endpoint(db: Database, owner_client: TestClient, tenant: TenantOut) -> None:
    wallet = open_account(db, tenant.id, "consumer_wallet", "p1")
    fund(db, tenant.id, wallet.id, 500)
    with db.session(tenant_id=tenant.id) as s:
        line = service.request_payout(
            PayoutRequestIn(idempotency_key="k", account_id=wallet.id, amount_fen=500), session=s
        )
        batch = service.create_batch(session=s)
    resp = owner_client.post(
        f"/api/v1/ledger/payout-batches/{batch.id}/confirm",
        json={"results": [{"line_id": line.id, "outcome": "paid", "provider_ref": "BANK-1"}]},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["lines"][0]["provider_ref"] == "BANK-1"
    wrong = owner_client.post(
        f"/api/v1/ledger/payout-batches/{batch.id}/confirm",
        json={"results": [{"line_id": line.id, "outcome": "lost"}]},
    )
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "results.0.outcome"
