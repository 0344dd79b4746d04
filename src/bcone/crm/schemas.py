"""Schemas of the crm domain: API input and output, and the contracts other domains receive.

Amounts travel as integer fen (``amount_fen``) in CNY; another currency or a negative amount is
refused with a 422 naming the field.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AccountKind = Literal["enterprise", "network"]
Tier = Literal["A", "B", "C"]
DecisionRole = Literal["decision_maker", "economic_buyer", "influencer", "user", "gatekeeper", "champion"]
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


class AccountUpdate(_In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    industry: str | None = Field(default=None, max_length=100)
    owner_user_id: str | None = None
    tier: Tier | None = None
    notes: str | None = Field(default=None, max_length=5000)


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
    created_at: datetime


class ContactIn(_In):
    name: str = Field(min_length=1, max_length=100)
    title: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=200)
    decision_role: DecisionRole


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    account_id: str
    name: str
    title: str
    phone: str
    email: str
    decision_role: DecisionRole


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
    probability: Probability | None = None


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

    kind: Literal["task", "comment", "stage_change", "contribution", "assessment"]
    at: datetime
    user_id: str | None
    text: str
    done: bool | None = None
    due_date: date | None = None


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
