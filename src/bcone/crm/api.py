"""HTTP API of the crm domain (``/api/v1/crm/...``).

Sales reps, sales managers, owners and admins use it. Opportunities are scoped by role: a rep sees
their own (and those whose iron triangle they are in), a manager also the teams they lead, owners
and admins everything. The pipeline and the scorecard template are changed by owners and admins;
training the win-rate model is open to managers too.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import NotFound
from bcone.core.jobs import JobStatus, get_job
from bcone.core.pagination import Page
from bcone.crm import service
from bcone.crm.schemas import (
    AccountIn,
    AccountOut,
    AccountUpdate,
    ActivityIn,
    AssessmentIn,
    AssessmentOut,
    ContactIn,
    ContactOut,
    ContributionIn,
    ContributionOut,
    Forecast,
    ForecastCategory,
    Grade,
    ModelStatus,
    OpportunityIn,
    OpportunityOut,
    OpportunityUpdate,
    OppStatus,
    SalesTeamIn,
    SalesTeamOut,
    ScorecardTemplateIn,
    ScorecardTemplateOut,
    StageChangeOut,
    StageIn,
    StageMoveIn,
    StageOut,
    TeamMemberIn,
    TeamMemberOut,
    TeamOut,
    Tier,
    TimelineEntry,
    TrainQueued,
    WinModelOut,
)

router = APIRouter(tags=["crm"])

Seller = Annotated[Principal, Depends(require_roles(Role.sales_rep, Role.sales_manager))]
Manager = Annotated[Principal, Depends(require_roles(Role.sales_manager))]
Admin = Annotated[Principal, Depends(require_roles())]


def _v(principal: Principal) -> service.Viewer:
    return service.Viewer.of(principal)


# --- accounts ------------------------------------------------------------------------------------


@router.get("/crm/accounts")
def list_accounts(
    _: Seller, session: SessionDep, page: PageDep, tier: Tier | None = None, owner_user_id: str | None = None
) -> Page[AccountOut]:
    """Accounts; ``q`` searches name and industry."""
    return service.list_accounts(page, session=session, tier=tier, owner_user_id=owner_user_id)


@router.post("/crm/accounts", status_code=status.HTTP_201_CREATED)
def create_account(body: AccountIn, _: Seller, session: SessionDep) -> AccountOut:
    """Add an account (an enterprise, or a network organisation by ``network_org_id``)."""
    return service.create_account(body, session=session)


@router.get("/crm/accounts/{account_id}")
def get_account(account_id: str, _: Seller, session: SessionDep) -> AccountOut:
    return service.get_account(account_id, session=session)


@router.patch("/crm/accounts/{account_id}")
def update_account(account_id: str, body: AccountUpdate, _: Seller, session: SessionDep) -> AccountOut:
    """Change an account; only the fields sent change."""
    return service.update_account(account_id, body, session=session)


@router.get("/crm/accounts/{account_id}/contacts")
def list_contacts(account_id: str, _: Seller, session: SessionDep) -> list[ContactOut]:
    return service.list_contacts(account_id, session=session)


@router.post("/crm/accounts/{account_id}/contacts", status_code=status.HTTP_201_CREATED)
def add_contact(account_id: str, body: ContactIn, _: Seller, session: SessionDep) -> ContactOut:
    """Add a contact with their decision role."""
    return service.add_contact(account_id, body, session=session)


# --- sales teams and pipeline --------------------------------------------------------------------


@router.get("/crm/sales-teams")
def list_sales_teams(_: Seller, session: SessionDep) -> list[SalesTeamOut]:
    return service.list_sales_teams(session=session)


@router.post("/crm/sales-teams", status_code=status.HTTP_201_CREATED)
def create_sales_team(body: SalesTeamIn, _: Admin, session: SessionDep) -> SalesTeamOut:
    """Create a sales team with its manager and members (owner, admin)."""
    return service.create_sales_team(body, session=session)


@router.get("/crm/stages")
def pipeline(_: Seller, session: SessionDep) -> list[StageOut]:
    """The tenant's pipeline stages in order, with the scorecard items each requires."""
    return service.pipeline(session=session)


@router.put("/crm/stages")
def replace_pipeline(body: list[StageIn], _: Admin, session: SessionDep) -> list[StageOut]:
    """Replace the pipeline (owner, admin); stages in use must stay."""
    return service.replace_pipeline(body, session=session)


# --- opportunities -------------------------------------------------------------------------------


@router.get("/crm/opportunities")
def list_opportunities(
    principal: Seller,
    session: SessionDep,
    page: PageDep,
    stage: str | None = None,
    status: OppStatus | None = None,
    owner_user_id: str | None = None,
    sales_team_id: str | None = None,
    account_id: str | None = None,
    grade: Grade | None = None,
    forecast_category: ForecastCategory | None = None,
    close_from: date | None = None,
    close_to: date | None = None,
) -> Page[OpportunityOut]:
    """Opportunities the caller may see, by close date; ``q`` searches name and account name."""
    return service.list_opportunities(
        page,
        session=session,
        viewer=_v(principal),
        stage=stage,
        status=status,
        owner_user_id=owner_user_id,
        sales_team_id=sales_team_id,
        account_id=account_id,
        grade=grade,
        forecast_category=forecast_category,
        close_from=close_from,
        close_to=close_to,
    )


@router.post("/crm/opportunities", status_code=status.HTTP_201_CREATED)
def create_opportunity(body: OpportunityIn, principal: Seller, session: SessionDep) -> OpportunityOut:
    """Open an opportunity; ``amount_fen`` is integer fen in CNY."""
    return service.create_opportunity(body, session=session, viewer=_v(principal))


