"""The demo brand's sales CRM: a generated pipeline with its win-rate model, a sales team (a
manager and three reps) with their stores as network accounts, won deals worked by iron triangles
(bonuses allocated through the ledger, one deal cancelled and clawed back), leads, the tiering run
with its growth tasks, and each rep's visit plan for the month."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy.orm import Session

from bcone.core.auth import Role
from bcone.core.db import Database
from bcone.core.errors import ValidationFailed
from bcone.core.pagination import PageParams
from bcone.crm import service as crm
from bcone.crm.schemas import (
    AccountIn,
    AssessmentIn,
    ContributionIn,
    GrowthTaskClose,
    LeadConvert,
    LeadIn,
    LeadQualify,
    OpportunityIn,
    SalesTeamIn,
    TeamMemberIn,
    VisitPlanIn,
)
from bcone.demo.generator import DemoBrand
from bcone.iam import service as iam

# The CRM pipeline: enough closed deals to train the win-rate model (it needs crm.MIN_CLOSED).
CRM_CLOSED = 300
CRM_OPEN = 60
SALES_PASSWORD = "bcone-demo-2026"
STORES_PER_REP = 8
# Deals the demo's team works by hand (won with their triangle, one cancelled; open ones).
WON_DEALS = (
    ("华润万家", "年度陈列协议", 120_000_000, "strategic"),
    ("永辉超市", "门店扫码营销", 48_000_000, "key"),
    ("物美集团", "新品铺货计划", 36_000_000, "key"),
    ("盒马鲜生", "会员联合营销", 25_000_000, "normal"),
    ("大润发", "春节促销活动", 18_000_000, "normal"),
    ("联华超市", "渠道数字化", 15_000_000, "normal"),  # won, then cancelled: clawed back
)
OPEN_DEALS = (("华润万家", "二期门店扩展", 90_000_000), ("永辉超市", "年度框架续约", 60_000_000))
GATE_ITEMS = (
    "identify_pain",
    "metrics",
    "decision_criteria",
    "champion",
    "economic_buyer",
    "decision_process",
    "paper_process",
)


def load_crm(
    db: Database, tenant_id: str, seed: int, owner_id: str, brand: DemoBrand, ids: dict[str, str]
) -> int:
    """Load the demo's CRM; returns the number of opportunities (``CRM_CLOSED + CRM_OPEN``)."""
    handmade_closed, handmade_open = len(WON_DEALS), len(OPEN_DEALS) + 1  # + the converted lead
    with db.session(tenant_id=tenant_id) as session:
        crm.generate_pipeline(
            session=session,
            closed=CRM_CLOSED - handmade_closed,
            open_count=CRM_OPEN - handmade_open,
            seed=seed,
            owner_user_ids=[owner_id],
        )
    with db.session(tenant_id=tenant_id) as session:
        crm.train_win_model(session=session, seed=seed)
    with db.session(tenant_id=tenant_id) as session:
        manager, reps = _team(session)
        _stores(session, brand, ids, reps)
        _deals(session, manager, reps)
        _leads(session, reps)
        crm.run_tiering(session=session)
        _close_a_task(session, reps[0])
        _visits(session, brand, ids, reps)
    return CRM_CLOSED + CRM_OPEN


def _team(session: Session) -> tuple[str, list[str]]:
    manager = iam.create_user(
        session=session,
        email="manager@demo.bcone.dev",
        display_name="王经理",
        password=SALES_PASSWORD,
        role=Role.sales_manager,
    )
    reps = [
        iam.create_user(
            session=session,
            email=f"rep{i}@demo.bcone.dev",
            display_name=name,
            password=SALES_PASSWORD,
            role=Role.sales_rep,
        ).id
        for i, name in enumerate(("李明", "赵方案", "陈交付"), start=1)
    ]
    crm.create_sales_team(
        SalesTeamIn(name="华东大客户组", manager_user_id=manager.id, member_user_ids=reps),
        session=session,
    )
    return manager.id, reps


def _city_stores(brand: DemoBrand) -> list[tuple[str, str, float, float]]:
    """The stores of the city with the most stores: (code, name, lng, lat)."""
    stores = [o for o in brand.organizations if o.kind == "store"]
    if not stores:
        return []
    city = Counter(o.division_code[:4] for o in stores).most_common(1)[0][0]
    return [(o.code, o.name, o.lng, o.lat) for o in stores if o.division_code.startswith(city)]


def _stores(session: Session, brand: DemoBrand, ids: dict[str, str], reps: list[str]) -> None:
    stores = _city_stores(brand)[: STORES_PER_REP * len(reps)]
    for i, (code, name, _lng, _lat) in enumerate(stores):
        crm.create_account(
            AccountIn(
                name=name,
                kind="network",
                network_org_id=ids[code],
                industry="零售终端",
                owner_user_id=reps[i % len(reps)],
                potential=(37 * i) % 100,
                strategic_fit=(53 * i + 20) % 100,
            ),
            session=session,
        )


