"""The promotions domain's behaviour: the only entry other domains may call.

Campaigns decide what a genuine scan wins; :func:`reward_scan` takes the decision inside the
scan's unit of work (the codes domain calls it through its scan-listener registry, registered at
the bottom of this module) and pays through the ledger. How it stays exactly-once and within
budget under concurrency is described in ``docs/promotions.md``.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.codes import service as codes
from bcone.codes.schemas import CheckOut, Whereabouts
from bcone.core import geo
from bcone.core.errors import Conflict, NotFound, ValidationFailed
from bcone.core.events import append_event
from bcone.core.ids import new_id
from bcone.core.pagination import Page, PageParams
from bcone.core.tenancy import current_tenant
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountOut, AccountSpec, TransactionOut, Unit
from bcone.network import service as network
from bcone.promotions import _cache
from bcone.promotions.errors import (
    BlockNotFound,
    CampaignNameTaken,
    CampaignNotFound,
    CampaignStateConflict,
    InvalidCampaign,
)
from bcone.promotions.messages import register as _register_messages
from bcone.promotions.models import (
    Campaign,
    PromotionBlock,
    PromotionCounter,
    PromotionFlag,
    Reward,
    RewardAttempt,
)
from bcone.promotions.schemas import (
    AttemptOut,
    BlockIn,
    BlockOut,
    CampaignIn,
    CampaignOut,
    CampaignStatus,
    CampaignUpdate,
    DayFigures,
    FiguresOut,
    FlagOut,
    Outcome,
    PrizeTier,
    RewardKind,
    RewardOut,
    ScanIdentity,
)
from bcone.web.i18n import translate

EVENT_TYPE = "reward.granted"
# The draw: probabilities in parts per million, compared with secrets.randbelow (CSPRNG).
PPM = 1_000_000
# Days of rewards are counted in China time (UTC+8), as the brand's finance sees them.
CHINA = timedelta(hours=8)


# --- campaigns -------------------------------------------------------------------------------


def _out(row: Campaign) -> CampaignOut:
    return CampaignOut.model_validate(row, from_attributes=True)


def _row(session: Session, campaign_id: str) -> Campaign:
    row = session.scalars(select(Campaign).where(Campaign.id == campaign_id)).one_or_none()
    if row is None:
        raise CampaignNotFound(f"no campaign {campaign_id}", field="campaign_id")
    return row


def _check_prizes(prizes: list[PrizeTier]) -> None:
    total = sum(round(p.probability * PPM) for p in prizes)
    if total > PPM:
        raise InvalidCampaign(
            f"the probabilities of the prize tiers add up to {total / PPM:g}, more than 1", field="prizes"
        )


def _check_dates(starts_at: datetime | None, ends_at: datetime | None) -> None:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and value.tzinfo is None:
            raise InvalidCampaign(f"{name} needs a time zone", field=name)
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidCampaign("ends_at must be after starts_at", field="ends_at")


def _dump(data: CampaignIn | CampaignUpdate, *, exclude_unset: bool) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=exclude_unset, mode="python")
    if "prizes" in values and values["prizes"] is not None:
        values["prizes"] = [p.model_dump(mode="json", exclude_none=True) for p in data.prizes or []]
    return values


def _name_free(session: Session, name: str, *, except_id: str | None = None) -> None:
    stmt = select(Campaign.id).where(Campaign.name == name)
    if except_id:
        stmt = stmt.where(Campaign.id != except_id)
    if session.scalars(stmt).first() is not None:
        raise CampaignNameTaken(f"a campaign named {name!r} exists", field="name")


def create_campaign(data: CampaignIn, *, session: Session) -> CampaignOut:
    """A draft campaign; nothing is funded until it is activated."""
    _check_prizes(data.prizes)
    _check_dates(data.starts_at, data.ends_at)
    _name_free(session, data.name)
    row = Campaign(status="draft", funded_fen=0, funded_points=0, **_dump(data, exclude_unset=False))
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise CampaignNameTaken(f"a campaign named {data.name!r} exists", field="name") from None
    return _out(row)


def get_campaign(campaign_id: str, *, session: Session) -> CampaignOut:
    return _out(_row(session, campaign_id))


def list_campaigns(
    params: PageParams, *, session: Session, status: CampaignStatus | None = None
) -> Page[CampaignOut]:
    stmt = select(Campaign)
    if status:
        stmt = stmt.where(Campaign.status == status)
    if params.q:
        stmt = stmt.where(Campaign.name.contains(params.q, autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Campaign.created_at.desc(), Campaign.id)
        .offset((params.page - 1) * params.page_size)
        .limit(params.page_size)
    )
    return Page(items=[_out(r) for r in rows], total=total, page=params.page, page_size=params.page_size)


def update_campaign(campaign_id: str, data: CampaignUpdate, *, session: Session) -> CampaignOut:
    """Change a campaign; an ended one is frozen. A budget raised on an active campaign is funded
    at once; a budget below what was already funded is refused."""
    row = _row(session, campaign_id)
    if row.status == "ended":
        raise CampaignStateConflict("an ended campaign cannot change", field="status")
    values = _dump(data, exclude_unset=True)
    if data.prizes is not None:
        _check_prizes(data.prizes)
    stored = [_aware(v) if v is not None else None for v in (row.starts_at, row.ends_at)]
    _check_dates(values.get("starts_at", stored[0]), values.get("ends_at", stored[1]))
    for unit in ("fen", "points"):
        field = f"budget_{unit}"
        if values.get(field) is not None and values[field] < getattr(row, f"funded_{unit}"):
            raise InvalidCampaign(f"{field} is below what was already funded", field=field)
    if values.get("name"):
        _name_free(session, values["name"], except_id=row.id)
    for key, value in values.items():
        if value is None and key in {"name", "prizes", "budget_fen", "budget_points", "store_rebate_fen"}:
            continue
        setattr(row, key, value)
    if row.status == "active":
        _fund(session, row)
    session.flush()
    _cache.forget(current_tenant(session))
    return _out(row)


def set_prizes(campaign_id: str, prizes: list[PrizeTier], *, session: Session) -> CampaignOut:
    return update_campaign(campaign_id, CampaignUpdate(prizes=prizes), session=session)


# Budget account ids of funded campaigns: opened by the committed activation, never deleted.
_BUDGET_IDS: dict[tuple[str, str, str], str] = {}


def _funded_budget_id(session: Session, tenant_id: str, row: CampaignOut, unit: Unit) -> str | None:
    """The campaign's budget account for ``unit``, or None when nothing was ever funded."""
    if not getattr(row, f"funded_{unit}"):
        return None
    key = (tenant_id, row.id, unit)
    if key not in _BUDGET_IDS:
        _BUDGET_IDS[key] = _budget(session, row.id, unit).id
    return _BUDGET_IDS[key]


