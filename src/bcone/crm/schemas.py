"""Schemas of the crm domain: API input and output, and the contracts other domains receive.

Amounts travel as integer fen (``amount_fen``) in CNY; another currency or a negative amount is
refused with a 422 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bcone.core.pagination import Page

AccountKind = Literal["enterprise", "network"]
Tier = Literal["A", "B", "C"]
DecisionRole = Literal["decision_maker", "economic_buyer", "influencer", "user", "gatekeeper", "champion"]
Attitude = Literal["supporter", "neutral", "opponent", "unknown"]
Grade = Literal["strategic", "key", "normal"]
ForecastCategory = Literal["pipeline", "best_case", "commit", "closed"]
OppStatus = Literal["open", "won", "lost"]
TriangleRole = Literal["AR", "SR", "FR", "other"]
ActivityKind = Literal["task", "comment"]

_NAME = Field(min_length=1, max_length=200)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AccountIn(_In):
    name: str = _NAME
    kind: AccountKind = "enterprise"
    network_org_id: str | None = None
    industry: str = Field(default="", max_length=100)
    owner_user_id: str | None = None
    tier: Tier | None = None
    notes: str = Field(default="", max_length=5000)
    potential: int = Field(default=50, ge=0, le=100)  # tiering criteria set by hand, 0..100
    strategic_fit: int = Field(default=50, ge=0, le=100)


class AccountUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    industry: str | None = Field(default=None, max_length=100)
    owner_user_id: str | None = None
    tier: Tier | None = None
    notes: str | None = Field(default=None, max_length=5000)
    potential: int | None = Field(default=None, ge=0, le=100)
    strategic_fit: int | None = Field(default=None, ge=0, le=100)


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: AccountKind
    network_org_id: str | None
    industry: str
    owner_user_id: str | None
    tier: Tier | None
    notes: str
    potential: int = 50
    strategic_fit: int = 50
    tier_score: float | None = None
    created_at: datetime


class ContactIn(_In):
    name: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=200)
    decision_role: DecisionRole
    reports_to_contact_id: str | None = None
    attitude: Attitude = "unknown"
    relationship_strength: int = Field(default=0, ge=0, le=3)
    owner_user_id: str | None = None


class ContactUpdate(_In):
    """A partial change of a contact; only the fields sent are changed (``null`` clears the
    reporting line or the owner)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    title: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    decision_role: DecisionRole | None = None
    reports_to_contact_id: str | None = None
    attitude: Attitude | None = None
    relationship_strength: int | None = Field(default=None, ge=0, le=3)
    owner_user_id: str | None = None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str
    name: str
    title: str
    phone: str
    email: str
    decision_role: DecisionRole
    reports_to_contact_id: str | None = None
    attitude: Attitude = "unknown"
    relationship_strength: int = 0
    owner_user_id: str | None = None


class ContactNode(BaseModel):
    """One contact of the relationship map with the contacts who report to them."""

    contact: ContactOut
    reports: list[ContactNode] = Field(default_factory=list)


class SalesTeamIn(_In):
    name: str = Field(min_length=1, max_length=100)
    manager_user_id: str | None = None
    member_user_ids: list[str] = Field(default_factory=list, max_length=500)


class SalesTeamOut(BaseModel):
    id: str
    name: str
    manager_user_id: str | None
    member_user_ids: list[str]


class StageIn(_In):
    key: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    name_zh: str = Field(min_length=1, max_length=50)
    name_en: str = Field(min_length=1, max_length=50)
    outcome: Literal["open", "won", "lost"] = "open"
    prior_probability: float = Field(ge=0, le=1)
    required_items: list[str] = Field(default_factory=list, max_length=50)


class StageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    name_zh: str
    name_en: str
    position: int
    outcome: Literal["open", "won", "lost"]
    prior_probability: float
    required_items: list[str]


