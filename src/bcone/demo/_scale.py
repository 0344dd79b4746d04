"""The demo brand's consumer history at scale: up to about a million consumers and ten million
events, generated with numpy and written straight to the warehouse as Arrow batches (the bulk
history never passes through the OLTP outbox).

The story every chart tells:

- **Seasons.** Daily intensity grows over the period, is higher at weekends, peaks in the three
  weeks before each Spring Festival (the gift-buying season), drops during the holiday week, and
  rises around 618 and Double 11. Consumers arrive and buy in "effective time", which is mapped
  back to calendar time through the cumulative intensity, so both acquisition and repeat buying
  follow the seasons.
- **Repeat buying (BG/NBD-like).** Each consumer has a purchase rate λ ~ Gamma(r, α) per week and
  a dropout probability p ~ Beta(a, b): after every purchase they leave with probability p
  (geometric dropout), else their next purchase follows an exponential gap with rate λ.
- **Regions.** The south buys more often (a beverage brand), tier-1 cities buy more online, and
  satisfaction (NPS) differs by province.
- **Partners.** Consumers arrive by a store scan, a share link of a storefront (F2B2C) or by
  following the brand account; offline and WeChat orders go through their home store, share-link
  consumers' WeChat orders credit the sharer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from bcone.core.warehouse import EVENT_ARROW_SCHEMA

SPRING_FESTIVALS = (
    date(2023, 1, 22),
    date(2024, 2, 10),
    date(2025, 1, 29),
    date(2026, 2, 17),
    date(2027, 2, 6),
    date(2028, 1, 26),
    date(2029, 2, 13),
)
CHANNELS = ("offline", "wechat", "tmall", "jd", "douyin")
# Channel mix in tier-1 provinces (Beijing, Shanghai, Guangdong) and elsewhere.
MIX_TIER1 = np.array([0.30, 0.22, 0.24, 0.14, 0.10])
MIX_OTHER = np.array([0.52, 0.20, 0.12, 0.06, 0.10])
TIER1 = ("11", "31", "44")
# Purchase-rate multipliers by province prefix (hot south buys more, north-east less).
RATE_BY_PROVINCE = {"44": 1.35, "45": 1.25, "46": 1.3, "35": 1.2, "43": 1.1, "51": 1.1, "21": 0.8, "13": 0.9}
# Mean NPS score by province prefix (default 7.6).
SCORE_BY_PROVINCE = {"31": 8.2, "33": 8.1, "32": 7.9, "44": 7.4, "21": 6.8, "61": 7.0, "50": 7.8}
BGNBD = {"r": 1.1, "alpha": 7.0, "a": 0.8, "b": 3.2}
MAX_REPEATS = 80
CHUNK_CONSUMERS = 100_000
LOCAL = timezone(timedelta(hours=8))  # China Standard Time
US_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class Store:
    org_id: str
    region: str  # six-digit division code
    weight: float = 1.0


@dataclass(frozen=True)
class Sku:
    code: str
    price_fen: int


@dataclass(frozen=True)
class HistoryPlan:
    tenant_id: str
    consumers: int
    days: int
    end: date
    stores: Sequence[Store]
    skus: Sequence[Sku]
    seed: int = 2026
    survey_id: str | None = None
    prefix: str = "h"
    # The demo's own operational events already fill its last days: the history's intensity
    # there is scaled by ``recent_factor`` so the two add up to a continuous trend.
    recent_days: int = 0
    recent_factor: float = 1.0


def daily_weights(start: date, days: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Relative sales intensity of each day: growth, weekends, Spring Festival, 618, Double 11."""
    offsets = np.arange(days)
    dates = [start + timedelta(days=int(d)) for d in offsets]
    weekday = np.array([d.weekday() for d in dates])
    w = (1.0 + 0.6 * offsets / max(days, 1)) * np.where(weekday >= 5, 1.3, 1.0)
    ordinal = np.array([d.toordinal() for d in dates])
    for festival in SPRING_FESTIVALS:
        x = ordinal - festival.toordinal()
        w = w * (1.0 + 1.8 * np.exp(-(((x + 9) / 6.0) ** 2)))  # stocking up for the festival
        w = np.where((x >= 0) & (x <= 6), w * 0.55, w)  # the holiday week itself is quiet
    for month, day, lift in ((6, 18, 0.6), (11, 11, 0.9)):
        peak = np.array([abs((d - date(d.year, month, day)).days) for d in dates])
        w = w * (1.0 + lift * np.exp(-((peak / 2.5) ** 2)))
    return w