def _deals(session: Session, manager: str, reps: list[str]) -> None:
    ar, sr, fr = reps[0], reps[1], reps[2]
    v = crm.Viewer(ar, Role.sales_rep.value)
    accounts: dict[str, str] = {}
    for name, _deal, _amount, _grade in WON_DEALS:
        if name not in accounts:
            accounts[name] = crm.create_account(
                AccountIn(name=name, industry="零售", owner_user_id=ar, potential=85, strategic_fit=80),
                session=session,
            ).id
    close = date.today() - timedelta(days=10)
    for n, (account, deal, amount, grade) in enumerate(WON_DEALS):
        opp = crm.create_opportunity(
            OpportunityIn(
                account_id=accounts[account],
                name=deal,
                amount_fen=amount,
                close_date=close,
                grade=grade,
                own_estimate=80,
            ),
            session=session,
            viewer=v,
        )
        for user, role in ((ar, "AR"), (sr, "SR"), (fr, "FR")):
            crm.add_team_member(opp.id, TeamMemberIn(user_id=user, role=role), session=session, viewer=v)
        for user, what, weight in (
            (ar, "客户关系与商务谈判", 40 + 5 * n),
            (sr, "方案设计与演示", 35),
            (fr, "交付计划", 15),
        ):
            crm.add_contribution(
                opp.id, ContributionIn(user_id=user, what=what, weight=weight), session=session, viewer=v
            )
        crm.record_assessment(
            opp.id,
            AssessmentIn(scores=dict.fromkeys(GATE_ITEMS, 1)),
            session=session,
            viewer=v,
        )
        for stage in ("needs", "solution", "negotiation", "won"):
            crm.move_stage(opp.id, stage, session=session, viewer=v)
    cancelled = crm.list_opportunities(
        PageParams(q=WON_DEALS[-1][1], page_size=10),
        session=session,
        viewer=crm.Viewer.system(),
        with_probability=False,
    )
    last = next(o for o in cancelled.items if o.name == WON_DEALS[-1][1])
    crm.cancel_won(
        last.id, "客户预算冻结，撤单", session=session, viewer=crm.Viewer(manager, Role.sales_manager.value)
    )
    for account, deal, amount in OPEN_DEALS:
        crm.create_opportunity(
            OpportunityIn(
                account_id=accounts[account],
                name=deal,
                amount_fen=amount,
                close_date=date.today() + timedelta(days=75),
                grade="key",
            ),
            session=session,
            viewer=v,
        )


def _leads(session: Session, reps: list[str]) -> None:
    v = crm.Viewer(reps[0], Role.sales_rep.value)
    leads = [
        LeadIn(
            company="便利蜂",
            contact_name="周采购",
            need="门店扫码红包",
            estimated_fen=8_000_000,
            source="form",
        ),
        LeadIn(
            company="美宜佳",
            contact_name="吴经理",
            need="铺货与陈列",
            estimated_fen=12_000_000,
            source="referral",
            referrer_user_id=reps[1],
        ),
        LeadIn(company="罗森", contact_name="郑总", need="会员营销", estimated_fen=6_000_000, source="form"),
    ]
    made = [crm.create_lead(lead, session=session, viewer=v) for lead in leads]
    crm.qualify_lead(made[1].id, LeadQualify(qualified=True, note="预算已确认"), session=session, viewer=v)
    crm.convert_lead(
        made[1].id, LeadConvert(close_date=date.today() + timedelta(days=60)), session=session, viewer=v
    )


def _close_a_task(session: Session, rep: str) -> None:
    """One growth task closed with its outcome: the loop as it should end."""
    v = crm.Viewer(rep, Role.sales_rep.value)
    tasks = crm.list_growth_tasks(PageParams(page_size=1), session=session, viewer=v, status="open").items
    if tasks:
        crm.close_growth_task(
            tasks[0].id,
            GrowthTaskClose(
                status="done", outcome="won_growth", outcome_note="新增两个品类进店", growth_fen=2_000_000
            ),
            session=session,
            viewer=v,
        )


def _visits(session: Session, brand: DemoBrand, ids: dict[str, str], reps: list[str]) -> None:
    stores = _city_stores(brand)[: STORES_PER_REP * len(reps)]
    if not stores:
        return
    this_month = date.today().replace(day=1)
    next_month = (this_month + timedelta(days=32)).replace(day=1)
    for i, rep in enumerate(reps):
        mine = stores[i :: len(reps)]
        if not mine:
            continue
        lng = sum(s[2] for s in mine) / len(mine)
        lat = sum(s[3] for s in mine) / len(mine)
        for month in (this_month, next_month):
            try:
                crm.plan_visits(
                    VisitPlanIn(
                        month=month.strftime("%Y-%m"), start_lng=round(lng, 6), start_lat=round(lat, 6)
                    ),
                    session=session,
                    viewer=crm.Viewer(rep, Role.sales_rep.value),
                )
            except ValidationFailed:
                continue  # no working day left this month