class OpportunityIn(_In):
    account_id: str
    name: str = _NAME
    owner_user_id: str | None = None  # default: the caller
    stage_key: str | None = None  # default: the first stage
    amount_fen: int = Field(ge=0, le=10**15)
    currency: Literal["CNY"] = "CNY"
    close_date: date
    grade: Grade = "normal"
    forecast_category: ForecastCategory = "pipeline"
    own_estimate: int | None = Field(default=None, ge=0, le=100)

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class OpportunityUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    owner_user_id: str | None = None
    amount_fen: int | None = Field(default=None, ge=0, le=10**15)
    currency: Literal["CNY"] | None = None
    close_date: date | None = None
    grade: Grade | None = None
    forecast_category: ForecastCategory | None = None
    own_estimate: int | None = Field(default=None, ge=0, le=100)


class Reason(BaseModel):
    """One of the main reasons of a probability: a feature and its contribution to the log-odds."""

    feature: str
    contribution: float
    text_zh: str
    text_en: str


class Probability(BaseModel):
    """An open opportunity's win probability and where it comes from."""

    value: float
    source: Literal["model", "stage_prior"]
    model_version: int | None
    reasons: list[Reason]
    note: str  # why stage priors are used, when they are


class OpportunityOut(BaseModel):
    id: str
    account_id: str
    account_name: str
    name: str
    owner_user_id: str
    sales_team_id: str | None
    stage_key: str
    status: OppStatus
    amount_fen: int
    currency: str
    close_date: date
    grade: Grade
    forecast_category: ForecastCategory
    own_estimate: int | None
    stage_moves: int
    closed_at: datetime | None
    created_at: datetime
    cancelled_at: datetime | None = None
    probability: Probability | None = None


class OpportunityPage(Page[OpportunityOut]):
    """A page of opportunities; ``total_capped`` says the total is a lower bound (the list
    counts only a few pages ahead of the one shown, so that a page of 100,000 stays fast)."""

    total_capped: bool = False


class StageMoveIn(_In):
    to_stage: str = Field(min_length=1, max_length=32)


class StageChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_stage: str | None
    to_stage: str
    changed_by: str | None
    changed_at: datetime


class TeamMemberIn(_In):
    user_id: str
    role: TriangleRole
    note: str = Field(default="", max_length=200)


class TeamMemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    role: TriangleRole
    note: str


class ContributionIn(_In):
    user_id: str
    what: str = Field(min_length=1, max_length=500)
    weight: int = Field(ge=1, le=100)


class ContributionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    user_id: str
    what: str
    weight: int
    recorded_by: str | None
    recorded_at: datetime


class ActivityIn(_In):
    kind: ActivityKind
    body: str = Field(min_length=1, max_length=5000)
    assignee_user_id: str | None = None
    due_date: date | None = None


class TimelineEntry(BaseModel):
    """One entry of an opportunity's activity timeline."""

    kind: Literal["task", "comment", "stage_change", "contribution", "assessment", "request"]
    at: datetime
    user_id: str | None
    text: str
    done: bool | None = None
    due_date: date | None = None
    id: str | None = None  # tasks, comments and requests
    mentions: list[str] = Field(default_factory=list)  # user ids mentioned in a comment


class TeamOut(BaseModel):
    members: list[TeamMemberOut]
    contributions: list[ContributionOut]


class ScaleLevel(BaseModel):
    score: int = Field(ge=0, le=10)
    label_zh: str = Field(min_length=1, max_length=100)
    label_en: str = Field(min_length=1, max_length=100)


class ScorecardItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    dimension: Literal["meddpicc", "relationship"]
    label_zh: str = Field(min_length=1, max_length=100)
    label_en: str = Field(min_length=1, max_length=100)
    levels: list[ScaleLevel] = Field(min_length=2, max_length=11)
    evidence_zh: str = Field(default="", max_length=500)
    evidence_en: str = Field(default="", max_length=500)
    evidence_from_score: int = Field(default=2, ge=0, le=10)  # scores at or above need evidence

    @property
    def scale_max(self) -> int:
        return max(level.score for level in self.levels)


