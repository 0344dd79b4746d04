"""The scorecard page (read for every brand role, a new version from the form for owners and
admins) and the pipeline's outcome events: each on SQLite and PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.events import outbox
from bcone.crm import service
from bcone.crm.schemas import AccountIn, AssessmentIn, OpportunityIn, ScorecardTemplateOut
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.crm.conftest import Sales, new_opportunity, viewer
from tests.fixtures_iam import ConsoleLogin, MakeUser

GATE_ITEMS = (
    "identify_pain",
    "metrics",
    "decision_criteria",
    "champion",
    "economic_buyer",
    "decision_process",
    "paper_process",
)


def _form_of(template: ScorecardTemplateOut, csrf: str) -> dict[str, str]:
    """The edit form as the page fills it in: one row per item of ``template``."""
    data = {"csrf_token": csrf}
    for n, item in enumerate(template.items):
        p = f"items.{n}."
        data |= {
            p + "key": item.key,
            p + "dimension": item.dimension,
            p + "label_zh": item.label_zh,
            p + "label_en": item.label_en,
            p + "evidence_zh": item.evidence_zh,
            p + "evidence_en": item.evidence_en,
            p + "evidence_from_score": str(item.evidence_from_score),
            p + "levels": "\n".join(f"{lv.score} | {lv.label_zh} | {lv.label_en}" for lv in item.levels),
        }
    return data


def test_scorecard_page_edits_make_a_new_version(
    app: FastAPI,
    db: Database,
    tenant: TenantOut,
    sales: Sales,
    make_user: MakeUser,
    console_login: ConsoleLogin,
) -> None:
    analyst = make_user("analyst")
    with db.session(tenant_id=tenant.id) as s:
        v1 = service.current_template(session=s)
    with TestClient(app) as c:
        token = console_login(c, analyst.email)
        page = c.get("/crm/scorecard")
        assert page.status_code == 200
        assert "客情判断" in page.text
        assert "v1" in page.text
        assert v1.items[0].label_zh in page.text
        assert 'id="scorecard-form"' not in page.text  # read only
        assert 'id="scorecard-read-only"' in page.text
        assert c.post("/crm/scorecard", data=_form_of(v1, token)).status_code == 403
    with TestClient(app) as c:
        token = console_login(c, sales.owner.email)
        page = c.get("/crm/scorecard", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert "Relationship scorecard" in page.text
        assert 'id="scorecard-form"' in page.text
        assert 'href="/crm/scorecard" aria-current="page"' in page.text  # in the tab bar
        # a bad level list: the error is next to that field, nothing written
        bad = _form_of(v1, token) | {"items.2.levels": "1 | 有 | Some\n2 | 强 | Strong"}
        r = c.post("/crm/scorecard", data=bad)
        assert r.status_code == 422
        assert 'id="f-items.2.levels-error"' in r.text
        assert "starting at 0" in r.text
        # an item a stage requires cannot be removed
        r = c.post("/crm/scorecard", data=_form_of(v1, token) | {"items.0.remove": "1"})
        assert r.status_code == 422
        assert "cannot be removed" in r.text
        with db.session(tenant_id=tenant.id) as s:
            assert [v.version for v in service.template_versions(session=s)] == [1]
        # a good edit: a changed label, a removed item and a new one
        removable = next(i for i, item in enumerate(v1.items) if item.key not in GATE_ITEMS)
        new_row = len(v1.items)
        good = _form_of(v1, token) | {
            "items.0.label_zh": "量化指标（新）",
            f"items.{removable}.remove": "1",
            f"items.{new_row}.key": "budget",
            f"items.{new_row}.dimension": "meddpicc",
            f"items.{new_row}.label_zh": "预算",
            f"items.{new_row}.label_en": "Budget",
            f"items.{new_row}.evidence_from_score": "1",
            f"items.{new_row}.levels": "0 | 未知 | Unknown\n1 | 已确认 | Confirmed",
        }
        bad_key = good | {f"items.{new_row}.key": "Bad Key"}
        r = c.post("/crm/scorecard", data=bad_key)
        assert r.status_code == 422
        assert f'id="f-items.{new_row}.key-error"' in r.text
        r = c.post("/crm/scorecard", data=good, follow_redirects=False)
        assert r.status_code == 303, r.text
        page = c.get("/crm/scorecard")
        assert "v2" in page.text
        assert "量化指标（新）" in page.text
        assert "预算" in page.text
        old = c.get("/crm/scorecard?version=1")
        assert "查看 v1" in old.text
    with db.session(tenant_id=tenant.id) as s:
        versions = service.template_versions(session=s)
        assert [v.version for v in versions] == [2, 1]
        v2, old_v1 = versions
        assert old_v1.items == v1.items  # the old version is unchanged
        keys = [i.key for i in v2.items]
        assert "budget" in keys
        assert v1.items[removable].key not in keys
        assert v2.items[0].label_zh == "量化指标（新）"
        assert service.current_template(session=s).version == 2


def _events(s: Session, prefix: str) -> list[Any]:
    stmt = select(outbox).where(outbox.c.type.like(prefix + "%")).order_by(outbox.c.seq)
    return list(s.execute(stmt))


def _pass_gates(s: Session, opp_id: str, sales: Sales) -> None:
    service.record_assessment(
        opp_id, AssessmentIn(scores=dict.fromkeys(GATE_ITEMS, 1)), session=s, viewer=viewer(sales.rep)
    )


def test_won_and_lost_deals_append_one_event_each(s: Session, sales: Sales) -> None:
    org = network.create_organization(
        OrganizationIn(kind="distributor", code="D-EV", name="事件经销", division_code="310101"), session=s
    )
    account = service.create_account(
        AccountIn(name="事件经销", kind="network", network_org_id=org.id, owner_user_id=sales.rep.id),
        session=s,
    )
    won = service.create_opportunity(
        OpportunityIn.model_validate(
            {
                "account_id": account.id,
                "name": "渠道年框",
                "amount_fen": 8_800_000,
                "close_date": "2030-01-31",
                "grade": "key",
            }
        ),
        session=s,
        viewer=viewer(sales.rep),
    )
    _pass_gates(s, won.id, sales)
    service.move_stage(won.id, "negotiation", session=s, viewer=viewer(sales.rep))
    assert _events(s, "opportunity.") == []  # an open stage is no outcome
    out = service.move_stage(won.id, "won", session=s, viewer=viewer(sales.rep))
    with pytest.raises(BconeError) as exc:
        service.move_stage(won.id, "won", session=s, viewer=viewer(sales.rep))
    assert exc.value.status == 409
    events = _events(s, "opportunity.")
    assert len(events) == 1
    e = events[0]
    assert (e.type, e.event_id) == ("opportunity.won", f"opportunity.won:{won.id}:{out.stage_moves}")
    assert (e.amount, e.org_id) == (8_800_000, org.id)
    assert json.loads(e.properties) == {
        "opportunity_id": won.id,
        "grade": "key",
        "stage": "won",
        "owner": sales.rep.id,
    }
    # a cancelled won deal becomes lost: a new event, once however often it is cancelled
    service.cancel_won(won.id, "客户撤单", session=s, viewer=viewer(sales.manager))
    service.cancel_won(won.id, "客户撤单", session=s, viewer=viewer(sales.manager))
    assert [r.type for r in _events(s, "opportunity.")] == ["opportunity.won", "opportunity.lost"]
    # a deal lost outright; an enterprise account has no org_id
    lost = new_opportunity(s, sales.rep, name="企业项目", amount_fen=500_000)
    service.move_stage(lost.id, "lost", session=s, viewer=viewer(sales.rep))
    last = _events(s, "opportunity.lost")[-1]
    assert (last.event_id, last.amount, last.org_id) == (f"opportunity.lost:{lost.id}:1", 500_000, None)
    assert len(_events(s, "opportunity.")) == 3
