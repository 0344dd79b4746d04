"""Schemas of the analytics domain: API input and output, and the contracts other domains receive.

Money is integer fen; averages of money are rounded to whole fen.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

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
