"""Accounts, opportunities, stage moves gated by the scorecard, the iron triangle, the timeline,
scorecard versions and role scoping, through the service on both databases."""

from __future__ import annotations

import itertools
import threading
from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bcone.core.db import Database
from bcone.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from bcone.core.pagination import PageParams
from bcone.crm import service
from bcone.crm.errors import (
    DuplicateAccount,
    InvalidScorecard,
    OpportunityClosed,
    ScorecardItemsMissing,
    UnknownOrganization,
    UnknownUser,
)
from bcone.crm.models import StageChange
from bcone.crm.schemas import (
    AccountIn,
    AccountUpdate,
    ActivityIn,
    AssessmentIn,
    ContactIn,
    ContributionIn,
    OpportunityIn,
    ScorecardTemplateIn,
    TeamMemberIn,
)
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.crm.conftest import Sales, new_opportunity, viewer

FULL = {
    "identify_pain": (3, "客户确认库存周转慢"),
    "metrics": (2, "降本 8%"),
    "decision_criteria": (2, "评分表"),
    "champion": (3, "采购经理推动立项"),
    "economic_buyer": (2, "见过总经理"),
    "decision_process": (2, "三轮评审"),
    "paper_process": (1, ""),
}


def _assess(s: Session, opp_id: str, who: service.Viewer, items: dict[str, tuple[int, str]]) -> None:
    data = AssessmentIn(
        scores={k: v[0] for k, v in items.items()}, evidence={k: v[1] for k, v in items.items() if v[1]}
    )
    service.record_assessment(opp_id, data, session=s, viewer=who)


def test_accounts_contacts_and_network_accounts(s: Session) -> None:
    acc = service.create_account(AccountIn(name="上海联华超市", industry="零售", tier="A"), session=s)
    with pytest.raises(DuplicateAccount):
        service.create_account(AccountIn(name="上海联华超市"), session=s)
    c = service.add_contact(
        acc.id, ContactIn(name="王经理", title="采购总监", decision_role="decision_maker"), session=s
    )
    assert [x.id for x in service.list_contacts(acc.id, session=s)] == [c.id]
    with pytest.raises(ValidationError):
        ContactIn.model_validate({"name": "李", "decision_role": "boss"})
    # A network organisation is referenced by id and must exist.
    with pytest.raises(UnknownOrganization) as err:
        service.create_account(AccountIn(name="某经销商", kind="network", network_org_id="nope"), session=s)
    assert err.value.field == "network_org_id"
    org = network.create_organization(
        OrganizationIn(kind="distributor", code="D001", name="华东经销商", division_code="310000"), session=s
    )
    net = service.create_account(
        AccountIn(name="华东经销商", kind="network", network_org_id=org.id), session=s
    )
    assert net.network_org_id == org.id
    page = service.list_accounts(PageParams(q="联华"), session=s)
    assert [a.name for a in page.items] == ["上海联华超市"]
    # Renaming an account renames it in its opportunities' search.
    renamed = service.update_account(acc.id, AccountUpdate(name="联华华商"), session=s)
    assert renamed.name == "联华华商"


def test_amounts_are_cny_fen_and_not_negative(s: Session, sales: Sales) -> None:
    acc = service.create_account(AccountIn(name="客户A"), session=s)
    base = {"account_id": acc.id, "name": "X", "close_date": "2027-01-31"}
    for bad in ({"amount_fen": -1}, {"amount_fen": 100, "currency": "USD"}, {"amount_fen": 1.5}):
        with pytest.raises(ValidationError):
            OpportunityIn.model_validate({**base, **bad})
    opp = service.create_opportunity(
        OpportunityIn.model_validate({**base, "amount_fen": 123_456, "currency": "cny"}),
        session=s,
        viewer=viewer(sales.rep),
    )
    assert (opp.amount_fen, opp.currency, opp.stage_key, opp.owner_user_id) == (
        123_456,
        "CNY",
        "qualify",
        sales.rep.id,
    )
    assert opp.sales_team_id == sales.team_id


