"""HTTP API of the crm domain (``/api/v1/crm/...``).

Sales reps, sales managers, owners and admins use it. Opportunities are scoped by role: a rep sees
their own (and those whose iron triangle they are in), a manager also the teams they lead, owners
and admins everything. The pipeline and the scorecard template are changed by owners and admins;
training the win-rate model is open to managers too.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from bcone.core.auth import Principal, Role
from bcone.core.deps import PageDep, SessionDep, require_roles
from bcone.core.errors import NotFound
from bcone.core.imports import MAX_IMPORT_BYTES, ImportMode, ImportRejected, ImportReport
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
    BackOfficeRequestIn,
    BackOfficeRequestOut,
    BackOfficeRequestUpdate,
    BonusOut,
    BonusPolicyIn,
    BonusPolicyOut,
    BonusStatement,
    CancelIn,
    CheckInIn,
    ContactIn,
    ContactNode,
    ContactOut,
    ContactUpdate,
    ContributionIn,
    ContributionOut,
    DistributionRate,
    Forecast,
    ForecastCategory,
    Grade,
    GrowthStatus,
    GrowthTaskClose,
    GrowthTaskOut,
    LeadConvert,
    LeadConverted,
    LeadIn,
    LeadOut,
    LeadQualify,
    LeadSource,
    LeadStatus,
    ModelStatus,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
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
    StoreAuditIn,
    StoreAuditOut,
    TaskDone,
    TeamMemberIn,
    TeamMemberOut,
    TeamOut,
    Tier,
    TierChangeOut,
    TierModelIn,
    TierModelOut,
    TierRunOut,
    TimelineEntry,
    TrainQueued,
    VisitOrderIn,
    VisitOrderOut,
    VisitOut,
    VisitPlanIn,
    VisitPlanOut,
    VisitPlanRun,
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
def update_account(
    account_id: str, body: AccountUpdate, principal: Seller, session: SessionDep
) -> AccountOut:
    """Change an account; only the fields sent change (a tier set by hand is recorded)."""
    return service.update_account(account_id, body, session=session, changed_by=principal.user_id)


@router.get("/crm/accounts/{account_id}/contacts")
def list_contacts(account_id: str, _: Seller, session: SessionDep) -> list[ContactOut]:
    return service.list_contacts(account_id, session=session)


@router.post("/crm/accounts/{account_id}/contacts", status_code=status.HTTP_201_CREATED)
def add_contact(account_id: str, body: ContactIn, _: Seller, session: SessionDep) -> ContactOut:
    """Add a contact with their decision role."""
    return service.add_contact(account_id, body, session=session)


@router.get("/crm/accounts/{account_id}/relationship-map")
def relationship_map(account_id: str, _: Seller, session: SessionDep) -> list[ContactNode]:
    """The account's contacts as trees by reporting line (roots first)."""
    return service.relationship_map(account_id, session=session)


@router.get("/crm/contacts/{contact_id}")
def get_contact(contact_id: str, _: Seller, session: SessionDep) -> ContactOut:
    return service.get_contact(contact_id, session=session)


@router.patch("/crm/contacts/{contact_id}")
def update_contact(contact_id: str, body: ContactUpdate, _: Seller, session: SessionDep) -> ContactOut:
    """Change a contact; only the fields sent change. A reporting line to a contact of another
    account, to themselves or one that closes a cycle is refused (422 naming
    ``reports_to_contact_id``)."""
    return service.update_contact(contact_id, body, session=session)


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
) -> OpportunityPage:
    """Opportunities the caller may see, by close date; ``q`` searches name and account name.
    ``total_capped: true`` means the total is a lower bound (counted a few pages ahead)."""
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


# --- tiering and growth tasks --------------------------------------------------------------------


@router.get("/crm/tier-model")
def current_tier_model(_: Seller, session: SessionDep) -> TierModelOut:
    """The tier model in use: criteria weights, thresholds of A and B, each tier's policy."""
    return service.current_tier_model(session=session)


@router.get("/crm/tier-models")
def tier_model_versions(_: Seller, session: SessionDep) -> list[TierModelOut]:
    return service.tier_model_versions(session=session)


@router.post("/crm/tier-models", status_code=status.HTTP_201_CREATED)
def create_tier_model(body: TierModelIn, principal: Admin, session: SessionDep) -> TierModelOut:
    """A new tier model version (owner, admin); weights must add up to 1 (422 naming ``weights``)."""
    return service.create_tier_model(body, session=session, viewer=_v(principal))


@router.post("/crm/tiers/run", status_code=status.HTTP_202_ACCEPTED)
def run_tiering(_: Manager, session: SessionDep) -> TrainQueued:
    """Queue the tiering job ``crm.assign_tiers``; follow it at ``/crm/tiers/jobs/{job_id}``."""
    return service.enqueue_tiering(session=session)


@router.get("/crm/tiers/jobs/{job_id}")
def tiering_job(job_id: str, principal: Manager, session: SessionDep) -> JobStatus:
    job = get_job(session, job_id)
    if job is None or job.tenant_id != principal.tenant_id or job.name != service.TIER_JOB:
        raise NotFound(f"no tiering job {job_id}", field="job_id")
    return job


