"""The promotions HTTP API and the reward on the public scan page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bcone.iam.schemas import TenantOut
from tests.codes.conftest import MakeBatch
from tests.fixtures_iam import AuthHeaders
from tests.promotions.conftest import RED_PACKET, FirstUrls

BASE = "/api/v1/promotions/campaigns"


def _create(client: TestClient, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {"name": "Spring", "prizes": [RED_PACKET], "budget_fen": 5000}
    body.update(fields)
    response = client.post(BASE, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def test_campaign_lifecycle_and_figures(owner_client: TestClient) -> None:
    campaign = _create(owner_client, gtins=["06901234567892"], per_consumer_limit=3)
    assert campaign["status"] == "draft"
    cid = campaign["id"]
    patched = owner_client.patch(f"{BASE}/{cid}", json={"budget_fen": 6000, "daily_fen": 1000})
    assert patched.status_code == 200
    assert patched.json()["daily_fen"] == 1000
    prizes = [
        {"kind": "points", "probability": 0.5, "points": 10},
        {"kind": "coupon", "probability": 0.1, "coupon_code": "SAVE5"},
    ]
    assert (
        owner_client.put(f"{BASE}/{cid}/prizes", json={"prizes": prizes}).json()["prizes"][1]["coupon_code"]
        == "SAVE5"
    )
    active = owner_client.post(f"{BASE}/{cid}/activate").json()
    assert active["status"] == "active"
    assert active["funded_fen"] == 6000
    assert owner_client.post(f"{BASE}/{cid}/pause").json()["status"] == "paused"
    figures = owner_client.get(f"{BASE}/{cid}/figures").json()
    assert figures["funded_fen"] == 6000
    assert figures["budget_left_fen"] == 6000
    assert figures["scans"] == 0
    listing = owner_client.get(BASE, params={"status": "paused"}).json()
    assert [c["id"] for c in listing["items"]] == [cid]
    assert owner_client.post(f"{BASE}/{cid}/end").json()["status"] == "ended"
    conflict = owner_client.post(f"{BASE}/{cid}/activate")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "campaign_state_conflict"


def test_bad_input_is_a_problem_naming_the_field(owner_client: TestClient) -> None:
    too_lucky = [
        {"kind": "red_packet", "probability": 0.7, "amount_fen": 1},
        {"kind": "points", "probability": 0.4, "points": 1},
    ]
    response = owner_client.post(BASE, json={"name": "X", "prizes": too_lucky})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_campaign"
    assert response.json()["field"] == "prizes"
    response = owner_client.post(
        BASE, json={"name": "X", "prizes": [{"kind": "red_packet", "probability": 1.5, "amount_fen": 1}]}
    )
    assert response.status_code == 422
    assert "prizes" in response.json()["field"]
    response = owner_client.post(
        BASE, json={"name": "X", "prizes": [{"kind": "red_packet", "probability": 0.5}]}
    )
    assert response.status_code == 422
    assert "prizes" in response.json()["field"]
    response = owner_client.post(BASE, json={"name": "X", "budget_fen": -1})
    assert response.status_code == 422
    assert response.json()["field"] == "budget_fen"
    response = owner_client.post(
        BASE, json={"name": "X", "starts_at": "2026-06-02T00:00:00Z", "ends_at": "2026-06-01T00:00:00Z"}
    )
    assert response.json()["field"] == "ends_at"
    _create(owner_client, name="Twice")
    assert owner_client.post(BASE, json={"name": "Twice"}).status_code == 409
    dated = _create(
        owner_client, name="Dated", starts_at="2026-06-01T00:00:00+08:00", ends_at="2026-07-01T00:00:00Z"
    )
    renamed = owner_client.patch(f"{BASE}/{dated['id']}", json={"name": "Dated 2"})
    assert renamed.status_code == 200, renamed.text
    early = owner_client.patch(f"{BASE}/{dated['id']}", json={"ends_at": "2026-05-01T00:00:00Z"})
    assert early.json()["field"] == "ends_at"
    naive = owner_client.patch(f"{BASE}/{dated['id']}", json={"starts_at": "2026-05-01T00:00:00"})
    assert naive.json()["field"] == "starts_at"
    assert owner_client.get(f"{BASE}/nope").status_code == 404
    assert owner_client.get(BASE).json()["total"] == 2


def test_roles_and_tenants(
    owner_client: TestClient, client: TestClient, auth_headers: AuthHeaders, other_tenant: TenantOut
) -> None:
    campaign = _create(owner_client)
    analyst = auth_headers("analyst")
    assert client.get(BASE, headers=analyst).status_code == 200
    assert client.post(BASE, headers=analyst, json={"name": "No"}).status_code == 403
    assert client.post(BASE, headers=auth_headers("marketer"), json={"name": "Yes"}).status_code == 201
    foreign = auth_headers("owner", other_tenant)
    assert client.get(f"{BASE}/{campaign['id']}", headers=foreign).status_code == 404
    assert client.get(BASE).status_code == 401


def test_blocks_api(owner_client: TestClient) -> None:
    block = owner_client.post(
        "/api/v1/promotions/blocks", json={"kind": "identity", "value": "oBad", "reason": "farm"}
    )
    assert block.status_code == 201
    assert [b["value"] for b in owner_client.get("/api/v1/promotions/blocks").json()] == ["oBad"]
    assert owner_client.delete(f"/api/v1/promotions/blocks/{block.json()['id']}").status_code == 204
    assert owner_client.get("/api/v1/promotions/blocks").json() == []
    assert (
        owner_client.post("/api/v1/promotions/blocks", json={"kind": "phone", "value": "x"}).status_code
        == 422
    )


def test_scan_page_shows_the_reward(
    owner_client: TestClient, client: TestClient, make_batch: MakeBatch, first_urls: FirstUrls
) -> None:
    cid = _create(owner_client)["id"]
    owner_client.post(f"{BASE}/{cid}/activate")
    url = first_urls(make_batch(), 2)[0]
    path = url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
    first = client.get(f"/{path}", params={"openid": "oX"}, headers={"Accept": "application/json"})
    assert first.status_code == 200
    assert first.json()["verdict"] == "genuine"
    assert first.json()["reward"]["outcome"] == "granted"
    assert first.json()["reward"]["amount_fen"] == 100
    client.cookies.set("openid", "oY")
    page = client.get(f"/{path}", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert 'id="scan-reward"' in page.text
    assert "该码已参与过抽奖" in page.text
    attempts = owner_client.get("/api/v1/promotions/attempts", params={"campaign_id": cid}).json()
    assert sorted(a["outcome"] for a in attempts["items"]) == ["already_rewarded", "granted"]
    assert [
        a["openid"]
        for a in owner_client.get("/api/v1/promotions/attempts", params={"outcome": "granted"}).json()[
            "items"
        ]
    ] == ["oX"]