def _budget(session: Session, campaign_id: str, unit: Unit) -> AccountOut:
    return ledger.get_or_open_account(
        AccountSpec(kind="campaign_budget", unit=unit, owner_type="campaign", owner_id=campaign_id),
        session=session,
    )


def _fund(session: Session, row: Campaign) -> None:
    """Top the campaign's budget accounts up to its budgets from the tenant's funding accounts."""
    for unit in ("fen", "points"):
        target = int(getattr(row, f"budget_{unit}"))
        missing = target - int(getattr(row, f"funded_{unit}"))
        if missing <= 0:
            continue
        ledger.transfer(
            session=session,
            idempotency_key=f"campaign-funding:{row.id}:{unit}:{target}",
            from_account_id=ledger.funding_account(session=session, unit=unit).id,
            to_account_id=_budget(session, row.id, unit).id,
            amount=missing,
            kind="campaign_funding",
            memo=row.name,
            reference=row.id,
        )
        setattr(row, f"funded_{unit}", target)


_MOVES: dict[str, tuple[set[str], str]] = {
    "activate": ({"draft", "paused"}, "active"),
    "pause": ({"active"}, "paused"),
    "end": ({"draft", "active", "paused"}, "ended"),
}


def change_status(campaign_id: str, action: str, *, session: Session) -> CampaignOut:
    """``activate`` (funds the budgets, idempotent key per budget total), ``pause`` or ``end``."""
    row = _row(session, campaign_id)
    allowed, target = _MOVES[action]
    if row.status == target:
        return _out(row)
    if row.status not in allowed:
        raise CampaignStateConflict(f"a {row.status} campaign cannot {action}", field="status")
    if target == "active":
        if not row.prizes:
            raise InvalidCampaign("a campaign needs at least one prize tier to start", field="prizes")
        _fund(session, row)
    row.status = target
    session.flush()
    _cache.forget(current_tenant(session))
    return _out(row)


# --- the reward decision ---------------------------------------------------------------------


_COUNTERS = cast(Table, PromotionCounter.__table__)
_REWARDS = cast(Table, Reward.__table__)
_ATTEMPTS = cast(Table, RewardAttempt.__table__)


