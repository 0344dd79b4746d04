"""Schemas of the analytics domain: API input and output, and the contracts other domains receive.

Money is integer fen; averages of money are rounded to whole fen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

RetentionPeriod = Literal["week", "month"]
Breakdown = Literal["channel", "region", "store"]
ClvModel = Literal["bgnbd", "pareto"]
Segment = Literal["champions", "loyal", "potential", "new", "at_risk", "hibernating", "lost"]


class RfmSegmentRow(BaseModel):
    """One named segment: how many consumers, and their average recency, orders and spend."""

    segment: Segment
    customers: int
    share: float
    avg_recency_days: float
    avg_orders: float
    avg_spent_fen: int
    spent_fen: int


class RfmCustomer(BaseModel):
    """One consumer's RFM scores (1 to 5, 5 best) and segment."""

    profile_id: str
    last_order_at: datetime
    recency_days: int
    orders: int
    spent_fen: int
    r: int
    f: int
    m: int
    segment: Segment


class RfmReport(BaseModel):
    """RFM of the consumers who paid an order between ``since`` and ``until`` (local days, both
    included); ``grid[r-1][f-1]`` counts the consumers with recency score r and frequency score f."""

    since: date
    until: date
    customers: int
    segments: list[RfmSegmentRow]
    grid: list[list[int]]
    top: list[RfmCustomer]


class RetentionCohort(BaseModel):
    """A cohort (consumers whose first ``cohort_event`` fell in the period starting ``cohort``) and,
    for each period index k = 0, 1, ..., how many of them did ``return_event`` in period k
    (``exact``) or in period k or any later one (``on_or_after``)."""

    cohort: date
    size: int
    exact: list[int]
    on_or_after: list[int]


class RetentionReport(BaseModel):
    period: RetentionPeriod
    cohort_event: str
    return_event: str
    since: date
    until: date
    periods: int
    cohorts: list[RetentionCohort]


class FunnelStep(BaseModel):
    """Consumers who reached step ``index`` (0-based), and the rates from the first step and from
    the previous one (0 when nobody entered)."""

    index: int
    type: str
    users: int
    conversion: float
    step_conversion: float


class FunnelGroup(BaseModel):
    """The funnel for one value of the breakdown (``key`` is null for the total and for events
    without that field)."""

    key: str | None
    steps: list[FunnelStep]


class FunnelReport(BaseModel):
    steps: list[str]
    stages: list[str] | None = None
    window_seconds: int
    breakdown: Breakdown | None
    since: date
    until: date
    total: FunnelGroup
    groups: list[FunnelGroup]


class ClvCustomer(BaseModel):
    """One consumer's lifetime value. Times in weeks; money in fen."""

    profile_id: str
    frequency: int
    recency_weeks: float
    age_weeks: float
    monetary_fen: int
    probability_alive: float
    expected_purchases: float
    expected_value_fen: int
    clv_fen: int


class ClvReport(BaseModel):
    """Lifetime value from ``order.paid`` up to ``until``: the fitted parameters, totals, and the
    consumers of highest value. ``horizon_weeks`` is the future the value covers."""

    model: ClvModel
    until: date
    params: dict[str, float]
    spend_params: dict[str, float]
    customers: int
    repeat_customers: int
    horizon_weeks: int
    discount_rate: float
    total_clv_fen: int
    avg_clv_fen: int
    top: list[ClvCustomer]


# --- Operating dashboard ------------------------------------------------------------------------

DashboardGrain = Literal["day", "week"]


class DashboardFilters(BaseModel):
    channel: str | None = None
    province: str | None = None  # the two-digit prefix of the division code
    sku: str | None = None


class DashboardTotals(BaseModel):
    """The whole range: consumers and stores are distinct over the range, not summed per day."""

    sales_fen: int
    orders: int
    scans: int
    active_stores: int
    consumers: int
    new_consumers: int
    returning_consumers: int
    avg_order_fen: int


class DashboardPoint(BaseModel):
    """One day or week (``period`` is its first local day, a Monday for weeks)."""

    period: date
    sales_fen: int = 0
    orders: int = 0
    scans: int = 0
    active_stores: int = 0
    consumers: int = 0
    new_consumers: int = 0
    returning_consumers: int = 0


class DashboardBreakdownRow(BaseModel):
    """Figures for one channel, province (or city), SKU, store or distributor; ``key`` '' is
    events without that field."""

    key: str
    label: str
    sales_fen: int
    orders: int
    scans: int
    consumers: int


class DashboardReport(BaseModel):
    since: date
    until: date
    grain: DashboardGrain
    filters: DashboardFilters
    region_level: Literal["province", "city"]
    totals: DashboardTotals
    series: list[DashboardPoint]
    by_channel: list[DashboardBreakdownRow]
    by_region: list[DashboardBreakdownRow]
    by_sku: list[DashboardBreakdownRow]
    by_store: list[DashboardBreakdownRow]
    by_distributor: list[DashboardBreakdownRow]


# --- NPS ----------------------------------------------------------------------------------------

NpsBreakdown = Literal["store", "region", "sku"]
SurveyStatus = Literal["active", "closed"]


class SurveyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    question: str = Field(default="您有多大可能把我们推荐给朋友或同事？", min_length=1, max_length=500)
    follow_up: str = Field(default="请告诉我们您打这个分数的主要原因。", max_length=500)


class SurveyOut(BaseModel):
    id: str
    name: str
    question: str
    follow_up: str
    status: SurveyStatus
    created_at: datetime
    responses: int = 0
    url: str = ""


class ResponseIn(BaseModel):
    """One answer. ``score`` is checked by the service (so a wrong one names ``score``); the
    context comes from the link (the scan page passes where the product was scanned)."""

    score: int | str | None = None
    comment: str = Field(default="", max_length=2000)
    org_id: str | None = Field(default=None, max_length=36)
    sku: str | None = Field(default=None, max_length=64)
    region: str | None = Field(default=None, max_length=6)
    serial: str | None = Field(default=None, max_length=64)
    profile_id: str | None = Field(default=None, max_length=36)


class ResponseOut(BaseModel):
    id: str
    survey_id: str
    score: int
    comment: str
    org_id: str | None
    sku: str | None
    region: str | None
    created_at: datetime


class NpsFigures(BaseModel):
    """Promoters answered 9-10, passives 7-8, detractors 0-6; ``nps`` = % promoters − % detractors."""

    key: str = ""
    label: str = ""
    responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    nps: float = 0.0


class NpsPoint(NpsFigures):
    period: date


class NpsReport(BaseModel):
    since: date
    until: date
    survey_id: str | None
    breakdown: NpsBreakdown
    total: NpsFigures
    series: list[NpsPoint]
    groups: list[NpsFigures]


# --- Partner attribution ------------------------------------------------------------------------


class AttributionRow(BaseModel):
    """One partner: consumers it brought in (first touch in the range) with what they paid in the
    range, and the orders it served (store) or led to through its share link (sharer)."""

    kind: Literal["store", "sharer", "distributor"]
    partner_id: str
    label: str
    distributor_id: str | None = None
    distributor_label: str | None = None
    acquired_consumers: int
    acquired_orders: int
    acquired_revenue_fen: int
    served_orders: int
    served_revenue_fen: int
    served_consumers: int


class AttributionReport(BaseModel):
    since: date
    until: date
    acquired_consumers: int
    acquired_revenue_fen: int
    served_revenue_fen: int
    shared_revenue_fen: int
    stores: list[AttributionRow]
    sharers: list[AttributionRow]
    distributors: list[AttributionRow]