def test_stage_moves_need_the_required_scorecard_items(s: Session, sales: Sales) -> None:
    rep = viewer(sales.rep)
    opp = new_opportunity(s, sales.rep)
    with pytest.raises(ScorecardItemsMissing) as err:
        service.move_stage(opp.id, "solution", session=s, viewer=rep)
    assert err.value.field == "to_stage"
    assert err.value.extra["missing"] == ["identify_pain", "metrics", "decision_criteria", "champion"]
    _assess(s, opp.id, rep, {k: FULL[k] for k in ("identify_pain", "metrics")})
    service.move_stage(opp.id, "needs", session=s, viewer=rep)
    with pytest.raises(ScorecardItemsMissing) as err:
        service.move_stage(opp.id, "solution", session=s, viewer=rep)
    assert err.value.extra["missing"] == ["decision_criteria", "champion"]
    # The latest assessment counts: a newer one without the items blocks again.
    _assess(s, opp.id, rep, FULL)
    service.move_stage(opp.id, "negotiation", session=s, viewer=rep)
    won = service.move_stage(opp.id, "won", session=s, viewer=rep)
    assert (won.status, won.forecast_category) == ("won", "closed")
    assert won.closed_at is not None
    with pytest.raises(OpportunityClosed):
        service.move_stage(opp.id, "lost", session=s, viewer=rep)
    history = service.stage_history(opp.id, session=s, viewer=rep)
    assert [(h.from_stage, h.to_stage) for h in history] == [
        (None, "qualify"),
        ("qualify", "needs"),
        ("needs", "negotiation"),
        ("negotiation", "won"),
    ]
    assert all(h.changed_by == sales.rep.id for h in history)
    assert len(service.assessments(opp.id, session=s, viewer=rep)) == 2


def test_scorecard_validation_and_versions(s: Session, sales: Sales) -> None:
    rep = viewer(sales.rep)
    opp = new_opportunity(s, sales.rep)
    for scores, evidence, field in (
        ({"nope": 1}, {}, "scores.nope"),
        ({"champion": 7}, {}, "scores.champion"),
        ({"champion": 3}, {}, "evidence.champion"),
        ({"champion": 1}, {"metrics": "x"}, "evidence.metrics"),
    ):
        with pytest.raises(InvalidScorecard) as err:
            service.record_assessment(
                opp.id, AssessmentIn(scores=scores, evidence=evidence), session=s, viewer=rep
            )
        assert err.value.field == field
    v1 = service.current_template(session=s)
    assert v1.version == 1
    assert len(v1.items) == 12
    first = service.record_assessment(opp.id, AssessmentIn(scores={"champion": 1}), session=s, viewer=rep)
    items = [i.model_dump() for i in v1.items]
    items[0]["label_en"] = "Quantified business case"
    items.append({**items[-1], "key": "rel_procurement", "label_zh": "与采购关系", "label_en": "Procurement"})
    owner = viewer(sales.owner)
    v2 = service.create_template_version(
        ScorecardTemplateIn.model_validate({"items": items}), session=s, viewer=owner
    )
    assert v2.version == 2
    assert [t.version for t in service.template_versions(session=s)] == [2, 1]
    second = service.record_assessment(
        opp.id, AssessmentIn(scores={"rel_procurement": 1}), session=s, viewer=rep
    )
    assert (first.template_version, second.template_version) == (1, 2)
    # Items that stages require cannot be dropped.
    with pytest.raises(InvalidScorecard):
        service.create_template_version(
            ScorecardTemplateIn.model_validate({"items": items[1:]}), session=s, viewer=owner
        )


def test_iron_triangle_contributions_and_timeline(s: Session, sales: Sales) -> None:
    rep = viewer(sales.rep)
    opp = new_opportunity(s, sales.rep)
    service.add_team_member(opp.id, TeamMemberIn(user_id=sales.rep.id, role="AR"), session=s, viewer=rep)
    service.add_team_member(
        opp.id, TeamMemberIn(user_id=sales.other_team_rep.id, role="SR"), session=s, viewer=rep
    )
    service.add_team_member(opp.id, TeamMemberIn(user_id=sales.rep2.id, role="FR"), session=s, viewer=rep)
    with pytest.raises(ValidationError):
        TeamMemberIn.model_validate({"user_id": sales.rep.id, "role": "XR"})
    with pytest.raises(UnknownUser):
        service.add_team_member(opp.id, TeamMemberIn(user_id="nobody", role="SR"), session=s, viewer=rep)
    service.add_contribution(
        opp.id,
        ContributionIn(user_id=sales.other_team_rep.id, what="方案演示", weight=30),
        session=s,
        viewer=rep,
    )
    with pytest.raises(ValidationFailed) as err:
        service.add_contribution(
            opp.id, ContributionIn(user_id=sales.manager.id, what="x", weight=5), session=s, viewer=rep
        )
    assert err.value.field == "user_id"
    service.add_activity(
        opp.id, ActivityIn(kind="task", body="准备报价", due_date=date(2027, 1, 5)), session=s, viewer=rep
    )
    service.add_activity(opp.id, ActivityIn(kind="comment", body="客户下周出差"), session=s, viewer=rep)
    team = service.team(opp.id, session=s, viewer=rep)
    assert sorted(m.role for m in team.members) == ["AR", "FR", "SR"]
    assert [c.weight for c in team.contributions] == [30]
    kinds = {e.kind for e in service.timeline(opp.id, session=s, viewer=rep)}
    assert kinds == {"task", "comment", "stage_change", "contribution"}
    # The solution engineer of another team now sees the opportunity through the triangle.
    other = viewer(sales.other_team_rep)
    assert service.get_opportunity(opp.id, session=s, viewer=other).id == opp.id