def _insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _bump(
    session: Session,
    tenant_id: str,
    scope: str,
    key: str,
    delta: int,
    limit: int | None,
    undo: list[_Undo] | None = None,
) -> int | None:
    """Add ``delta`` to a counter in one statement; None (and no change) when it would pass ``limit``.

    The conditional upsert is evaluated by the database on the newest committed row (PostgreSQL
    waits for a concurrent writer of the same key; SQLite serialises writers), so a limit holds
    under concurrency.
    """
    if limit is not None and delta > limit:
        return None
    where: ColumnElement[bool] | None = None
    if limit is not None:
        where = _COUNTERS.c.value + delta <= limit
    stmt = (
        _insert(session, _COUNTERS)
        .values(id=new_id(), tenant_id=tenant_id, scope=scope, key=key, value=delta)
        .on_conflict_do_update(
            index_elements=["tenant_id", "scope", "key"],
            set_={"value": _COUNTERS.c.value + delta},
            where=where,
        )
        .returning(_COUNTERS.c.value)
    )
    row = session.connection().execute(stmt).first()
    if row is None:
        return None
    if undo is not None:
        undo.append(("counter", scope, key, delta))
    return int(row[0])


def _covers(region: str | None, divisions: list[str]) -> bool:
    if not divisions:
        return True
    if not region:
        return False
    for code in divisions:
        prefix = code[:2] if code.endswith("0000") else code[:4] if code.endswith("00") else code
        if region.startswith(prefix):
            return True
    return False


def _eligible(row: CampaignOut, check: CheckOut, now: datetime) -> bool:
    if row.starts_at is not None and _aware(row.starts_at) > now:
        return False
    if row.ends_at is not None and _aware(row.ends_at) <= now:
        return False
    if row.sku_ids and (check.product is None or check.product.sku_id not in row.sku_ids):
        return False
    if row.gtins and check.gtin not in row.gtins:
        return False
    if row.batch_ids and check.batch_id not in row.batch_ids:
        return False
    return _covers(check.first_region, row.regions)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def find_campaign(check: CheckOut, *, session: Session, now: datetime | None = None) -> CampaignOut | None:
    """The oldest active campaign this scanned code is eligible for."""
    return _campaign_for(session, check, now or datetime.now(UTC))


def _campaign_for(session: Session, check: CheckOut, now: datetime) -> CampaignOut | None:
    return next((r for r in _active_campaigns(session) if _eligible(r, check, now)), None)


def _active_campaigns(session: Session) -> list[CampaignOut]:
    """The tenant's active campaigns, oldest first, cached for ``_cache.TTL_SECONDS``."""

    def load() -> list[CampaignOut]:
        stmt = select(Campaign).where(Campaign.status == "active").order_by(Campaign.created_at, Campaign.id)
        return [_out(r) for r in session.scalars(stmt)]

    return _cache.campaigns.get((_cache.database_key(session), current_tenant(session)), load)


def draw(prizes: list[PrizeTier]) -> PrizeTier | None:
    """One draw from a prize pool with the OS CSPRNG; None is "thanks for taking part"."""
    roll = secrets.randbelow(PPM)
    edge = 0
    for tier in prizes:
        edge += round(tier.probability * PPM)
        if roll < edge:
            return tier
    return None


def _amounts(tier: PrizeTier | None) -> tuple[RewardKind, int, int, str | None]:
    """(kind, fen, points, coupon) of a drawn tier."""
    if tier is None:
        return "thanks", 0, 0, None
    if tier.kind == "random_red_packet":
        low, high = tier.min_fen or 0, tier.max_fen or 0
        return tier.kind, low + secrets.randbelow(high - low + 1), 0, None
    if tier.kind == "red_packet":
        return tier.kind, tier.amount_fen or 0, 0, None
    if tier.kind == "points":
        return tier.kind, 0, tier.points or 0, None
    return tier.kind, 0, 0, tier.coupon_code


class _Refused(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome)
        self.outcome = outcome


def _blocked(session: Session, who: ScanIdentity) -> bool:
    wanted = [(kind, value) for kind, value in (("identity", who.openid), ("device", who.device)) if value]
    if not wanted:
        return False

    def load() -> frozenset[tuple[str, str]]:
        return frozenset(
            (k, v) for k, v in session.execute(select(PromotionBlock.kind, PromotionBlock.value))
        )

    blocked = _cache.blocks.get((_cache.database_key(session), current_tenant(session)), load)
    return any(pair in blocked for pair in wanted)


def _rate_limited(
    session: Session, tenant_id: str, row: CampaignOut, who: ScanIdentity, now: datetime
) -> bool:
    if row.rate_limit_scans is None:
        return False
    window = int(now.timestamp()) // row.rate_limit_window_s * row.rate_limit_window_s
    limited = False
    for scope, value in (("rate:identity", who.openid), ("rate:device", who.device)):
        if value:
            count = _bump(session, tenant_id, scope, f"{row.rate_limit_window_s}:{window}:{value}", 1, None)
            limited = limited or (count or 0) > row.rate_limit_scans
    return limited