@router.get("/crm/opportunities/{opp_id}")
def get_opportunity(opp_id: str, principal: Seller, session: SessionDep) -> OpportunityOut:
    """One opportunity with its win probability and the main reasons."""
    return service.get_opportunity(opp_id, session=session, viewer=_v(principal))


@router.patch("/crm/opportunities/{opp_id}")
def update_opportunity(
    opp_id: str, body: OpportunityUpdate, principal: Seller, session: SessionDep
) -> OpportunityOut:
    return service.update_opportunity(opp_id, body, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/stage")
def move_stage(opp_id: str, body: StageMoveIn, principal: Seller, session: SessionDep) -> OpportunityOut:
    """Move to a stage; 422 ``scorecard_items_missing`` lists the items the stage still needs."""
    return service.move_stage(opp_id, body.to_stage, session=session, viewer=_v(principal))


@router.get("/crm/opportunities/{opp_id}/history")
def stage_history(opp_id: str, principal: Seller, session: SessionDep) -> list[StageChangeOut]:
    return service.stage_history(opp_id, session=session, viewer=_v(principal))


@router.get("/crm/opportunities/{opp_id}/team")
def team(opp_id: str, principal: Seller, session: SessionDep) -> TeamOut:
    """The iron triangle (AR, SR, FR, others) and their contributions."""
    return service.team(opp_id, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/team", status_code=status.HTTP_201_CREATED)
def add_team_member(opp_id: str, body: TeamMemberIn, principal: Seller, session: SessionDep) -> TeamMemberOut:
    return service.add_team_member(opp_id, body, session=session, viewer=_v(principal))


@router.delete("/crm/opportunities/{opp_id}/team/{member_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_team_member(opp_id: str, member_id: str, principal: Seller, session: SessionDep) -> None:
    service.remove_team_member(opp_id, member_id, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/contributions", status_code=status.HTTP_201_CREATED)
def add_contribution(
    opp_id: str, body: ContributionIn, principal: Seller, session: SessionDep
) -> ContributionOut:
    """Record what a team member did (what, weight in points)."""
    return service.add_contribution(opp_id, body, session=session, viewer=_v(principal))


@router.get("/crm/opportunities/{opp_id}/timeline")
def timeline(opp_id: str, principal: Seller, session: SessionDep) -> list[TimelineEntry]:
    """Tasks, comments, stage changes, contributions and assessments, newest first."""
    return service.timeline(opp_id, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/activities", status_code=status.HTTP_201_CREATED)
def add_activity(opp_id: str, body: ActivityIn, principal: Seller, session: SessionDep) -> TimelineEntry:
    return service.add_activity(opp_id, body, session=session, viewer=_v(principal))


@router.get("/crm/opportunities/{opp_id}/assessments")
def assessments(opp_id: str, principal: Seller, session: SessionDep) -> list[AssessmentOut]:
    """Every scorecard assessment, newest (the one that counts) first."""
    return service.assessments(opp_id, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/assessments", status_code=status.HTTP_201_CREATED)
def record_assessment(
    opp_id: str, body: AssessmentIn, principal: Seller, session: SessionDep
) -> AssessmentOut:
    """Score the opportunity against the current scorecard version."""
    return service.record_assessment(opp_id, body, session=session, viewer=_v(principal))


# --- scorecard -----------------------------------------------------------------------------------


@router.get("/crm/scorecard/template")
def current_template(_: Seller, session: SessionDep) -> ScorecardTemplateOut:
    """The current scorecard (客情判断标准) version."""
    return service.current_template(session=session)


@router.get("/crm/scorecard/templates")
def template_versions(_: Seller, session: SessionDep) -> list[ScorecardTemplateOut]:
    """Every version, newest first."""
    return service.template_versions(session=session)


@router.post("/crm/scorecard/templates", status_code=status.HTTP_201_CREATED)
def create_template_version(
    body: ScorecardTemplateIn, principal: Admin, session: SessionDep
) -> ScorecardTemplateOut:
    """Edit the scorecard: makes a new version (owner, admin)."""
    return service.create_template_version(body, session=session, viewer=_v(principal))


# --- win-rate model and forecast -----------------------------------------------------------------


@router.post("/crm/model/train", status_code=status.HTTP_202_ACCEPTED)
def train(_: Manager, session: SessionDep) -> TrainQueued:
    """Queue the training job; follow it at ``/crm/model/jobs/{job_id}``."""
    return service.enqueue_training(session=session)


@router.get("/crm/model/jobs/{job_id}")
def training_job(job_id: str, principal: Manager, session: SessionDep) -> JobStatus:
    job = get_job(session, job_id)
    if job is None or job.tenant_id != principal.tenant_id or job.name != service.TRAIN_JOB:
        raise NotFound(f"no training job {job_id}", field="job_id")
    return job


@router.get("/crm/model/status")
def model_status(_: Seller, session: SessionDep) -> ModelStatus:
    """The model in use, or ``stage_prior`` (with the reason) while there is too little data."""
    return service.model_status(session=session)


@router.get("/crm/model/metrics")
def model_metrics(
    _: Seller, session: SessionDep, version: Annotated[int | None, Query(ge=1)] = None
) -> WinModelOut:
    """Held-out AUC, Brier, ECE before/after calibration, reliability curves, by team and stage."""
    return service.model_metrics(session=session, version=version)


@router.get("/crm/forecast")
def forecast(
    principal: Seller,
    session: SessionDep,
    by: Literal["month", "quarter", "team", "owner"] = "month",
    close_from: date | None = None,
    close_to: date | None = None,
) -> Forecast:
    """Pipeline weighted by win probability, commit and best case, by period, team or owner."""
    return service.forecast(
        session=session, viewer=_v(principal), by=by, close_from=close_from, close_to=close_to
    )
