"""Tiering with growth tasks, leads, back-office requests and mentions, bonus allocation through
the ledger, and field visits: each on SQLite and PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuBulkIn
from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.events import outbox
from bcone.core.jobs import run_pending
from bcone.core.pagination import PageParams
from bcone.crm import service
from bcone.crm.models import Account, GrowthTask
from bcone.crm.schemas import (
    AccountIn,
    AccountUpdate,
    ActivityIn,
    AssessmentIn,
    BackOfficeRequestIn,
    BackOfficeRequestUpdate,
    BonusPolicyIn,
    CheckInIn,
    ContributionIn,
    GrowthTaskClose,
    LeadConvert,
    LeadIn,
    LeadQualify,
    StoreAuditIn,
    TeamMemberIn,
    TierModelIn,
    VisitOrderIn,
    VisitPlanIn,
)
from bcone.iam.schemas import TenantOut
from bcone.ledger import service as ledger
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.crm.conftest import Sales, new_opportunity, viewer

SYSTEM = service.Viewer.system()
NEXT_MONTH = (date.today().replace(day=1) + timedelta(days=32)).replace(day=1)  # every day still ahead
CLOSE = date.today() + timedelta(days=30)


def _code(exc: pytest.ExceptionInfo[BconeError]) -> tuple[int, str, str | None]:
    return exc.value.status, exc.value.code, exc.value.field


# --- tiering -------------------------------------------------------------------------------------


def _tier_model(**over: object) -> TierModelIn:
    base = (
        service.current_tier_model.__wrapped__ if hasattr(service.current_tier_model, "__wrapped__") else None
    )
    assert base is None
    data: dict[str, object] = {
        "weights": {"value": 0.6, "potential": 0.2, "strategic_fit": 0.2},
        "thresholds": {"A": 0.6, "B": 0.3},
        "policies": {
            "A": {
                "visits_per_month": 4,
                "growth_tasks": [
                    {"key": "qbr", "title_zh": "季度业务回顾", "title_en": "QBR", "every": "quarter"},
                    {
                        "key": "cross_sell",
                        "title_zh": "交叉销售",
                        "title_en": "Cross-sell",
                        "every": "quarter",
                    },
                ],
            },
            "B": {"visits_per_month": 2, "growth_tasks": []},
            "C": {"visits_per_month": 1},
        },
    }
    data.update(over)
    return TierModelIn.model_validate(data)


def test_tier_model_weights_must_add_up(s: Session, sales: Sales) -> None:
    with pytest.raises(BconeError) as exc:
        service.create_tier_model(
            _tier_model(weights={"value": 0.5, "potential": 0.3, "strategic_fit": 0.3}),
            session=s,
            viewer=viewer(sales.owner),
        )
    assert _code(exc) == (422, "validation_failed", "weights")
    with pytest.raises(BconeError) as exc:
        service.create_tier_model(
            _tier_model(thresholds={"A": 0.3, "B": 0.5}), session=s, viewer=viewer(sales.owner)
        )
    assert exc.value.field == "thresholds"
    assert service.current_tier_model(session=s).version == 1  # the default; nothing written
    out = service.create_tier_model(_tier_model(), session=s, viewer=viewer(sales.owner))
    assert out.version == 2
    assert out.weights["value"] == 0.6


def test_tiering_assigns_tiers_records_history_and_generates_tasks_once(
    db: Database, tenant: TenantOut, sales: Sales
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        service.create_tier_model(_tier_model(), session=s, viewer=viewer(sales.owner))
        big = new_opportunity(s, sales.rep, name="大单", amount_fen=90_000_000)
        small = new_opportunity(s, sales.rep, name="小单", amount_fen=1_000_000)
        idle = service.create_account(AccountIn(name="沉睡客户", owner_user_id=sales.rep.id), session=s)
        for opp in (big, small):
            service.update_account(
                opp.account_id,
                AccountUpdate(potential=80, strategic_fit=60, owner_user_id=sales.rep.id),
                session=s,
            )
            service.record_assessment(
                opp.id,
                AssessmentIn(
                    scores={
                        "identify_pain": 1,
                        "metrics": 1,
                        "decision_criteria": 1,
                        "champion": 1,
                        "economic_buyer": 1,
                        "decision_process": 1,
                        "paper_process": 1,
                    },
                ),
                session=s,
                viewer=viewer(sales.rep),
            )
            for stage in ("needs", "solution", "negotiation", "won"):
                service.move_stage(opp.id, stage, session=s, viewer=viewer(sales.rep))
    with db.session(tenant_id=tenant.id) as s:
        queued = service.enqueue_tiering(session=s)
    assert run_pending(db, worker_id="test") == 1
    with db.session(tenant_id=tenant.id) as s:
        tiers = {a.name: a.tier for a in s.scalars(select(Account))}
        # value 100 (the biggest win) x .6 + 80 x .2 + 60 x .2 = 0.88 -> A; the smaller win ranks
        # at the 50th percentile: 0.3 + 0.28 = 0.58 -> B; nothing won: 0.2 -> C.
        assert tiers == {big.account_name: "A", small.account_name: "B", idle.name: "C"}
        history = service.tier_history(big.account_id, session=s)
        assert [(h.from_tier, h.to_tier, h.model_version) for h in history] == [(None, "A", 2)]
        tasks = service.list_growth_tasks(PageParams(), session=s, viewer=viewer(sales.rep))
        assert sorted(t.key for t in tasks.items) == ["cross_sell", "qbr"]
        assert {t.account_id for t in tasks.items} == {big.account_id}
        assert all(t.status == "open" and t.assignee_user_id == sales.rep.id for t in tasks.items)
        assert queued.job_id
        # Running again: no change of tier, no new task.
        again = service.run_tiering(session=s)
        assert (again.changed, again.tasks_created, again.by_tier) == (0, 0, {"A": 1, "B": 1, "C": 1})
        # Another rep sees none of these tasks; the manager sees the team's.
        assert (
            service.list_growth_tasks(PageParams(), session=s, viewer=viewer(sales.other_team_rep)).total == 0
        )
        assert service.list_growth_tasks(PageParams(), session=s, viewer=viewer(sales.manager)).total == 2
        task = tasks.items[0]
        with pytest.raises(BconeError) as exc:
            service.close_growth_task(
                task.id, GrowthTaskClose(status="done"), session=s, viewer=viewer(sales.rep)
            )
        assert exc.value.field == "outcome"
        done = service.close_growth_task(
            task.id,
            GrowthTaskClose(
                status="done", outcome="won_growth", outcome_note="新增两个品类", growth_fen=500_000
            ),
            session=s,
            viewer=viewer(sales.rep),
        )
        assert (done.status, done.outcome, done.growth_fen) == ("done", "won_growth", 500_000)
        with pytest.raises(BconeError) as exc:
            service.close_growth_task(
                task.id, GrowthTaskClose(status="cancelled"), session=s, viewer=viewer(sales.rep)
            )
        assert exc.value.status == 409
        summary = service.growth_summary(session=s, viewer=viewer(sales.manager))
        assert (summary["open"], summary["done"], summary["won_growth"], summary["growth_fen"]) == (
            1,
            1,
            1,
            500_000,
        )


def test_concurrent_tiering_runs_create_each_task_once(db: Database, tenant: TenantOut, sales: Sales) -> None:
    with db.session(tenant_id=tenant.id) as s:
        for i in range(6):
            service.create_account(
                AccountIn(name=f"战略客户{i}", owner_user_id=sales.rep.id, potential=100, strategic_fit=100),
                session=s,
            )
        service.create_tier_model(
            _tier_model(weights={"value": 0.0, "potential": 0.5, "strategic_fit": 0.5}),
            session=s,
            viewer=viewer(sales.owner),
        )
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with db.session(tenant_id=tenant.id) as s:
                service.run_tiering(session=s)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with db.session(tenant_id=tenant.id) as s:
        assert s.scalar(select(func.count()).select_from(GrowthTask)) == 12


# --- leads ---------------------------------------------------------------------------------------


def test_leads_capture_referral_import_qualify_convert(s: Session, sales: Sales) -> None:
    with pytest.raises(BconeError) as exc:
        service.create_lead(
            LeadIn(company="盒马", contact_name="李", source="referral"), session=s, viewer=viewer(sales.rep)
        )
    assert exc.value.field == "referrer_user_id"
    with pytest.raises(PydanticValidationError) as bad:
        LeadIn(company="盒马", contact_name="李", estimated_fen=-1)
    assert "estimated_fen" in str(bad.value)
    lead = service.create_lead(
        LeadIn(
            company="盒马鲜生",
            contact_name="李经理",
            need="门店扫码",
            source="referral",
            referrer_user_id=sales.rep2.id,
            estimated_fen=3_000_000,
        ),
        session=s,
        viewer=viewer(sales.rep),
    )
    assert (lead.owner_user_id, lead.status) == (sales.rep.id, "new")
    with pytest.raises(BconeError) as exc:
        service.convert_lead(lead.id, LeadConvert(close_date=CLOSE), session=s, viewer=viewer(sales.rep))
    assert (exc.value.status, exc.value.field) == (409, "status")
    service.qualify_lead(
        lead.id, LeadQualify(qualified=True, note="预算已批"), session=s, viewer=viewer(sales.rep)
    )
    first = service.convert_lead(lead.id, LeadConvert(close_date=CLOSE), session=s, viewer=viewer(sales.rep))
    again = service.convert_lead(lead.id, LeadConvert(close_date=CLOSE), session=s, viewer=viewer(sales.rep))
    assert first.created
    assert not again.created
    assert (again.account_id, again.opportunity_id) == (first.account_id, first.opportunity_id)
    opp = service.get_opportunity(first.opportunity_id, session=s, viewer=viewer(sales.rep))
    assert (opp.amount_fen, opp.owner_user_id) == (3_000_000, sales.rep.id)
    team = service.team(opp.id, session=s, viewer=viewer(sales.rep))
    assert [(m.user_id, m.role) for m in team.members] == [(sales.rep2.id, "other")]
    assert [c.weight for c in team.contributions] == [10]  # the referrer is credited
    assert service.list_contacts(first.account_id, session=s)[0].name == "李经理"
    with pytest.raises(BconeError) as exc:
        service.qualify_lead(lead.id, LeadQualify(qualified=False), session=s, viewer=viewer(sales.rep))
    assert (exc.value.status, exc.value.code) == (409, "lead_converted")
    # Import: good rows written, bad rows reported with their column.
    csv = (
        "公司,联系人,电话,预计金额\n"
        "永辉超市,张三,13800000000,12000.50\n"
        ",李四,,100\n"
        "物美,王五,,12.345\n"
        "大润发,赵六,,-5\n"
    ).encode()
    report = service.import_leads(csv, "leads.csv", session=s, viewer=viewer(sales.rep))
    assert (report.created, report.failed) == (1, 3)
    assert [(e.row, e.column) for e in report.errors] == [(3, "公司"), (4, "预计金额"), (5, "预计金额")]
    listed = service.list_leads(PageParams(q="永辉"), session=s, viewer=viewer(sales.rep))
    assert [(x.source, x.estimated_fen) for x in listed.items] == [("import", 1_200_050)]
    assert service.list_leads(PageParams(), session=s, viewer=viewer(sales.other_team_rep)).total == 0


# --- collaboration -------------------------------------------------------------------------------


def test_requests_comments_with_mentions_and_tasks(s: Session, sales: Sales) -> None:
    opp = new_opportunity(s, sales.rep)
    v = viewer(sales.rep)
    assert service.parse_mentions("请 @张三 和 (@li.si@x.com) 看下, mail a@b.com") == ["张三", "li.si@x.com"]
    with pytest.raises(BconeError) as exc:
        service.add_activity(opp.id, ActivityIn(kind="comment", body="@nobody 看一下"), session=s, viewer=v)
    assert (exc.value.status, exc.value.field) == (422, "body")
    entry = service.add_activity(
        opp.id, ActivityIn(kind="comment", body=f"@{sales.rep2.email} 请准备方案"), session=s, viewer=v
    )
    assert entry.mentions == [sales.rep2.id]
    assert [m.id for m in service.mentions_of(sales.rep2.id, session=s)] == [entry.id]
    with pytest.raises(BconeError) as exc:
        service.create_request(
            opp.id,
            BackOfficeRequestIn(kind="presales", body="演示", due_date=date.today() - timedelta(days=1)),
            session=s,
            viewer=v,
        )
    assert exc.value.field == "due_date"
    req = service.create_request(
        opp.id,
        BackOfficeRequestIn(kind="finance", body="报价审批", assignee_user_id=sales.rep2.id, due_date=CLOSE),
        session=s,
        viewer=v,
    )
    with pytest.raises(BconeError) as exc:
        service.update_request(
            opp.id, req.id, BackOfficeRequestUpdate(status="rejected"), session=s, viewer=viewer(sales.rep2)
        )
    assert exc.value.field == "response"
    done = service.update_request(
        opp.id,
        req.id,
        BackOfficeRequestUpdate(status="done", response="已批"),
        session=s,
        viewer=viewer(sales.rep2),
    )
    assert done.status == "done"
    assert done.closed_at is not None
    with pytest.raises(BconeError) as exc:
        service.update_request(
            opp.id, req.id, BackOfficeRequestUpdate(status="accepted"), session=s, viewer=v
        )
    assert exc.value.status == 409
    task = service.add_activity(
        opp.id,
        ActivityIn(kind="task", body="拜访采购", assignee_user_id=sales.rep2.id, due_date=CLOSE),
        session=s,
        viewer=v,
    )
    assert task.id is not None
    assert service.set_task_done(opp.id, task.id, True, session=s, viewer=viewer(sales.rep2)).done
    kinds = [e.kind for e in service.timeline(opp.id, session=s, viewer=v)]
    assert "request" in kinds
    assert "comment" in kinds
    assert "task" in kinds


# --- bonuses -------------------------------------------------------------------------------------


def _won_deal(s: Session, sales: Sales, amount_fen: int = 100_000_000) -> str:
    opp = new_opportunity(s, sales.rep, name="年度框架", amount_fen=amount_fen)
    v = viewer(sales.rep)
    service.add_team_member(opp.id, TeamMemberIn(user_id=sales.rep.id, role="AR"), session=s, viewer=v)
    service.add_team_member(opp.id, TeamMemberIn(user_id=sales.rep2.id, role="SR"), session=s, viewer=v)
    service.add_team_member(opp.id, TeamMemberIn(user_id=sales.manager.id, role="FR"), session=s, viewer=v)
    service.add_contribution(
        opp.id, ContributionIn(user_id=sales.rep2.id, what="方案", weight=60), session=s, viewer=v
    )
    service.add_contribution(
        opp.id, ContributionIn(user_id=sales.rep.id, what="关系", weight=40), session=s, viewer=v
    )
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
    return opp.id


def test_bonus_split_by_roles_and_contributions_through_the_ledger(s: Session, sales: Sales) -> None:
    with pytest.raises(BconeError) as exc:
        service.set_bonus_policy(
            BonusPolicyIn(pool_basis_points=200, role_ratios={"AR": 0.5, "SR": 0.3, "FR": 0.3}),
            session=s,
            viewer=viewer(sales.owner),
        )
    assert (exc.value.status, exc.value.field) == (422, "role_ratios")
    with pytest.raises(PydanticValidationError) as bad:
        BonusPolicyIn(pool_kind="fixed", pool_fixed_fen=-1, role_ratios={"AR": 1})
    assert "pool_fixed_fen" in str(bad.value)
    service.set_bonus_policy(
        BonusPolicyIn(
            pool_basis_points=200, role_ratios={"AR": 0.5, "SR": 0.3, "FR": 0.2}, contribution_share=0.5
        ),
        session=s,
        viewer=viewer(sales.owner),
    )
    opp_id = _won_deal(s, sales)  # the move to won allocates
    bonus = service.bonus_of(opp_id, session=s, viewer=viewer(sales.rep))
    pool = 2_000_000  # 2 % of 1,000,000 yuan
    assert bonus.pool_fen == pool
    got = {a.user_id: a.amount_fen for a in bonus.allocations}
    # base (.5, .3, .2) and contributions (.4, .6, 0), half each
    assert got == {sales.rep.id: 900_000, sales.rep2.id: 900_000, sales.manager.id: 200_000}
    assert sum(got.values()) == pool
    again = service.allocate_bonus(opp_id, session=s, viewer=viewer(sales.manager))
    assert [a.id for a in again.allocations] == [a.id for a in bonus.allocations]
    for a in bonus.allocations:
        tx = ledger.get_transaction(a.transaction_id, session=s)
        assert tx.idempotency_key == f"crm-bonus:{opp_id}:{a.user_id}"
        assert sum(e.amount for e in tx.entries) == 0
    expense = ledger.find_account(service_expense_spec(), session=s)
    assert expense is not None
    assert expense.balance == -pool
    stmt = service.bonus_statement(sales.rep2.id, session=s, viewer=viewer(sales.rep2))
    assert (stmt.allocated_fen, stmt.net_fen, stmt.ledger_balance_fen) == (900_000, 900_000, 900_000)
    with pytest.raises(BconeError) as exc:
        service.bonus_statement(sales.rep2.id, session=s, viewer=viewer(sales.other_team_rep))
    assert exc.value.status == 403
    # Cancel the won deal: exact reverse, once.
    with pytest.raises(BconeError):
        service.cancel_won(opp_id, "客户撤单", session=s, viewer=viewer(sales.rep))
    out = service.cancel_won(opp_id, "客户撤单", session=s, viewer=viewer(sales.manager))
    assert (out.status, out.cancelled_at is not None) == ("lost", True)
    service.cancel_won(opp_id, "客户撤单", session=s, viewer=viewer(sales.manager))
    assert ledger.find_account(service_expense_spec(), session=s).balance == 0  # type: ignore[union-attr]
    stmt = service.bonus_statement(sales.rep2.id, session=s, viewer=viewer(sales.manager))
    assert (stmt.allocated_fen, stmt.clawed_back_fen, stmt.net_fen, stmt.ledger_balance_fen) == (
        900_000,
        900_000,
        0,
        0,
    )
    for a in service.bonus_of(opp_id, session=s, viewer=viewer(sales.rep)).allocations:
        back = ledger.get_transaction(a.clawback_transaction_id or "", session=s)
        orig = ledger.get_transaction(a.transaction_id, session=s)
        assert sorted((e.account_id, -e.amount) for e in back.entries) == sorted(
            (e.account_id, e.amount) for e in orig.entries
        )
    summary = service.bonus_summary(session=s, viewer=viewer(sales.manager))
    assert all(r["net_fen"] == 0 for r in summary)


def service_expense_spec():  # type: ignore[no-untyped-def]
    from bcone.crm._bonus import EXPENSE_SPEC

    return EXPENSE_SPEC


def test_concurrent_allocation_posts_once(db: Database, tenant: TenantOut, sales: Sales) -> None:
    with db.session(tenant_id=tenant.id) as s:
        opp_id = _won_deal(s, sales)
        # forget the allocation made on the move to won, to race two fresh ones
        from bcone.crm.models import BonusAllocation

        txs = [a.transaction_id for a in s.scalars(select(BonusAllocation))]
        s.query(BonusAllocation).delete()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with db.session(tenant_id=tenant.id) as s:
                service.allocate_bonus(opp_id, session=s, viewer=viewer(sales.manager))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with db.session(tenant_id=tenant.id) as s:
        from bcone.crm.models import BonusAllocation

        rows = list(s.scalars(select(BonusAllocation)))
        assert sorted(r.transaction_id for r in rows) == sorted(txs)  # the same ledger postings, once
        assert ledger.find_account(service_expense_spec(), session=s).balance == -1_000_000  # type: ignore[union-attr]


# --- field visits --------------------------------------------------------------------------------

STORES = [  # (code, name, lng, lat) around People's Square, Shanghai
    ("S-1", "黄浦一店", 121.4750, 31.2300),
    ("S-2", "黄浦二店", 121.4900, 31.2350),
    ("S-3", "静安店", 121.4480, 31.2290),
]


def _stores(s: Session, sales: Sales) -> dict[str, str]:
    network.create_organization(
        OrganizationIn(
            kind="distributor", code="D-SH", name="上海经销", division_code="310101", sales_regions=["310101"]
        ),
        session=s,
    )
    out = {}
    for i, (code, name, lng, lat) in enumerate(STORES):
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
        acc = service.create_account(
            AccountIn(
                name=name, kind="network", network_org_id=org.id, owner_user_id=sales.rep.id, tier="ABC"[i]
            ),
            session=s,
        )
        out[code] = acc.id
    catalog.create_skus_bulk(
        [SkuBulkIn(product_name="绿茶", sku_code="GT-500", name="绿茶 500ml", list_price_fen=300)], session=s
    )
    return out


def test_visit_plans_follow_tiers_and_routes(s: Session, sales: Sales) -> None:
    _stores(s, sales)
    month = NEXT_MONTH
    key = f"{month.year}-{month.month:02d}"
    with pytest.raises(BconeError) as exc:
        service.plan_visits(
            VisitPlanIn(rep_user_id=sales.rep.id, month=key, start_lng=121.47, start_lat=31.23),
            session=s,
            viewer=viewer(sales.other_team_rep),
        )
    assert exc.value.status == 403
    run = service.plan_visits(
        VisitPlanIn(month=key, start_lng=121.4700, start_lat=31.2300), session=s, viewer=viewer(sales.rep)
    )
    # A: 4 visits, B: 2, C: 1 (the default tier model)
    assert (run.stores, run.visits) == (3, 7)
    again = service.plan_visits(
        VisitPlanIn(month=key, start_lng=121.4700, start_lat=31.2300), session=s, viewer=viewer(sales.rep)
    )
    assert (again.created, again.visits) == (0, 7)
    last = month.replace(day=28)
    plans = service.list_plans(
        session=s, viewer=viewer(sales.rep), date_from=month, date_to=last + timedelta(days=3)
    )
    counts: dict[str, int] = {}
    for p in plans:
        for v in p.visits:
            counts[v.store_name] = counts.get(v.store_name, 0) + 1
        legs = [v.leg_km for v in p.visits]
        assert [v.sequence for v in p.visits] == list(range(1, len(p.visits) + 1))
        assert abs(sum(legs) - p.route_km) < 0.01
        if len(p.visits) > 1:  # nearest first from the start point
            assert (
                legs[0]
                <= min(service_distance(p.start_lng, p.start_lat, v.store_name) for v in p.visits) + 1e-6
            )
    assert counts == {"黄浦一店": 4, "黄浦二店": 2, "静安店": 1}
    assert (
        service.list_plans(session=s, viewer=viewer(sales.other_team_rep), date_from=month, date_to=last)
        == []
    )


def service_distance(lng: float, lat: float, store_name: str) -> float:
    from bcone.core.geo import distance_km

    _, _, slng, slat = next(x for x in STORES if x[1] == store_name)
    return distance_km(lng, lat, slng, slat)


def test_check_in_audit_order_and_distribution_rate(s: Session, sales: Sales) -> None:
    _stores(s, sales)
    month = NEXT_MONTH
    service.plan_visits(
        VisitPlanIn(month=f"{month.year}-{month.month:02d}", start_lng=121.47, start_lat=31.23),
        session=s,
        viewer=viewer(sales.rep),
    )
    plans = service.list_plans(
        session=s, viewer=viewer(sales.rep), date_from=month, date_to=month + timedelta(days=31)
    )
    visits = {}
    for p in plans:
        for v in p.visits:
            visits.setdefault(v.store_name, v)
    v1, v2 = visits["黄浦一店"], visits["黄浦二店"]
    with pytest.raises(BconeError) as exc:
        service.record_audit(
            v1.id,
            StoreAuditIn(lines=[{"sku": "GT-500", "facings": 3, "stock": 20}]),
            session=s,
            viewer=viewer(sales.rep),
        )
    assert exc.value.status == 409  # check in first
    with pytest.raises(BconeError) as exc:
        service.check_in(v1.id, CheckInIn(lng=121.4900, lat=31.2350), session=s, viewer=viewer(sales.rep))
    assert (exc.value.status, exc.value.field) == (422, "location")
    assert exc.value.extra["distance_m"] > 1000
    with pytest.raises(BconeError) as exc:
        service.check_in(v1.id, CheckInIn(lng=121.4751, lat=31.2301), session=s, viewer=viewer(sales.rep2))
    assert exc.value.status in (403, 404)
    done = service.check_in(v1.id, CheckInIn(lng=121.4751, lat=31.2301), session=s, viewer=viewer(sales.rep))
    assert done.status == "checked_in"
    assert done.distance_m is not None
    assert done.distance_m < 20
    service.check_in(v1.id, CheckInIn(lng=121.4751, lat=31.2301), session=s, viewer=viewer(sales.rep))
    with pytest.raises(BconeError) as exc:
        service.record_audit(
            v1.id,
            StoreAuditIn(lines=[{"sku": "NOPE", "facings": 1, "stock": 1}]),
            session=s,
            viewer=viewer(sales.rep),
        )
    assert exc.value.field == "lines.0.sku"
    with pytest.raises(BconeError) as exc:
        service.record_audit(
            v1.id,
            StoreAuditIn(lines=[{"sku": "GT-500", "facings": 1, "stock": 1}], photos=["file:///etc/passwd"]),
            session=s,
            viewer=viewer(sales.rep),
        )
    assert exc.value.field == "photos.0"
    service.record_audit(
        v1.id,
        StoreAuditIn(
            lines=[{"sku": "GT-500", "facings": 4, "stock": 24, "price_fen": 350}],
            photos=["https://img.example/1.jpg"],
        ),
        session=s,
        viewer=viewer(sales.rep),
    )
    order = service.take_order(
        v1.id,
        VisitOrderIn(lines=[{"sku": "GT-500", "quantity": 24, "price_fen": 250}]),
        session=s,
        viewer=viewer(sales.rep),
    )
    assert order.total_fen == 6000
    service.check_in(v2.id, CheckInIn(lng=121.4900, lat=31.2350), session=s, viewer=viewer(sales.rep))
    service.record_audit(
        v2.id,
        StoreAuditIn(lines=[{"sku": "GT-500", "facings": 0, "stock": 0}]),
        session=s,
        viewer=viewer(sales.rep),
    )
    rate = service.distribution_rate(
        "GT-500", session=s, viewer=viewer(sales.manager), date_from=month, date_to=month + timedelta(days=31)
    )
    assert (rate.stores_visited, rate.stores_carrying, rate.rate) == (2, 1, 0.5)
    types = [r.type for r in s.execute(select(outbox.c.type).where(outbox.c.type.like("visit.%")))]
    assert sorted(types) == ["visit.checked_in", "visit.checked_in", "visit.order_taken"]


def test_another_tenant_sees_none_of_it(
    db: Database, tenant: TenantOut, other_tenant: TenantOut, sales: Sales
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        lead = service.create_lead(LeadIn(company="盒马", contact_name="李"), session=s, viewer=SYSTEM)
        service.create_account(AccountIn(name="战略客户", potential=100, strategic_fit=100), session=s)
        service.run_tiering(session=s)
        assert service.list_growth_tasks(PageParams(), session=s, viewer=SYSTEM).total == 1
    with db.session(tenant_id=other_tenant.id) as s:
        with pytest.raises(BconeError) as exc:
            service.get_lead(lead.id, session=s, viewer=SYSTEM)
        assert exc.value.status == 404
        assert service.list_growth_tasks(PageParams(), session=s, viewer=SYSTEM).total == 0
        assert service.run_tiering(session=s).accounts == 0
        assert service.bonus_summary(session=s, viewer=SYSTEM) == []


def test_list_totals_are_capped_and_deep_pages_are_right(s: Session, sales: Sales) -> None:
    from bcone.crm.models import Opportunity

    service.generate_pipeline(session=s, closed=0, open_count=1200, seed=5)
    ordered = list(s.scalars(select(Opportunity.id).order_by(Opportunity.close_date, Opportunity.id)))
    first = service.list_opportunities(PageParams(), session=s, viewer=SYSTEM, with_probability=False)
    assert (first.total, first.total_capped) == (1000, True)  # a lower bound, counted no further
    assert [o.id for o in first.items] == ordered[:50]
    deep = service.list_opportunities(PageParams(page=21), session=s, viewer=SYSTEM, with_probability=False)
    assert (deep.total, deep.total_capped) == (1200, False)
    assert [o.id for o in deep.items] == ordered[1000:1050]
    past = service.list_opportunities(PageParams(page=40), session=s, viewer=SYSTEM, with_probability=False)
    assert (past.items, past.total, past.total_capped) == ([], 1200, False)
    hits = service.list_opportunities(
        PageParams(q="陈列协议"), session=s, viewer=SYSTEM, with_probability=False
    )
    assert hits.total == sum(
        1 for _ in s.scalars(select(Opportunity.id).where(Opportunity.name.contains("陈列协议")))
    )
    assert not hits.total_capped