class ScorecardTemplateIn(_In):
    items: list[ScorecardItem] = Field(min_length=1, max_length=60)


class ScorecardTemplateOut(BaseModel):
    id: str
    version: int
    items: list[ScorecardItem]
    created_by: str | None
    created_at: datetime


class AssessmentIn(_In):
    scores: dict[str, int]
    evidence: dict[str, str] = Field(default_factory=dict)


class AssessmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    opportunity_id: str
    template_version: int
    scores: dict[str, int]
    evidence: dict[str, str]
    assessed_by: str | None
    assessed_at: datetime


class WinModelOut(BaseModel):
    version: int
    kind: str
    n_closed: int
    trained_at: datetime
    seconds: float
    metrics: dict[str, Any]


class ModelStatus(BaseModel):
    """What the win-rate model is now: trained (with its version) or stage priors, and why."""

    source: Literal["model", "stage_prior"]
    min_closed: int
    n_closed: int
    model: WinModelOut | None
    note: str


class TrainQueued(BaseModel):
    job_id: str


class ForecastRow(BaseModel):
    key: str
    label: str
    open_count: int
    pipeline_fen: int
    weighted_fen: int
    best_case_fen: int
    commit_fen: int
    won_fen: int


class Forecast(BaseModel):
    by: Literal["month", "quarter", "team", "owner"]
    source: Literal["model", "stage_prior"]
    rows: list[ForecastRow]
    total: ForecastRow


# --- tiering and growth --------------------------------------------------------------------------

Criterion = Literal["value", "potential", "strategic_fit"]
GrowthStatus = Literal["open", "done", "cancelled"]
GrowthOutcome = Literal["won_growth", "no_growth", "lost_ground"]


class GrowthTaskSpec(BaseModel):
    """A growth task a tier's policy generates once per period for each account of the tier."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    key: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    title_zh: str = Field(min_length=1, max_length=200)
    title_en: str = Field(min_length=1, max_length=200)
    every: Literal["month", "quarter", "year"] = "quarter"
    due_days: int = Field(default=30, ge=1, le=366)  # due this many days into the period


class TierPolicy(BaseModel):
    """What a tier sets: the visits a month and the growth tasks of the tier's accounts."""

    model_config = ConfigDict(extra="forbid")

    visits_per_month: int = Field(ge=0, le=31)
    growth_tasks: list[GrowthTaskSpec] = Field(default_factory=list, max_length=20)


class TierModelIn(_In):
    """A tier model: weights of the criteria (0..1, adding up to 1), the minimum score (0..1) of
    tiers A and B, and the policy of each tier."""

    weights: dict[Criterion, float]
    thresholds: dict[Literal["A", "B"], float]
    policies: dict[Tier, TierPolicy]


class TierModelOut(BaseModel):
    id: str | None  # None: the default, not stored yet
    version: int
    weights: dict[str, float]
    thresholds: dict[str, float]
    policies: dict[str, TierPolicy]
    created_by: str | None
    created_at: datetime | None


class AccountScore(BaseModel):
    """One account's tiering: the criteria (0..100), the weighted score (0..1) and the tier."""

    account_id: str
    name: str
    value: float
    potential: float
    strategic_fit: float
    score: float
    tier: Tier
    previous_tier: Tier | None


class TierRunOut(BaseModel):
    model_version: int
    accounts: int
    changed: int
    by_tier: dict[str, int]
    tasks_created: int


class TierChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account_id: str
    from_tier: Tier | None
    to_tier: Tier
    score: float | None
    model_version: int | None
    changed_by: str | None
    changed_at: datetime


class GrowthTaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str
    key: str
    period: str
    title_zh: str
    title_en: str
    tier: Tier
    assignee_user_id: str | None
    due_date: date
    status: GrowthStatus
    outcome: GrowthOutcome | None
    outcome_note: str
    growth_fen: int
    closed_by: str | None
    closed_at: datetime | None
    created_at: datetime