def _calendar(
    u: np.ndarray[Any, np.dtype[np.float64]],
    cumulative: np.ndarray[Any, np.dtype[np.float64]],
    weights: np.ndarray[Any, np.dtype[np.float64]],
    start_us: int,
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Effective days -> UTC microseconds; within a day, between 08:00 and 22:00 local time."""
    day = np.clip(np.searchsorted(cumulative, u, side="right") - 1, 0, weights.size - 1)
    frac = np.clip((u - cumulative[day]) / weights[day], 0.0, 0.999999)
    local_hours = 8.0 + 14.0 * frac
    return (
        start_us + day.astype(np.int64) * US_PER_DAY + ((local_hours - 8.0) * 3_600_000_000).astype(np.int64)
    )


def generate(plan: HistoryPlan) -> Iterator[Any]:
    """Arrow tables (:data:`EVENT_ARROW_SCHEMA`), one per chunk of consumers."""
    rng = np.random.default_rng(plan.seed)
    start = plan.end - timedelta(days=plan.days - 1)
    # Local midnight of the first day, as UTC microseconds.
    start_us = (
        int((datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(hours=8)).timestamp())
        * 1_000_000
    )
    end_us = start_us + plan.days * US_PER_DAY
    weights = daily_weights(start, plan.days)
    if plan.recent_days:
        weights[-plan.recent_days :] *= plan.recent_factor
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    horizon = float(cumulative[-1])
    stores = list(plan.stores)
    store_p = np.array([s.weight for s in stores], dtype=np.float64)
    store_p /= store_p.sum()
    store_ids = pa.array([s.org_id for s in stores], pa.string())
    store_regions = pa.array([s.region for s in stores], pa.string())
    prov = [s.region[:2] for s in stores]
    store_rate = np.array([RATE_BY_PROVINCE.get(p, 1.0) for p in prov])
    store_score = np.array([SCORE_BY_PROVINCE.get(p, 7.6) for p in prov])
    store_tier1 = np.array([p in TIER1 for p in prov])
    sku_codes = pa.array([s.code for s in plan.skus], pa.string())
    sku_price = np.array([s.price_fen for s in plan.skus], dtype=np.int64)
    sku_p = 1.0 / np.arange(1, len(plan.skus) + 1) ** 0.9  # a few best sellers
    sku_p /= sku_p.sum()
    # Properties: channel x sharer (none or a storefront) as a dictionary of JSON texts.
    sharer_names = ["null"] + [f'"sf-{s.org_id}"' for s in stores]
    order_props = pa.array(
        [f'{{"channel":"{c}","sharer_id":{s}}}' for c in CHANNELS for s in sharer_names], pa.string()
    )
    share_props = pa.array(
        [f'{{"content_id":"sf-{s.org_id}","shared_by":"sf-{s.org_id}"}}' for s in stores], pa.string()
    )
    survey = plan.survey_id or "demo-survey"
    nps_props = pa.array([f'{{"score":{n},"survey_id":"{survey}"}}' for n in range(11)], pa.string())
    ident_props = pa.array(['{"source":"wechat_follow"}', "{}"], pa.string())
    serial = 0
    for first in range(0, plan.consumers, CHUNK_CONSUMERS):
        n = min(CHUNK_CONSUMERS, plan.consumers - first)
        home = rng.choice(len(stores), size=n, p=store_p)
        lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], size=n) * store_rate[home]  # per week
        drop = rng.beta(BGNBD["a"], BGNBD["b"], size=n)
        spend = rng.gamma(6.0, 1.0 / 6.0, size=n)
        mix = np.where(store_tier1[home][:, None], MIX_TIER1, MIX_OTHER)
        channel = (rng.random(n)[:, None] > np.cumsum(mix, axis=1)).sum(axis=1)
        buyer = rng.random(n) < 0.8
        arrival = rng.random(n)  # 0-0.25 share link, 0.25-0.6 store scan, else followed the account
        u0 = rng.random(n) * horizon
        # Repeat purchases: geometric dropout, exponential gaps (effective days), capped.
        repeats = np.where(buyer, np.minimum(rng.geometric(np.clip(drop, 1e-3, 1.0)) - 1, MAX_REPEATS), 0)
        who = np.repeat(np.arange(n), repeats)
        gaps = rng.exponential(1.0, who.size) * (7.0 / np.maximum(lam, 1e-4))[who]
        within = np.cumsum(gaps)
        group_start = np.concatenate([[0], np.cumsum(repeats)[:-1]])
        offset = np.repeat(within[group_start - 1] * (group_start > 0), repeats) if who.size else gaps
        first_buy = u0 + rng.exponential(0.6, n)  # the first order follows arrival within days
        u_repeat = first_buy[who] + (within - offset)
        keep = u_repeat < horizon
        buyers = np.flatnonzero(buyer & (first_buy < horizon))
        p_who = np.concatenate([buyers, who[keep]])
        p_u = np.concatenate([first_buy[buyers], u_repeat[keep]])
        p_ts = _calendar(p_u, cumulative, weights, start_us)
        m = p_who.size
        p_sku = rng.choice(len(plan.skus), size=m, p=sku_p)
        qty = rng.choice(np.array([1, 1, 1, 2, 3]), size=m)
        amount = np.maximum(100, (sku_price[p_sku] * qty * spend[p_who] / 20).astype(np.int64))
        p_channel = channel[p_who]
        in_store = (p_channel == 0) | (p_channel == 1)
        by_share = (arrival[p_who] < 0.25) & (p_channel == 1)
        sharer_idx = np.where(by_share, home[p_who] + 1, 0)
        # Scans of the bought product, and a few NPS answers after a scan.
        scanned = rng.random(m) < 0.55
        s_who, s_sku = p_who[scanned], p_sku[scanned]
        s_ts = p_ts[scanned] + rng.integers(600, 2 * 86_400, s_who.size) * 1_000_000
        answered = rng.random(s_who.size) < 0.06
        a_who, a_sku = s_who[answered], s_sku[answered]
        a_ts = s_ts[answered] + rng.integers(30, 3_600, a_who.size) * 1_000_000
        score = np.clip(np.rint(rng.normal(store_score[home[a_who]] + (a_sku % 3 - 1) * 0.4, 2.0)), 0, 10)
        # Some purchases are followed by a referral: a friend bought through this consumer.
        referred = rng.random(m) < 0.03
        r_who = p_who[referred]
        r_ts = p_ts[referred] + rng.integers(3_600, 5 * 86_400, r_who.size) * 1_000_000
        # The arrival event: a share click, a store scan, or following the account.
        c_ts = _calendar(u0, cumulative, weights, start_us)
        share, scan = arrival < 0.25, (arrival >= 0.25) & (arrival < 0.6)
        parts = [
            _part(  # orders
                "order.paid",
                p_ts,
                p_who + first,
                org=np.where(in_store, home[p_who], -1),
                region=home[p_who],
                sku=p_sku,
                amount=amount,
                props=order_props,
                prop_idx=p_channel * len(sharer_names) + sharer_idx,
            ),
            _part(
                "code.scanned",
                s_ts,
                s_who + first,
                org=home[s_who],
                region=home[s_who],
                sku=s_sku,
                props=ident_props,
                prop_idx=np.ones(s_who.size, np.int64),
            ),
            _part(
                "nps.responded",
                a_ts,
                a_who + first,
                org=home[a_who],
                region=home[a_who],
                sku=a_sku,
                props=nps_props,
                prop_idx=score.astype(np.int64),
            ),
            _part(
                "referral.converted",
                r_ts,
                r_who + first,
                org=home[r_who],
                region=home[r_who],
                props=ident_props,
                prop_idx=np.ones(r_who.size, np.int64),
            ),
            _part(
                "share.clicked",
                c_ts[share],
                np.flatnonzero(share) + first,
                org=np.full(int(share.sum()), -1),
                region=home[share],
                props=share_props,
                prop_idx=home[share],
            ),
            _part(
                "code.scanned",
                c_ts[scan],
                np.flatnonzero(scan) + first,
                org=home[scan],
                region=home[scan],
                props=ident_props,
                prop_idx=np.ones(int(scan.sum()), np.int64),
            ),
            _part(
                "profile.identified",
                c_ts[~(share | scan)],
                np.flatnonzero(~(share | scan)) + first,
                org=np.full(int((~(share | scan)).sum()), -1),
                region=home[~(share | scan)],
                props=ident_props,
                prop_idx=np.zeros(int((~(share | scan)).sum()), np.int64),
            ),
        ]
        columns: dict[str, list[Any]] = {
            k: [] for k in ("type", "ts", "who", "org", "region", "sku", "amount", "props")
        }
        for part in parts:
            for k in columns:
                columns[k].append(part[k])
        kinds = pa.chunked_array(columns["type"]).combine_chunks()
        total = len(kinds)
        ids = pc.binary_join_element_wise(
            pa.scalar(f"{plan.prefix}{plan.seed}-"),
            pc.cast(pa.array(np.arange(serial, serial + total)), pa.string()),
            "",
        )
        serial += total
        who_all = np.concatenate(columns["who"])
        org_all = np.concatenate(columns["org"])
        sku_all = np.concatenate(columns["sku"])
        table = pa.table(
            {
                "event_id": ids,
                "tenant_id": pa.array([plan.tenant_id], pa.string()).take(
                    pa.array(np.zeros(total, np.int64))
                ),
                "ts": pa.array(np.concatenate(columns["ts"]), pa.timestamp("us", tz="UTC")),
                "type": kinds,
                "profile_id": pc.binary_join_element_wise(
                    pa.scalar(f"{plan.prefix}{plan.seed}c"), pc.cast(pa.array(who_all), pa.string()), ""
                ),
                "identities": pa.array(["[]"], pa.string()).take(pa.array(np.zeros(total, np.int64))),
                "org_id": store_ids.take(pa.array(np.where(org_all < 0, 0, org_all), mask=org_all < 0)),
                "sku": sku_codes.take(pa.array(np.where(sku_all < 0, 0, sku_all), mask=sku_all < 0)),
                "region": store_regions.take(pa.array(np.concatenate(columns["region"]))),
                "amount": pa.array(
                    np.concatenate(columns["amount"]), mask=np.concatenate(columns["amount"]) < 0
                ),
                "properties": pa.chunked_array(columns["props"]).combine_chunks(),
            }
        )
        # Scans and answers that would fall after the last day stay in the future: left out.
        yield table.filter(pc.less(table.column("ts"), pa.scalar(end_us, pa.timestamp("us", tz="UTC")))).cast(
            EVENT_ARROW_SCHEMA
        )


def _part(
    kind: str,
    ts: np.ndarray[Any, Any],
    who: np.ndarray[Any, Any],
    *,
    org: np.ndarray[Any, Any],
    region: np.ndarray[Any, Any],
    props: Any,
    prop_idx: np.ndarray[Any, Any],
    sku: np.ndarray[Any, Any] | None = None,
    amount: np.ndarray[Any, Any] | None = None,
) -> dict[str, Any]:
    size = int(ts.size)
    return {
        "type": pa.array([kind], pa.string()).take(pa.array(np.zeros(size, np.int64))),
        "ts": ts.astype(np.int64),
        "who": who.astype(np.int64),
        "org": org.astype(np.int64),
        "region": region.astype(np.int64),
        "sku": (sku if sku is not None else np.full(size, -1)).astype(np.int64),
        "amount": (amount if amount is not None else np.full(size, -1)).astype(np.int64),
        "props": props.take(pa.array(prop_idx.astype(np.int64))),
    }


# --- Loading into the demo tenant -----------------------------------------------------------------

HISTORY_DAYS = 730
HISTORY_CONSUMERS = 40_000  # per unit of demo scale: enough for every chart, loaded in seconds
RECENT_DAYS = 90  # the operational demo's events (generator.EVENT_DAYS)
RECENT_FACTOR = 0.4
SURVEY_NAME = "扫码后满意度调查"


def plan_for_brand(
    tenant_id: str,
    brand: Any,
    ids: dict[str, str],
    *,
    consumers: int,
    end: date,
    seed: int,
    days: int = HISTORY_DAYS,
    survey_id: str | None = None,
) -> HistoryPlan:
    """The history of ``brand`` (a :class:`bcone.demo.generator.DemoBrand`) for its loaded stores."""
    stores = [
        Store(ids[o.code], o.division_code)
        for o in brand.organizations
        if o.kind == "store" and o.code in ids
    ]
    skus = [Sku(s.sku_code, s.list_price_fen) for s in brand.skus]
    return HistoryPlan(
        tenant_id,
        consumers,
        days,
        end,
        stores,
        skus,
        seed=seed,
        survey_id=survey_id,
        recent_days=min(RECENT_DAYS, days),
        recent_factor=RECENT_FACTOR,
    )


def load_history(db: Any, settings: Any, plan: HistoryPlan, *, progress: Any = None) -> int:
    """Create the NPS survey the answers belong to, then write the generated history straight to
    the warehouse in Arrow batches. Returns how many events were new (a rerun adds none)."""
    from bcone.analytics import service as analytics
    from bcone.analytics.schemas import SurveyIn
    from bcone.core.warehouse import open_warehouse

    if plan.survey_id is None:
        with db.session(tenant_id=plan.tenant_id) as session:
            existing = [s for s in analytics.list_surveys(session=session) if s.name == SURVEY_NAME]
            survey = (
                existing[0]
                if existing
                else analytics.create_survey(SurveyIn(name=SURVEY_NAME), session=session)
            )
        plan = HistoryPlan(**{**plan.__dict__, "survey_id": survey.id})
    moved = 0
    with open_warehouse(settings) as warehouse:
        warehouse.ensure_schema()
        with warehouse.hold():
            for table in generate(plan):
                moved += warehouse.insert_events(table)
                if progress:
                    progress(f"history: {moved:,} events")
    return moved


def add_history_to_demo(
    db: Any,
    settings: Any,
    *,
    consumers: int,
    seed: int = 2026,
    scale: float = 1.0,
    days: int = HISTORY_DAYS,
    progress: Any = None,
) -> int:
    """Add a consumer history to the demo tenant that is already loaded (``bcone demo
    --history-consumers N`` on an existing demo). A given seed and size always give the same
    events, so running it twice adds nothing."""
    from bcone.core.tenancy import unscoped
    from bcone.demo.generator import TENANT_SLUG, build_demo_brand
    from bcone.iam import service as iam
    from bcone.network import service as network

    end = datetime.now(UTC).astimezone(LOCAL).date()
    brand = build_demo_brand(seed=seed, scale=scale, today=end)
    with db.session() as session:
        unscoped(session)
        tenant = iam.get_tenant_by_slug(TENANT_SLUG, session=session)
    with db.session(tenant_id=tenant.id) as session:
        ids = network.organization_ids_by_code([o.code for o in brand.organizations], session=session)
    plan = plan_for_brand(tenant.id, brand, ids, consumers=consumers, end=end, seed=seed, days=days)
    return load_history(db, settings, plan, progress=progress)