@router.post("/crm/tiers/run-now")
def run_tiering_now(principal: Admin, session: SessionDep) -> TierRunOut:
    """Tier every account now, inside this request (owner, admin)."""
    return service.run_tiering(session=session, viewer=_v(principal))


@router.get("/crm/accounts/{account_id}/tier-history")
def tier_history(account_id: str, _: Seller, session: SessionDep) -> list[TierChangeOut]:
    service.get_account(account_id, session=session)
    return service.tier_history(account_id, session=session)


@router.get("/crm/growth-tasks")
def list_growth_tasks(
    principal: Seller,
    session: SessionDep,
    page: PageDep,
    status: GrowthStatus | None = None,
    account_id: str | None = None,
) -> Page[GrowthTaskOut]:
    """Growth tasks by due date (a rep: theirs; a manager: the team's); ``q`` searches accounts."""
    return service.list_growth_tasks(
        page, session=session, viewer=_v(principal), status=status, account_id=account_id
    )


@router.post("/crm/growth-tasks/{task_id}/close")
def close_growth_task(
    task_id: str, body: GrowthTaskClose, principal: Seller, session: SessionDep
) -> GrowthTaskOut:
    """Close the loop: ``done`` with its outcome, or ``cancelled``."""
    return service.close_growth_task(task_id, body, session=session, viewer=_v(principal))


# --- leads ---------------------------------------------------------------------------------------

Upload = Annotated[UploadFile, File(description="CSV (UTF-8 or GBK) or XLSX; the header is row 1")]
Mode = Annotated[ImportMode, Form(description="valid_rows (default) or all_or_nothing")]


@router.get("/crm/leads")
def list_leads(
    principal: Seller,
    session: SessionDep,
    page: PageDep,
    status: LeadStatus | None = None,
    source: LeadSource | None = None,
) -> Page[LeadOut]:
    """Leads, newest first; ``q`` searches company, contact and phone."""
    return service.list_leads(page, session=session, viewer=_v(principal), status=status, source=source)


@router.post("/crm/leads", status_code=status.HTTP_201_CREATED)
def create_lead(body: LeadIn, principal: Seller, session: SessionDep) -> LeadOut:
    """Capture a lead (form or referral; a referral credits its referrer)."""
    return service.create_lead(body, session=session, viewer=_v(principal))


@router.post("/crm/leads/import")
def import_leads(
    file: Upload, principal: Seller, session: SessionDep, mode: Mode = ImportMode.valid_rows
) -> ImportReport:
    """Import leads from CSV/XLSX; the report lists each bad row with its column."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    report = service.import_leads(
        data, file.filename or "upload", session=session, viewer=_v(principal), mode=mode
    )
    if report.mode is ImportMode.all_or_nothing and not report.imported and report.failed:
        raise ImportRejected(report)
    return report


@router.get("/crm/leads/{lead_id}")
def get_lead(lead_id: str, principal: Seller, session: SessionDep) -> LeadOut:
    return service.get_lead(lead_id, session=session, viewer=_v(principal))


@router.post("/crm/leads/{lead_id}/qualify")
def qualify_lead(lead_id: str, body: LeadQualify, principal: Seller, session: SessionDep) -> LeadOut:
    return service.qualify_lead(lead_id, body, session=session, viewer=_v(principal))


@router.post("/crm/leads/{lead_id}/convert")
def convert_lead(lead_id: str, body: LeadConvert, principal: Seller, session: SessionDep) -> LeadConverted:
    """Convert a qualified lead into an account and an opportunity (again: the same result)."""
    return service.convert_lead(lead_id, body, session=session, viewer=_v(principal))


# --- back-office requests, tasks, mentions -------------------------------------------------------


@router.get("/crm/opportunities/{opp_id}/requests")
def list_requests(opp_id: str, principal: Seller, session: SessionDep) -> list[BackOfficeRequestOut]:
    return service.list_requests(opp_id, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/requests", status_code=status.HTTP_201_CREATED)
def create_request(
    opp_id: str, body: BackOfficeRequestIn, principal: Seller, session: SessionDep
) -> BackOfficeRequestOut:
    """Ask presales, delivery or finance for help, with a due date."""
    return service.create_request(opp_id, body, session=session, viewer=_v(principal))


@router.patch("/crm/opportunities/{opp_id}/requests/{request_id}")
def update_request(
    opp_id: str, request_id: str, body: BackOfficeRequestUpdate, principal: Seller, session: SessionDep
) -> BackOfficeRequestOut:
    """Accept, finish or reject a request (a rejection gives its reason)."""
    return service.update_request(opp_id, request_id, body, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/tasks/{activity_id}/done")
def set_task_done(
    opp_id: str, activity_id: str, body: TaskDone, principal: Seller, session: SessionDep
) -> TimelineEntry:
    return service.set_task_done(opp_id, activity_id, body.done, session=session, viewer=_v(principal))


@router.get("/crm/me/requests")
def my_requests(principal: Seller, session: SessionDep) -> list[BackOfficeRequestOut]:
    """The open requests assigned to the caller."""
    return service.requests_assigned(principal.user_id or "", session=session)


@router.get("/crm/me/mentions")
def my_mentions(principal: Seller, session: SessionDep) -> list[TimelineEntry]:
    """The comments that mention the caller, newest first."""
    return service.mentions_of(principal.user_id or "", session=session)


# --- bonuses -------------------------------------------------------------------------------------


@router.get("/crm/bonus/policy")
def bonus_policy(_: Seller, session: SessionDep) -> BonusPolicyOut:
    return service.bonus_policy(session=session)


@router.put("/crm/bonus/policy")
def set_bonus_policy(body: BonusPolicyIn, principal: Admin, session: SessionDep) -> BonusPolicyOut:
    """A new bonus policy version (owner, admin); role ratios must add up to 1."""
    return service.set_bonus_policy(body, session=session, viewer=_v(principal))


@router.get("/crm/opportunities/{opp_id}/bonus")
def bonus_of(opp_id: str, principal: Seller, session: SessionDep) -> BonusOut:
    return service.bonus_of(opp_id, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/bonus")
def allocate_bonus(opp_id: str, principal: Manager, session: SessionDep) -> BonusOut:
    """Allocate a won deal's pool (done on the move to won; again: the same allocation)."""
    return service.allocate_bonus(opp_id, session=session, viewer=_v(principal))


