"""Schemas of the promotions domain: campaigns, prize tiers, reward decisions and figures.

Money is integer fen, points are integers; probabilities are floats in [0, 1].
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

CampaignStatus = Literal["draft", "active", "paused", "ended"]
PrizeKind = Literal["random_red_packet", "red_packet", "points", "coupon"]
RewardKind = Literal["random_red_packet", "red_packet", "points", "coupon", "thanks"]
Outcome = Literal[
    "granted",
    "thanks",
    "not_genuine",
    "already_rewarded",
    "no_campaign",
    "budget_exhausted",
    "daily_limit",
    "consumer_limit",
    "rate_limited",
    "blocked",
    "no_identity",
]
BlockKind = Literal["identity", "device"]

MAX_FEN = 10**12
Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
Code = Annotated[str, Field(min_length=1, max_length=64)]
_STRICT = ConfigDict(str_strip_whitespace=True, extra="forbid")


class PrizeTier(BaseModel):
    """One tier of a prize pool; whatever probability the tiers leave is "thanks for taking part"."""

    model_config = _STRICT

    kind: PrizeKind
    probability: float = Field(ge=0, le=1)
    name: str = Field(default="", max_length=100)
    amount_fen: Fen | None = None  # red_packet
    min_fen: Fen | None = None  # random_red_packet
    max_fen: Fen | None = None  # random_red_packet
    points: Annotated[int, Field(ge=1, le=MAX_FEN)] | None = None  # points
    coupon_code: Annotated[str, Field(min_length=1, max_length=64)] | None = None  # coupon

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        if self.kind == "red_packet" and not self.amount_fen:
            raise ValueError("a fixed red packet needs amount_fen > 0")
        bad_range = not self.min_fen or not self.max_fen or self.min_fen > self.max_fen
        if self.kind == "random_red_packet" and bad_range:
            raise ValueError("a random red packet needs 0 < min_fen <= max_fen")
        if self.kind == "points" and not self.points:
            raise ValueError("a points prize needs points > 0")
        if self.kind == "coupon" and not self.coupon_code:
            raise ValueError("a coupon prize needs coupon_code")
        return self


class CampaignIn(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=200)
    sku_ids: list[Code] = Field(default_factory=list, max_length=1000)
    gtins: list[Code] = Field(default_factory=list, max_length=1000)
    batch_ids: list[Code] = Field(default_factory=list, max_length=1000)
    regions: list[Annotated[str, Field(pattern=r"^\d{6}$")]] = Field(default_factory=list, max_length=1000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    prizes: list[PrizeTier] = Field(default_factory=list, max_length=20)
    budget_fen: Fen = 0
    budget_points: Fen = 0
    daily_fen: Fen | None = None
    daily_points: Fen | None = None
    per_consumer_limit: Annotated[int, Field(ge=1)] | None = None
    per_store_limit: Annotated[int, Field(ge=1)] | None = None
    store_rebate_fen: Annotated[int, Field(ge=0, le=10**7)] = 0
    rate_limit_scans: Annotated[int, Field(ge=1)] | None = None
    rate_limit_window_s: Annotated[int, Field(ge=1, le=86400 * 7)] = 3600
    max_scans_per_minute: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_scans_per_hour: Annotated[int, Field(ge=1, le=100_000)] | None = None
    max_codes_per_device_day: Annotated[int, Field(ge=1, le=100_000)] | None = None
    cluster_min_codes: Annotated[int, Field(ge=2, le=1000)] | None = None
    cluster_km: Annotated[int, Field(ge=0, le=5000)] | None = None


class CampaignUpdate(BaseModel):
    """A partial change; fields left out keep their value."""

    model_config = _STRICT

    name: str | None = Field(default=None, min_length=1, max_length=200)
    sku_ids: list[Code] | None = None
    gtins: list[Code] | None = None
    batch_ids: list[Code] | None = None
    regions: list[Annotated[str, Field(pattern=r"^\d{6}$")]] | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    prizes: list[PrizeTier] | None = Field(default=None, max_length=20)
    budget_fen: Fen | None = None
    budget_points: Fen | None = None
    daily_fen: Fen | None = None
    daily_points: Fen | None = None
    per_consumer_limit: Annotated[int, Field(ge=1)] | None = None
    per_store_limit: Annotated[int, Field(ge=1)] | None = None
    store_rebate_fen: Annotated[int, Field(ge=0, le=10**7)] | None = None
    rate_limit_scans: Annotated[int, Field(ge=1)] | None = None
    rate_limit_window_s: Annotated[int, Field(ge=1, le=86400 * 7)] | None = None
    max_scans_per_minute: Annotated[int, Field(ge=1, le=10_000)] | None = None
    max_scans_per_hour: Annotated[int, Field(ge=1, le=100_000)] | None = None
    max_codes_per_device_day: Annotated[int, Field(ge=1, le=100_000)] | None = None
    cluster_min_codes: Annotated[int, Field(ge=2, le=1000)] | None = None
    cluster_km: Annotated[int, Field(ge=0, le=5000)] | None = None


class PrizesIn(BaseModel):
    model_config = _STRICT

    prizes: list[PrizeTier] = Field(max_length=20)


class CampaignOut(BaseModel):
    id: str
    name: str
    status: CampaignStatus
    sku_ids: list[str]
    gtins: list[str]
    batch_ids: list[str]
    regions: list[str]
    starts_at: datetime | None
    ends_at: datetime | None
    prizes: list[PrizeTier]
    budget_fen: int
    budget_points: int
    daily_fen: int | None
    daily_points: int | None
    per_consumer_limit: int | None
    per_store_limit: int | None
    store_rebate_fen: int
    rate_limit_scans: int | None
    rate_limit_window_s: int
    max_scans_per_minute: int | None = None
    max_scans_per_hour: int | None = None
    max_codes_per_device_day: int | None = None
    cluster_min_codes: int | None = None
    cluster_km: int | None = None
    funded_fen: int
    funded_points: int
    created_at: datetime

    @property
    def thanks_probability(self) -> float:
        return max(0.0, 1.0 - sum(p.probability for p in self.prizes))


class ScanIdentity(BaseModel):
    """Who scanned: the consumer (``openid`` is the key of their wallet: a WeChat openid, or a
    phone's keyed hash when ``owner_type`` is ``phone``), the device, the store that sold the
    unit, and the consumer's identifiers for events (``(namespace, value)``, the CDP's)."""

    openid: str | None = Field(default=None, max_length=128)
    device: str | None = Field(default=None, max_length=128)
    store_id: str | None = Field(default=None, max_length=36)
    owner_type: Literal["wechat_openid", "phone"] = "wechat_openid"
    identities: list[tuple[str, str]] = Field(default_factory=list, max_length=8)


class FlagOut(BaseModel):
    """A fraud flag for review: ``kind`` ``cluster`` = many codes of one case (``subject``) scanned
    by one identity far from the store the case was shipped to."""

    id: str
    kind: str
    campaign_id: str | None
    identity: str
    subject: str
    store_id: str | None
    count: int
    distance_km: float | None
    region: str | None
    reason: str
    created_at: datetime
    last_seen_at: datetime


class RewardOut(BaseModel):
    """The decision for one scan: granted (a prize or "thanks") or refused with its reason."""

    granted: bool
    outcome: Outcome
    kind: RewardKind | None = None
    campaign_id: str | None = None
    reward_id: str | None = None
    amount_fen: int = 0
    points: int = 0
    coupon_code: str | None = None
    rebate_fen: int = 0


class AttemptOut(BaseModel):
    id: str
    code: str
    campaign_id: str | None
    openid: str | None
    device: str | None
    store_id: str | None
    outcome: Outcome
    reason: str | None = None
    reward_id: str | None
    created_at: datetime


class DayFigures(BaseModel):
    day: date
    scans: int
    winners: int
    spent_fen: int
    points: int


class FiguresOut(BaseModel):
    """Live figures of a campaign: scans decided, winners, budget burn and the daily series."""

    campaign_id: str
    scans: int
    winners: int
    thanks: int
    refusals: dict[str, int]
    spent_fen: int
    rebates_fen: int
    points: int
    funded_fen: int
    funded_points: int
    budget_left_fen: int
    budget_left_points: int
    days: list[DayFigures]


class BlockIn(BaseModel):
    model_config = _STRICT

    kind: BlockKind
    value: str = Field(min_length=1, max_length=128)
    reason: str = Field(default="", max_length=200)


class BlockOut(BaseModel):
    id: str
    kind: BlockKind
    value: str
    reason: str
    created_at: datetime