class GrowthTaskClose(_In):
    """Close a growth task: ``done`` with its outcome (and the growth won, in fen), or
    ``cancelled``."""

    status: Literal["done", "cancelled"]
    outcome: GrowthOutcome | None = None
    outcome_note: str = Field(default="", max_length=2000)
    growth_fen: int = Field(default=0, ge=0, le=10**15)
    currency: Literal["CNY"] = "CNY"


class TieringInputs(_In):
    """The hand-set tiering criteria of an account (0..100)."""

    potential: int | None = Field(default=None, ge=0, le=100)
    strategic_fit: int | None = Field(default=None, ge=0, le=100)


# --- leads ---------------------------------------------------------------------------------------

LeadSource = Literal["form", "import", "referral"]
LeadStatus = Literal["new", "qualified", "disqualified", "converted"]


class LeadIn(_In):
    company: str = Field(min_length=1, max_length=200)
    contact_name: str = Field(min_length=1, max_length=100)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=200)
    need: str = Field(default="", max_length=5000)
    source: LeadSource = "form"
    referrer_user_id: str | None = None  # a referral credits the user who referred it...
    referrer_name: str = Field(default="", max_length=100)  # ...or someone outside the brand
    owner_user_id: str | None = None
    estimated_fen: int = Field(default=0, ge=0, le=10**15)
    currency: Literal["CNY"] = "CNY"

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value


class LeadOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    company: str
    contact_name: str
    phone: str
    email: str
    need: str
    source: LeadSource
    referrer_user_id: str | None
    referrer_name: str
    owner_user_id: str | None
    estimated_fen: int
    status: LeadStatus
    qualification_note: str
    account_id: str | None
    opportunity_id: str | None
    converted_at: datetime | None
    created_at: datetime


class LeadQualify(_In):
    qualified: bool
    note: str = Field(default="", max_length=2000)
    owner_user_id: str | None = None


class LeadConvert(_In):
    """Convert a qualified lead: an account (an existing one, or a new one named after the
    company) and an opportunity."""

    account_id: str | None = None
    opportunity_name: str | None = Field(default=None, min_length=1, max_length=200)
    amount_fen: int | None = Field(default=None, ge=0, le=10**15)
    currency: Literal["CNY"] = "CNY"
    close_date: date
    grade: Grade = "normal"


class LeadConverted(BaseModel):
    lead: LeadOut
    account_id: str
    opportunity_id: str
    created: bool  # False when the lead had been converted before (the same result)


# --- collaboration -------------------------------------------------------------------------------

RequestKind = Literal["presales", "delivery", "finance"]
RequestStatus = Literal["open", "accepted", "done", "rejected"]


class BackOfficeRequestIn(_In):
    kind: RequestKind
    body: str = Field(min_length=1, max_length=5000)
    assignee_user_id: str | None = None
    due_date: date


class BackOfficeRequestUpdate(_In):
    status: RequestStatus
    response: str = Field(default="", max_length=5000)


class BackOfficeRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    opportunity_id: str
    kind: RequestKind
    body: str
    requested_by: str | None
    assignee_user_id: str | None
    due_date: date
    status: RequestStatus
    response: str
    created_at: datetime
    closed_at: datetime | None
    overdue: bool = False


class TaskDone(_In):
    done: bool = True


# --- bonus allocation ----------------------------------------------------------------------------


class BonusPolicyIn(_In):
    """The pool of a won deal: ``percent`` (basis points of the amount: 150 = 1.5 %) or ``fixed``
    (fen); role ratios adding up to 1; the share of the pool split by recorded contributions."""

    pool_kind: Literal["percent", "fixed"] = "percent"
    pool_basis_points: int = Field(default=0, ge=0, le=10000)
    pool_fixed_fen: int = Field(default=0, ge=0, le=10**12)
    currency: Literal["CNY"] = "CNY"
    role_ratios: dict[TriangleRole, float]
    contribution_share: float = Field(default=0.5, ge=0, le=1)


class BonusPolicyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    pool_kind: Literal["percent", "fixed"]
    pool_basis_points: int
    pool_fixed_fen: int
    role_ratios: dict[str, float]
    contribution_share: float
    created_by: str | None
    created_at: datetime | None  # None: the default, not stored yet


class BonusAllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    opportunity_id: str
    user_id: str
    roles: list[str]
    policy_version: int
    pool_fen: int
    share: float
    amount_fen: int
    contribution_points: int
    transaction_id: str
    status: Literal["allocated", "clawed_back"]
    clawback_transaction_id: str | None
    created_at: datetime
    clawed_back_at: datetime | None


class BonusOut(BaseModel):
    opportunity_id: str
    pool_fen: int
    allocations: list[BonusAllocationOut]


class BonusStatementLine(BaseModel):
    opportunity_id: str
    opportunity_name: str
    account_name: str
    roles: list[str]
    amount_fen: int
    status: Literal["allocated", "clawed_back"]
    created_at: datetime
    clawed_back_at: datetime | None


class BonusStatement(BaseModel):
    user_id: str
    user_name: str
    allocated_fen: int
    clawed_back_fen: int
    net_fen: int
    ledger_balance_fen: int
    lines: list[BonusStatementLine]


class CancelIn(_In):
    reason: str = Field(min_length=1, max_length=1000)


# --- field sales ---------------------------------------------------------------------------------

VisitStatus = Literal["planned", "checked_in", "done", "skipped"]


class VisitPlanIn(_In):
    """Plan a rep's visits for a month over the stores they own, at their tiers' frequency."""

    rep_user_id: str | None = None  # default: the caller
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    start_lng: float = Field(ge=-180, le=180)
    start_lat: float = Field(ge=-90, le=90)


class VisitOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    plan_id: str
    rep_user_id: str
    visit_date: date
    account_id: str
    org_id: str
    store_name: str
    sequence: int
    leg_km: float
    status: VisitStatus
    checked_in_at: datetime | None
    distance_m: float | None


class VisitPlanOut(BaseModel):
    id: str
    rep_user_id: str
    plan_date: date
    start_lng: float
    start_lat: float
    route_km: float
    visits: list[VisitOut]


class VisitPlanRun(BaseModel):
    rep_user_id: str
    month: str
    stores: int
    plans: int
    visits: int
    created: int  # plans written by this call (0 when the month was planned before)


class CheckInIn(_In):
    lng: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class AuditLine(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=64)
    facings: int = Field(ge=0, le=1000)  # shelf facings; > 0 means the store carries the SKU
    stock: int = Field(ge=0, le=10**7)
    price_fen: int | None = Field(default=None, ge=0, le=10**9)


class StoreAuditIn(_In):
    lines: list[AuditLine] = Field(min_length=1, max_length=200)
    photos: list[str] = Field(default_factory=list, max_length=20)  # URLs (uploads become URLs)
    note: str = Field(default="", max_length=2000)


class StoreAuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    visit_id: str
    org_id: str
    lines: list[AuditLine]
    photos: list[str]
    note: str
    audited_at: datetime


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=10**6)
    price_fen: int = Field(ge=0, le=10**9)


class VisitOrderIn(_In):
    lines: list[OrderLine] = Field(min_length=1, max_length=200)
    currency: Literal["CNY"] = "CNY"


class VisitOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    visit_id: str
    org_id: str
    lines: list[OrderLine]
    total_fen: int
    taken_at: datetime


class DistributionRate(BaseModel):
    """Stores carrying the SKU (facings > 0 at their latest audit) / stores visited (audited)."""

    sku: str
    date_from: date
    date_to: date
    stores_visited: int
    stores_carrying: int
    rate: float | None