def _record(
    session: Session,
    check: CheckOut,
    who: ScanIdentity,
    outcome: Outcome,
    campaign_id: str | None = None,
    reward_id: str | None = None,
    *,
    reason: str | None = None,
) -> None:
    session.connection().execute(
        _ATTEMPTS.insert(),
        {
            "id": new_id(),
            "tenant_id": current_tenant(session),
            "code": check.serial[:40],
            "campaign_id": campaign_id,
            "openid": who.openid,
            "device": who.device,
            "store_id": who.store_id,
            "outcome": outcome,
            "reason": reason,
            "reward_id": reward_id,
            "created_at": datetime.now(UTC),
        },
    )


def _store_ok(session: Session, store_id: str | None) -> bool:
    if not store_id:
        return False
    try:
        return network.get_organization(store_id, session=session).kind == "store"
    except NotFound:
        return False


def reward_scan(
    check: CheckOut,
    who: ScanIdentity,
    *,
    session: Session,
    now: datetime | None = None,
    context: Mapping[str, str] | None = None,
) -> RewardOut:
    """Decide and pay the reward of one scan, inside the scan's unit of work (never commits).

    A code gets one draw ever (``promotion_rewards`` is unique on the code); every decision,
    granted or refused, is recorded in ``promotion_attempts`` with its outcome.
    """
    tenant_id = current_tenant(session)
    now = now or datetime.now(UTC)
    if not check.genuine:
        _record(session, check, who, "not_genuine")
        return RewardOut(granted=False, outcome="not_genuine")
    if _blocked(session, who):
        _record(session, check, who, "blocked")
        return RewardOut(granted=False, outcome="blocked")
    row = _campaign_for(session, check, now)
    if row is None:
        _record(session, check, who, "no_campaign")
        return RewardOut(granted=False, outcome="no_campaign")
    # Counted whether or not the scan is rewarded: the window counts scans, not rewards.
    if _rate_limited(session, tenant_id, row, who, now):
        _record(session, check, who, "rate_limited", row.id, reason="rate_limit_scans")
        return RewardOut(granted=False, outcome="rate_limited", campaign_id=row.id)
    broken = _velocity(session, tenant_id, row, who, check, now)
    if broken is not None:
        _record(session, check, who, "rate_limited", row.id, reason=broken)
        return RewardOut(granted=False, outcome="rate_limited", campaign_id=row.id)
    where = _Where(session, check.serial)
    if row.store_rebate_fen and (holder := where.holder()) and _store_ok(session, holder):
        # BC reward: the store the unit was shipped to (or that opened its case) earns the rebate,
        # rather than any store named on the URL.
        who = who.model_copy(update={"store_id": holder})
    if row.cluster_min_codes and who.openid:
        _cluster(session, tenant_id, row, check, who, where, context or {}, now)
    # Nothing half-written on a refusal. Without a store rebate every write of the decision can
    # be taken back by a statement (the claim deleted, the counters lowered; the ledger leaves
    # nothing of a refused posting), so no SAVEPOINT is needed, which saves two round trips on
    # every scan. With a rebate, the consumer's payout may be posted before the rebate is
    # refused, so the decision runs in a SAVEPOINT.
    undo: list[_Undo] = []
    try:
        if row.store_rebate_fen and who.store_id:
            with session.connection().begin_nested():
                result = _decide(session, tenant_id, row, check, who, now, None)
        else:
            result = _decide(session, tenant_id, row, check, who, now, undo)
    except _Refused as refused:
        _take_back(session, tenant_id, undo)
        _record(session, check, who, refused.outcome, row.id)
        return RewardOut(granted=False, outcome=refused.outcome, campaign_id=row.id)
    _record(session, check, who, result.outcome, row.id, result.reward_id)
    return result


class _Where:
    """The scanned unit's whereabouts (case, holder), read once and only if a rule needs them."""

    def __init__(self, session: Session, serial: str) -> None:
        self._session, self._serial = session, serial
        self._loaded = False
        self._value: Whereabouts | None = None

    def get(self) -> Whereabouts | None:
        if not self._loaded:
            self._value = codes.unit_whereabouts(self._serial, session=self._session)
            self._loaded = True
        return self._value

    def holder(self) -> str | None:
        where = self.get()
        return where.holder_org_id if where else None


def _mark(session: Session, tenant_id: str, scope: str, key: str) -> bool:
    """Note ``key`` once: True the first time (a row of ``promotion_counters``), False after."""
    stmt = (
        _insert(session, _COUNTERS)
        .values(id=new_id(), tenant_id=tenant_id, scope=scope, key=key[:200], value=1)
        .on_conflict_do_nothing(index_elements=["tenant_id", "scope", "key"])
        .returning(_COUNTERS.c.id)
    )
    return session.connection().execute(stmt).first() is not None


