"""The account relationship map: reporting lines between contacts, attitude, relationship strength
and the salesperson who holds the relationship."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcone.core.db import Database
from bcone.crm import service
from bcone.crm.schemas import AccountIn
from bcone.iam.schemas import TenantOut
from tests.crm.conftest import Sales
from tests.fixtures_iam import ConsoleLogin


def _contact(c: TestClient, account_id: str, **body: Any) -> dict[str, Any]:
    r = c.post(f"/api/v1/crm/accounts/{account_id}/contacts", json={"decision_role": "influencer", **body})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field


def test_reporting_lines_and_their_checks(owner_client: TestClient, sales: Sales) -> None:
    c = owner_client
    acc = c.post("/api/v1/crm/accounts", json={"name": "华联超市"}).json()["id"]
    other = c.post("/api/v1/crm/accounts", json={"name": "永辉超市"}).json()["id"]
    ceo = _contact(c, acc, name="王总", decision_role="decision_maker", attitude="supporter")
    assert (ceo["attitude"], ceo["relationship_strength"], ceo["reports_to_contact_id"]) == (
        "supporter",
        0,
        None,
    )
    cfo = _contact(
        c,
        acc,
        name="李财务",
        decision_role="economic_buyer",
        reports_to_contact_id=ceo["id"],
        relationship_strength=2,
        owner_user_id=sales.rep.id,
    )
    buyer = _contact(c, acc, name="张采购", reports_to_contact_id=cfo["id"], attitude="opponent")
    assert (cfo["owner_user_id"], cfo["relationship_strength"]) == (sales.rep.id, 2)
    stranger = _contact(c, other, name="外部联系人")

    # the tree: 王总 > 李财务 > 张采购
    tree = c.get(f"/api/v1/crm/accounts/{acc}/relationship-map").json()
    assert [n["contact"]["name"] for n in tree] == ["王总"]
    assert tree[0]["reports"][0]["contact"]["name"] == "李财务"
    assert tree[0]["reports"][0]["reports"][0]["contact"]["id"] == buyer["id"]

    # refused: another account, unknown contact, themselves, a cycle, bad attitude/strength/owner
    body = {"name": "赵", "decision_role": "user"}
    url = f"/api/v1/crm/accounts/{acc}/contacts"
    _refused(c.post(url, json={**body, "reports_to_contact_id": stranger["id"]}), "reports_to_contact_id")
    _refused(c.post(url, json={**body, "reports_to_contact_id": "nope"}), "reports_to_contact_id")
    _refused(c.post(url, json={**body, "attitude": "hostile"}), "attitude")
    _refused(c.post(url, json={**body, "relationship_strength": 4}), "relationship_strength")
    _refused(c.post(url, json={**body, "owner_user_id": "no-such-user"}), "owner_user_id")
    patch = f"/api/v1/crm/contacts/{ceo['id']}"
    _refused(c.patch(patch, json={"reports_to_contact_id": ceo["id"]}), "reports_to_contact_id")
    _refused(c.patch(patch, json={"reports_to_contact_id": buyer["id"]}), "reports_to_contact_id")
    _refused(c.patch(patch, json={"reports_to_contact_id": cfo["id"]}), "reports_to_contact_id")
    _refused(c.patch(patch, json={"reports_to_contact_id": stranger["id"]}), "reports_to_contact_id")
    # nothing half-written: still three contacts, lines unchanged
    assert len(c.get(url).json()) == 3
    assert c.get(patch).json()["reports_to_contact_id"] is None
    assert c.get(f"/api/v1/crm/contacts/{buyer['id']}").json()["reports_to_contact_id"] == cfo["id"]

    # moving a line is fine when it forms no cycle; null clears it
    r = c.patch(
        f"/api/v1/crm/contacts/{buyer['id']}",
        json={"reports_to_contact_id": ceo["id"], "attitude": "neutral", "relationship_strength": 3},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["reports_to_contact_id"], r.json()["attitude"]) == (ceo["id"], "neutral")
    r = c.patch(
        f"/api/v1/crm/contacts/{cfo['id']}", json={"reports_to_contact_id": None, "owner_user_id": None}
    )
    assert (r.json()["reports_to_contact_id"], r.json()["owner_user_id"]) == (None, None)
    tree = c.get(f"/api/v1/crm/accounts/{acc}/relationship-map").json()
    assert sorted(n["contact"]["name"] for n in tree) == ["李财务", "王总"]
    assert c.patch("/api/v1/crm/contacts/nope", json={"attitude": "neutral"}).status_code == 404


def test_the_account_page_shows_the_map_and_adds_contacts(
    app: FastAPI, db: Database, tenant: TenantOut, sales: Sales, console_login: ConsoleLogin
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        acc = service.create_account(AccountIn(name="华联超市", owner_user_id=sales.rep.id), session=s)
    with TestClient(app) as c:
        csrf = {"csrf_token": console_login(c, sales.rep.email)}
        url = f"/crm/accounts/{acc.id}"
        page = c.get(url)
        assert "关系图" in page.text
        assert "还没有联系人" in page.text
        r = c.post(
            f"{url}/contacts",
            data={
                **csrf,
                "contact_name": "王总",
                "decision_role": "decision_maker",
                "attitude": "supporter",
                "relationship_strength": "3",
                "contact_owner_user_id": sales.rep.id,
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        with db.session(tenant_id=tenant.id) as s:
            boss_id = service.list_contacts(acc.id, session=s)[0].id
        r = c.post(
            f"{url}/contacts",
            data={
                **csrf,
                "contact_name": "李财务",
                "decision_role": "economic_buyer",
                "reports_to_contact_id": boss_id,
                "attitude": "opponent",
                "relationship_strength": "1",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        # bad input: the form comes back with the field marked and nothing is added
        r = c.post(
            f"{url}/contacts",
            data={**csrf, "contact_name": "赵", "decision_role": "user", "relationship_strength": "9"},
        )
        assert r.status_code == 422
        assert 'id="f-relationship_strength" aria-invalid="true"' in r.text
        r = c.post(
            f"{url}/contacts",
            data={**csrf, "contact_name": "", "decision_role": "user"},
        )
        assert r.status_code == 422
        assert "field-invalid" in r.text
        page = c.get(url).text
        assert page.count('class="relmap-node"') == 2
        # 李财务 is nested under 王总
        boss_at, sub_at = page.index("王总"), page.index("李财务")
        assert boss_at < sub_at
        nested = page[page.index(f'data-contact-id="{boss_id}"') :]
        assert nested.index('class="relmap-level"') < nested.index("李财务") < nested.index("</li>")
        assert "badge-success" in page
        assert "badge-danger" in page
        assert "●●●" in page
        assert "●○○" in page
        assert "支持" in page
        assert "决策者" in page
        en = c.get(url, headers={"Accept-Language": "en"}).text
        assert "Relationship map" in en
        assert "Opponent" in en