def test_role_scoping(s: Session, sales: Sales) -> None:
    mine = new_opportunity(s, sales.rep, name="A")
    teammate = new_opportunity(s, sales.rep2, name="B")
    other = new_opportunity(s, sales.other_team_rep, name="C")

    def visible(user: object) -> set[str]:
        page = service.list_opportunities(PageParams(), session=s, viewer=viewer(user))  # type: ignore[arg-type]
        return {o.id for o in page.items}

    assert visible(sales.rep) == {mine.id}
    assert visible(sales.manager) == {mine.id, teammate.id}
    assert visible(sales.owner) == {mine.id, teammate.id, other.id}
    with pytest.raises(NotFound):
        service.get_opportunity(other.id, session=s, viewer=viewer(sales.rep))
    with pytest.raises(Forbidden):
        service.create_opportunity(
            OpportunityIn(
                account_id=mine.account_id,
                name="X",
                owner_user_id=sales.rep2.id,
                amount_fen=1,
                close_date=date(2027, 1, 1),
            ),
            session=s,
            viewer=viewer(sales.rep),
        )
    page = service.list_opportunities(PageParams(q="客户 B"), session=s, viewer=viewer(sales.owner))
    assert [o.name for o in page.items] == ["B"]
    assert page.items[0].probability is not None
    assert page.items[0].probability.source == "stage_prior"


def test_tenants_are_isolated(db: Database, tenant: TenantOut, other_tenant: TenantOut, sales: Sales) -> None:
    with db.session(tenant_id=tenant.id) as s:
        opp = new_opportunity(s, sales.rep)
    with db.session(tenant_id=other_tenant.id) as s:
        with pytest.raises(NotFound):
            service.get_opportunity(opp.id, session=s, viewer=service.Viewer.system())
        assert service.list_opportunities(PageParams(), session=s, viewer=service.Viewer.system()).total == 0


def test_pipeline_is_configurable(s: Session, sales: Sales) -> None:
    stages = service.pipeline(session=s)
    assert [x.key for x in stages] == ["qualify", "needs", "solution", "negotiation", "won", "lost"]
    assert stages[1].name_zh == "需求确认"
    new_opportunity(s, sales.rep)
    from bcone.crm.schemas import StageIn

    custom = [
        StageIn(key="qualify", name_zh="线索", name_en="Lead", prior_probability=0.1),
        StageIn(
            key="demo", name_zh="演示", name_en="Demo", prior_probability=0.4, required_items=["champion"]
        ),
        StageIn(key="won", name_zh="赢单", name_en="Won", outcome="won", prior_probability=1),
        StageIn(key="lost", name_zh="输单", name_en="Lost", outcome="lost", prior_probability=0),
    ]
    assert [x.key for x in service.replace_pipeline(custom, session=s)] == ["qualify", "demo", "won", "lost"]
    with pytest.raises(Conflict):  # "qualify" is in use
        service.replace_pipeline(custom[1:], session=s)


@pytest.mark.parametrize("threads", [6])
def test_concurrent_stage_moves_keep_one_history_chain(
    db: Database, tenant: TenantOut, sales: Sales, threads: int
) -> None:
    with db.session(tenant_id=tenant.id) as s:
        opp = new_opportunity(s, sales.rep)
        _assess(s, opp.id, viewer(sales.rep), FULL)
    targets = ["needs", "solution", "negotiation", "qualify", "needs", "solution"][:threads]
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def move(stage: str) -> None:
        try:
            barrier.wait()
            with db.session(tenant_id=tenant.id) as s:
                service.move_stage(opp.id, stage, session=s, viewer=viewer(sales.rep))
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    workers = [threading.Thread(target=move, args=(t,)) for t in targets]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with db.session(tenant_id=tenant.id) as s:
        changes = list(
            s.scalars(
                select(StageChange)
                .where(StageChange.opportunity_id == opp.id)
                .order_by(StageChange.changed_at, StageChange.id)
            )
        )
        final = service.get_opportunity(opp.id, session=s, viewer=viewer(sales.rep))
    # Every change starts where the previous one ended, and the last one is where it is now.
    for before, after in itertools.pairwise(changes):
        assert after.from_stage == before.to_stage
    assert changes[-1].to_stage == final.stage_key
    assert final.stage_moves == len(changes) - 1


def test_concurrent_first_use_seeds_one_pipeline_and_template(db: Database, tenant: TenantOut) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            barrier.wait()
            with db.session(tenant_id=tenant.id) as s:
                service.pipeline(session=s)
                service.current_template(session=s)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=first_use) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with db.session(tenant_id=tenant.id) as s:
        assert len(service.pipeline(session=s)) == 6
        assert [t.version for t in service.template_versions(session=s)] == [1]