def _velocity(
    session: Session, tenant_id: str, row: CampaignOut, who: ScanIdentity, check: CheckOut, now: datetime
) -> str | None:
    """The velocity rule this scan breaks (its reason), or None. Scans count whether or not they
    are rewarded: a burst is refused as it happens."""
    stamp = int(now.timestamp())
    broken: str | None = None
    if who.openid:
        # Every window counts the scan (the minute's and the hour's), whichever refuses it.
        for limit, width, name in (
            (row.max_scans_per_minute, 60, "identity_per_minute"),
            (row.max_scans_per_hour, 3600, "identity_per_hour"),
        ):
            if limit is not None:
                count = _bump(
                    session, tenant_id, f"vel:{width}", f"{row.id}:{stamp // width}:{who.openid}", 1, None
                )
                if (count or 0) > limit and broken is None:
                    broken = f"{name}>{limit}"
    if broken is not None:
        return broken
    if who.device and row.max_codes_per_device_day is not None:
        day = (now + CHINA).date().isoformat()
        if _mark(session, tenant_id, "devcode", f"{row.id}:{day}:{check.serial}:{who.device}"):
            count = _bump(session, tenant_id, "vel:devcodes", f"{row.id}:{day}:{who.device}", 1, None)
            if (count or 0) > row.max_codes_per_device_day:
                return f"device_codes_per_day>{row.max_codes_per_device_day}"
    return None


_FLAGS = cast(Table, PromotionFlag.__table__)


def _point(context: Mapping[str, str], check: CheckOut) -> tuple[float, float, str | None] | None:
    """(lng, lat, division) of the scan: its coordinates, else its division's centroid."""
    try:
        lat, lng = float(context["lat"]), float(context["lng"])
        return lng, lat, geo.nearest_division(lng, lat).code
    except (KeyError, ValueError):
        pass
    region = context.get("region") or check.first_region
    division = geo.get_division(region) if region else None
    return (division.lng, division.lat, division.code) if division else None


def _cluster(
    session: Session,
    tenant_id: str,
    row: CampaignOut,
    check: CheckOut,
    who: ScanIdentity,
    where: _Where,
    context: Mapping[str, str],
    now: datetime,
) -> None:
    """Flag one identity scanning many codes of one case far from the store it was shipped to."""
    found = where.get()
    if found is None or not found.containers or not found.holder_org_id or not who.openid:
        return
    case = found.containers[0]
    if not _mark(session, tenant_id, "clustercode", f"{case}:{check.serial}:{who.openid}"):
        return  # this identity scanned this code before: no new code of the case
    count = _bump(session, tenant_id, "cluster", f"{case}:{who.openid}", 1, None) or 0
    if count < (row.cluster_min_codes or 0):
        return
    try:
        store = network.get_organization(found.holder_org_id, session=session)
    except NotFound:
        return
    home = (store.lng, store.lat) if store.lng is not None and store.lat is not None else None
    if home is None and (division := geo.get_division(store.division_code)) is not None:
        home = (division.lng, division.lat)
    point = _point(context, check)
    if home is None or point is None:
        return
    distance = round(geo.distance_km(point[0], point[1], home[0], home[1]), 1)
    if distance <= (row.cluster_km or 0):
        return
    values = {
        "id": new_id(),
        "tenant_id": tenant_id,
        "kind": "cluster",
        "campaign_id": row.id,
        "identity": who.openid[:128],
        "subject": case,
        "store_id": store.id,
        "count": count,
        "distance_km": distance,
        "region": point[2],
        "reason": f"{count} codes of case {case} scanned {distance:g} km from {store.code}",
        "created_at": now,
        "last_seen_at": now,
    }
    stmt = _insert(session, _FLAGS).values(**values)
    session.connection().execute(
        stmt.on_conflict_do_update(
            index_elements=["tenant_id", "kind", "identity", "subject"],
            set_={
                "count": stmt.excluded.count,
                "distance_km": stmt.excluded.distance_km,
                "region": stmt.excluded.region,
                "reason": stmt.excluded.reason,
                "last_seen_at": stmt.excluded.last_seen_at,
            },
        )
    )