@router.post("/crm/opportunities/{opp_id}/cancel")
def cancel_won(opp_id: str, body: CancelIn, principal: Manager, session: SessionDep) -> OpportunityOut:
    """Cancel a won deal: it becomes lost and every bonus share is clawed back."""
    return service.cancel_won(opp_id, body.reason, session=session, viewer=_v(principal))


@router.get("/crm/bonus/statements")
def bonus_summary(principal: Seller, session: SessionDep) -> list[dict[str, int | str]]:
    """Allocated, clawed back and net bonus per person in the caller's scope."""
    return service.bonus_summary(session=session, viewer=_v(principal))


@router.get("/crm/bonus/statements/{user_id}")
def bonus_statement(user_id: str, principal: Seller, session: SessionDep) -> BonusStatement:
    """One person's bonus statement (a rep: their own; a manager: the team's)."""
    return service.bonus_statement(user_id, session=session, viewer=_v(principal))


# --- field sales ---------------------------------------------------------------------------------


@router.post("/crm/visit-plans")
def plan_visits(body: VisitPlanIn, principal: Seller, session: SessionDep) -> VisitPlanRun:
    """Plan a rep's month of visits over their stores at their tiers' frequency (idempotent)."""
    return service.plan_visits(body, session=session, viewer=_v(principal))


@router.get("/crm/visit-plans")
def list_plans(
    principal: Seller,
    session: SessionDep,
    date_from: date,
    date_to: date,
    rep_user_id: str | None = None,
) -> list[VisitPlanOut]:
    """Visit plans with their routes between two dates (at most two months)."""
    return service.list_plans(
        session=session, viewer=_v(principal), date_from=date_from, date_to=date_to, rep_user_id=rep_user_id
    )


@router.get("/crm/visits/{visit_id}")
def get_visit(visit_id: str, principal: Seller, session: SessionDep) -> VisitOut:
    return service.get_visit(visit_id, session=session, viewer=_v(principal))


@router.post("/crm/visits/{visit_id}/check-in")
def check_in(visit_id: str, body: CheckInIn, principal: Seller, session: SessionDep) -> VisitOut:
    """Check in at the store; too far from it is a 422 naming ``location`` with the distance."""
    return service.check_in(visit_id, body, session=session, viewer=_v(principal))


@router.post("/crm/visits/{visit_id}/audit", status_code=status.HTTP_201_CREATED)
def record_audit(visit_id: str, body: StoreAuditIn, principal: Seller, session: SessionDep) -> StoreAuditOut:
    """The store audit: shelf facings, stock and price per SKU, and photos."""
    return service.record_audit(visit_id, body, session=session, viewer=_v(principal))


@router.post("/crm/visits/{visit_id}/orders", status_code=status.HTTP_201_CREATED)
def take_order(visit_id: str, body: VisitOrderIn, principal: Seller, session: SessionDep) -> VisitOrderOut:
    """An order taken during the visit (event ``visit.order_taken``)."""
    return service.take_order(visit_id, body, session=session, viewer=_v(principal))


@router.get("/crm/distribution-rate")
def distribution_rate(
    principal: Seller,
    session: SessionDep,
    sku: Annotated[str, Query(min_length=1, max_length=64)],
    date_from: date | None = None,
    date_to: date | None = None,
) -> DistributionRate:
    """Stores carrying the SKU / stores audited, in the caller's scope."""
    return service.distribution_rate(
        sku, session=session, viewer=_v(principal), date_from=date_from, date_to=date_to
    )