def list_flags(params: PageParams, *, session: Session, kind: str | None = None) -> Page[FlagOut]:
    """Fraud flags for review, most recently seen first."""
    stmt = select(PromotionFlag)
    if kind:
        stmt = stmt.where(PromotionFlag.kind == kind)
    if params.q:
        stmt = stmt.where(
            or_(PromotionFlag.identity == params.q.strip(), PromotionFlag.subject == params.q.strip().upper())
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(PromotionFlag.last_seen_at.desc(), PromotionFlag.id)
        .offset((params.page - 1) * params.page_size)
        .limit(params.page_size)
    )
    return Page(
        items=[FlagOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=params.page,
        page_size=params.page_size,
    )


# What a refused decision takes back: ("reward", id) or ("counter", scope, key, delta).
_Undo = tuple[Any, ...]
_LOWER = (
    update(_COUNTERS)
    .where(
        _COUNTERS.c.tenant_id == bindparam("t"),
        _COUNTERS.c.scope == bindparam("s"),
        _COUNTERS.c.key == bindparam("k"),
    )
    .values(value=_COUNTERS.c.value - bindparam("d"))
)


def _take_back(session: Session, tenant_id: str, undo: list[_Undo]) -> None:
    """Undo a refused decision's writes in the same transaction (which holds their row locks)."""
    connection = session.connection()
    for item in reversed(undo):
        if item[0] == "reward":
            connection.execute(delete(_REWARDS).where(_REWARDS.c.id == item[1]))
        else:
            connection.execute(_LOWER, {"t": tenant_id, "s": item[1], "k": item[2], "d": item[3]})


def _decide(
    session: Session,
    tenant_id: str,
    row: CampaignOut,
    check: CheckOut,
    who: ScanIdentity,
    now: datetime,
    undo: list[_Undo] | None,
) -> RewardOut:
    """The draw, the claim, the limits and the payouts. ``undo`` (when given) collects what to
    take back if the decision is refused; None means the caller holds a savepoint instead."""
    kind, fen, points, coupon = _amounts(draw(row.prizes))
    reward_id = new_id()
    # The payout's ledger transaction id is chosen now and stored with the claim: no UPDATE later.
    payout_id = new_id() if fen or points else None
    claim = (
        _insert(session, _REWARDS)
        .values(
            id=reward_id,
            tenant_id=tenant_id,
            code=check.serial[:40],
            campaign_id=row.id,
            gtin=check.gtin,
            batch_id=check.batch_id,
            openid=who.openid,
            device=who.device,
            store_id=who.store_id,
            kind=kind,
            amount_fen=fen,
            points=points,
            coupon_code=coupon,
            transaction_id=payout_id,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "code"])
        .returning(_REWARDS.c.id)
    )
    if session.connection().execute(claim).first() is None:
        raise _Refused("already_rewarded")
    if undo is not None:
        undo.append(("reward", reward_id))
    wins = kind != "thanks"
    if wins and (fen or points) and not who.openid:
        raise _Refused("no_identity")
    limit = row.per_consumer_limit
    if (
        wins
        and who.openid
        and limit is not None
        and _bump(session, tenant_id, "consumer", f"{row.id}:{who.openid}", 1, limit, undo) is None
    ):
        raise _Refused("consumer_limit")
    # A day's spend is counted while a daily limit is set (a limit set mid-day counts from then).
    day = (now + CHINA).date().isoformat()
    if (
        fen
        and row.daily_fen is not None
        and _bump(session, tenant_id, "daily_fen", f"{row.id}:{day}", fen, row.daily_fen, undo) is None
    ):
        raise _Refused("daily_limit")
    if (
        points
        and row.daily_points is not None
        and _bump(session, tenant_id, "daily_points", f"{row.id}:{day}", points, row.daily_points, undo)
        is None
    ):
        raise _Refused("daily_limit")
    transaction_id = None
    try:
        if fen or points:
            unit: Unit = "fen" if fen else "points"
            budget_id = _funded_budget_id(session, tenant_id, row, unit)
            if budget_id is None:
                raise _Refused("budget_exhausted")
            spec = AccountSpec(
                kind="consumer_wallet", unit=unit, owner_type=who.owner_type, owner_id=who.openid or ""
            )
            tx = _pay(
                session,
                spec,
                idempotency_key=f"scan-reward:{check.serial}",
                from_account_id=budget_id,
                amount=fen or points,
                kind="scan_reward",
                memo=row.name,
                reference=reward_id,
                transaction_id=payout_id,
            )
            transaction_id = tx.id
        rebate, rebate_tx = _rebate(session, tenant_id, row, check, who)
    except Conflict as exc:
        if exc.code == "insufficient_funds":
            raise _Refused("budget_exhausted") from None
        raise
    if transaction_id != payout_id or rebate_tx:
        session.connection().execute(
            update(_REWARDS)
            .where(_REWARDS.c.id == reward_id)
            .values(transaction_id=transaction_id, rebate_fen=rebate, rebate_transaction_id=rebate_tx)
        )
    if wins:
        append_event(
            session,
            type=EVENT_TYPE,
            event_id=f"{EVENT_TYPE}:{reward_id}",
            ts=now,
            identities=who.identities or ([("wechat_openid", who.openid)] if who.openid else None),
            org_id=who.store_id if rebate else None,
            sku=check.product.sku_code if check.product else None,
            region=check.first_region,
            amount=fen,
            properties={
                "campaign_id": row.id,
                "reward_id": reward_id,
                "kind": kind,
                "points": points,
                "coupon_code": coupon,
                "gtin": check.gtin,
                "serial": check.serial,
                "rebate_fen": rebate,
            },
        )
    return RewardOut(
        granted=True,
        outcome="granted" if wins else "thanks",
        kind=kind,
        campaign_id=row.id,
        reward_id=reward_id,
        amount_fen=fen,
        points=points,
        coupon_code=coupon,
        rebate_fen=rebate,
    )


def _rebate(
    session: Session, tenant_id: str, row: CampaignOut, check: CheckOut, who: ScanIdentity
) -> tuple[int, str | None]:
    """The store rebate of a scan (budget → the selling store's wallet), once per code."""
    budget_id = _funded_budget_id(session, tenant_id, row, "fen")
    if not row.store_rebate_fen or not _store_ok(session, who.store_id):
        return 0, None
    if budget_id is None:
        raise _Refused("budget_exhausted")
    store_id = who.store_id or ""
    limit = row.per_store_limit
    if limit is not None and _bump(session, tenant_id, "store", f"{row.id}:{store_id}", 1, limit) is None:
        return 0, None
    tx = _pay(
        session,
        AccountSpec(kind="store_wallet", unit="fen", owner_type="organization", owner_id=store_id),
        idempotency_key=f"store-rebate:{check.serial}",
        from_account_id=budget_id,
        amount=row.store_rebate_fen,
        kind="store_rebate",
        memo=row.name,
        reference=check.serial,
    )
    return row.store_rebate_fen, tx.id


# Wallet account ids by (database, tenant, kind, unit, owner): a wallet is never deleted, but one
# opened in a unit of work that was rolled back never existed; the ledger then refuses the
# posting (nothing written), the id is forgotten and the wallet opened again.
_WALLETS: dict[tuple[str, str, str, str, str], str] = {}
_WALLETS_LIMIT = 200_000


def _pay(session: Session, spec: AccountSpec, **posting: Any) -> TransactionOut:
    key = (_cache.database_key(session), current_tenant(session), spec.kind, spec.unit, spec.owner_id)
    wallet_id = _WALLETS.get(key)
    if wallet_id is not None:
        try:
            return ledger.transfer(session=session, to_account_id=wallet_id, **posting)
        except ValidationFailed as exc:  # the ledger's invalid_posting: no such account (any more)
            if exc.code != "invalid_posting" or exc.field != "entries.1.account_id":
                raise
            _WALLETS.pop(key, None)
    # Not in this process's cache: most such owners are new consumers, so insert first.
    wallet_id = ledger.get_or_open_account(spec, session=session, likely_new=True).id
    tx = ledger.transfer(session=session, to_account_id=wallet_id, **posting)
    if len(_WALLETS) >= _WALLETS_LIMIT:
        _WALLETS.clear()
    _WALLETS[key] = wallet_id
    return tx


# --- the scan page hook ----------------------------------------------------------------------


def _message(result: RewardOut, locale: str) -> str:
    if result.outcome == "granted":
        if result.kind in ("random_red_packet", "red_packet"):
            yuan = f"{result.amount_fen // 100}.{result.amount_fen % 100:02d}"
            return translate("promotions.scan.red_packet", locale, yuan=yuan)
        if result.kind == "points":
            return translate("promotions.scan.points", locale, points=result.points)
        return translate("promotions.scan.coupon", locale, coupon=result.coupon_code or "")
    if result.outcome == "thanks":
        return translate("promotions.scan.thanks", locale)
    if result.outcome in ("not_genuine", "no_campaign"):
        return ""
    return translate(f"promotions.scan.refused.{result.outcome}", locale)


def scan_listener(check: CheckOut, context: Mapping[str, str], session: Session) -> dict[str, object] | None:
    """Registered with the codes domain: decides the reward of a scan and says what to show.

    The consumer identity comes from ``openid`` (query parameter or cookie): the development
    adapter of the identity port, until WeChat OAuth provides it.
    """
    try:
        identities = [(str(n), str(v)) for n, v in json.loads(context.get("identities") or "[]")][:8]
    except (ValueError, TypeError):
        identities = []
    who = ScanIdentity(
        openid=(context.get("openid") or "")[:64] or None,
        device=(context.get("device") or "")[:128] or None,
        store_id=(context.get("store_id") or "")[:36] or None,
        owner_type="phone" if context.get("owner_type") == "phone" else "wechat_openid",
        identities=identities,
    )
    result = reward_scan(check, who, session=session, context=context)
    if result.outcome in ("not_genuine", "no_campaign"):
        return None
    answer = result.model_dump(mode="json")
    answer["message"] = _message(result, context.get("locale", "zh-CN"))
    return {"reward": answer}


_register_messages()
codes.register_scan_listener(scan_listener)


# --- figures, attempts, blocks ---------------------------------------------------------------


def figures(campaign_id: str, *, session: Session, days: int = 30) -> FiguresOut:
    """Scans decided, winners, refusals by reason and budget burn, with a daily series."""
    row = _row(session, campaign_id)
    outcomes = Counter(
        dict(
            session.execute(
                select(RewardAttempt.outcome, func.count())
                .where(RewardAttempt.campaign_id == row.id)
                .group_by(RewardAttempt.outcome)
            ).all()
        )
    )
    since = datetime.now(UTC) - timedelta(days=days)
    series: dict[date, list[int]] = {}
    for created, outcome in session.execute(
        select(RewardAttempt.created_at, RewardAttempt.outcome).where(
            RewardAttempt.campaign_id == row.id, RewardAttempt.created_at >= since
        )
    ):
        day = (_aware(created) + CHINA).date()
        series.setdefault(day, [0, 0, 0, 0])[0] += 1
        if outcome == "granted":
            series[day][1] += 1
    for created, fen, points in session.execute(
        select(Reward.created_at, Reward.amount_fen + Reward.rebate_fen, Reward.points).where(
            Reward.campaign_id == row.id, Reward.created_at >= since
        )
    ):
        day = (_aware(created) + CHINA).date()
        series.setdefault(day, [0, 0, 0, 0])
        series[day][2] += int(fen)
        series[day][3] += int(points)
    spent, rebates, points = session.execute(
        select(
            func.coalesce(func.sum(Reward.amount_fen), 0),
            func.coalesce(func.sum(Reward.rebate_fen), 0),
            func.coalesce(func.sum(Reward.points), 0),
        ).where(Reward.campaign_id == row.id)
    ).one()
    left = {
        unit: (
            account.balance if (account := ledger.find_account(_spec(row.id, unit), session=session)) else 0
        )
        for unit in ("fen", "points")
    }
    refusals = {k: v for k, v in outcomes.items() if k not in ("granted", "thanks")}
    return FiguresOut(
        campaign_id=row.id,
        scans=sum(outcomes.values()),
        winners=outcomes["granted"],
        thanks=outcomes["thanks"],
        refusals=refusals,
        spent_fen=int(spent),
        rebates_fen=int(rebates),
        points=int(points),
        funded_fen=row.funded_fen,
        funded_points=row.funded_points,
        budget_left_fen=left["fen"],
        budget_left_points=left["points"],
        days=[
            DayFigures(day=d, scans=v[0], winners=v[1], spent_fen=v[2], points=v[3])
            for d, v in sorted(series.items())
        ],
    )


def _spec(campaign_id: str, unit: Unit) -> AccountSpec:
    return AccountSpec(kind="campaign_budget", unit=unit, owner_type="campaign", owner_id=campaign_id)


def list_attempts(
    params: PageParams, *, session: Session, campaign_id: str | None = None, outcome: Outcome | None = None
) -> Page[AttemptOut]:
    stmt = select(RewardAttempt)
    if campaign_id:
        stmt = stmt.where(RewardAttempt.campaign_id == campaign_id)
    if outcome:
        stmt = stmt.where(RewardAttempt.outcome == outcome)
    if params.q:
        stmt = stmt.where(RewardAttempt.code == params.q.strip().upper())
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(RewardAttempt.created_at.desc(), RewardAttempt.id)
        .offset((params.page - 1) * params.page_size)
        .limit(params.page_size)
    )
    return Page(
        items=[AttemptOut.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        page=params.page,
        page_size=params.page_size,
    )


def add_block(data: BlockIn, *, session: Session) -> BlockOut:
    """Block an identity or a device (idempotent: blocking it again returns the block)."""
    existing = session.scalars(
        select(PromotionBlock).where(PromotionBlock.kind == data.kind, PromotionBlock.value == data.value)
    ).first()
    if existing is None:
        existing = PromotionBlock(kind=data.kind, value=data.value, reason=data.reason)
        session.add(existing)
        session.flush()
        _cache.forget(current_tenant(session))
    return BlockOut.model_validate(existing, from_attributes=True)


def list_blocks(*, session: Session) -> list[BlockOut]:
    rows = session.scalars(select(PromotionBlock).order_by(PromotionBlock.created_at.desc()))
    return [BlockOut.model_validate(r, from_attributes=True) for r in rows]


def remove_block(block_id: str, *, session: Session) -> None:
    row = session.scalars(select(PromotionBlock).where(PromotionBlock.id == block_id)).one_or_none()
    if row is None:
        raise BlockNotFound(f"no block {block_id}", field="block_id")
    session.delete(row)
    session.flush()
    _cache.forget(current_tenant(session))


__all__ = [
    "EVENT_TYPE",
    "add_block",
    "change_status",
    "create_campaign",
    "draw",
    "figures",
    "find_campaign",
    "get_campaign",
    "list_attempts",
    "list_blocks",
    "list_campaigns",
    "list_flags",
    "remove_block",
    "reward_scan",
    "scan_listener",
    "set_prizes",
    "update_campaign",
]
