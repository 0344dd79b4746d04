"""The demo brand's cloud stores (云店), loaded through :mod:`bcone.store.service` only.

A subset of the channel network gets storefronts: three distributors (the demo partner's, and
the two whose stores have the most KOCs and shop assistants), their wholesalers, ``STORE_BASE``
stores per unit of scale (``STORE_MIN`` to ``STORE_CAP``), and the shop assistants and KOCs of
those stores. On top: the brand's price rules, partner prices within them, commission rules per
partner type, stock at the organisations that sell, three coupons, share links and the consumers
who opened them (bound to their sharers), and ``ORDER_BASE`` orders per unit of scale over the
past ``HISTORY_DAYS`` days, each taken through checkout, the payment simulator's signed notice and
fulfilment; then the due commissions are settled, and a few settled orders are refunded so a
claw-back shows.

What the services stamp themselves stays at the load time: visits and bindings, the order
timelines, assignment, shipping and refunds. Checkout, payment, completion (and so the
commissions' return windows) take the planned times, so orders spread over the days.
The plan is seeded; tokens, order numbers and pickup codes come from the services' own draws.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from sqlalchemy.orm import Session

from bcone.catalog import service as catalog
from bcone.catalog.schemas import SkuOut
from bcone.core import geo
from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings
from bcone.demo.generator import DemoBrand, DemoOrganization
from bcone.network import service as network
from bcone.network.schemas import StaffOut
from bcone.store import service as store
from bcone.store.schemas import (
    AddressIn,
    CartItemIn,
    CheckoutIn,
    CommissionRuleIn,
    CouponIn,
    ListingIn,
    OrderOut,
    PriceRuleIn,
    ShareLinkIn,
    StockAdjustIn,
    StorefrontIn,
)

DISTRIBUTOR_COUNT = 3
STORE_BASE, STORE_MIN, STORE_CAP = 40, 8, 80
ASSISTANT_CAP = 30
KOC_CAP = 10
ORDER_BASE, ORDER_MIN, ORDER_CAP = 200, 40, 400
HISTORY_DAYS = 60
# Orders paid within the last OPEN_DAYS days may still be with the store (to accept, ship, hand over).
OPEN_DAYS = 3
LISTED_SKUS = 6
STORE_STOCK = (40, 90)
DISTRIBUTOR_STOCK = 400
# The partner's organisation: orders sold on its storefront to buyers beyond the stores' reach.
PARTNER_OPEN_ORDERS = 4
# The brand's price band per SKU on its cloud stores (list price ±), and on the platform shops.
STORE_FLOOR, STORE_CEILING = 0.85, 1.15
PLATFORM_FLOOR = 0.9
PARTNER_PRICE_FACTORS = (0.92, 0.95, 0.95, 1.0, 1.0, 1.0, 1.05)
# (partner type, level-1 bp, level-2 bp): level 2 goes to the sharer's parent.
COMMISSION_RULES: tuple[tuple[str, int, int], ...] = (
    ("distributor", 150, 0),
    ("wholesaler", 200, 50),
    ("store", 300, 100),
    ("shop_assistant", 500, 150),
    ("koc", 800, 200),
)
GIFT_LINE = "礼盒"
COUPON_NEW, COUPON_PERCENT, COUPON_THRESHOLD = "QQ-NEW10", "QQ-95", "QQ-200-30"
THRESHOLD_MIN_FEN = 20_000
SERVICE_KM = 5.0  # the store service's default radius: buyers farther away go to the distributor
ACTOR = "演示"


@dataclass(frozen=True)
class StoreDemoSummary:
    """What the cloud-store part of the demo created."""

    storefronts: int
    price_rules: int
    commission_rules: int
    coupons: int
    share_visits: int
    visits: int
    bindings: int
    orders: int
    completed: int
    cancelled: int
    refunded: int
    open_orders: int
    commissions_settled: int
    commissions_clawed_back: int
    partner_storefront_slug: str
    seconds: float


@dataclass
class _Front:
    id: str
    slug: str
    kind: str
    org_code: str  # the organisation it sells for (a shop assistant's / KOC's store)
    distributor: str  # the distributor above it
    skus: dict[str, int] = field(default_factory=dict)  # sku id -> unit price, in SKU code order


@dataclass
class _Consumer:
    key: str
    front: _Front  # the storefront the consumer buys from
    new_coupon_used: bool = False


@dataclass
class _Tally:
    orders: int = 0
    completed: int = 0
    cancelled: int = 0
    refunded: int = 0
    open: int = 0
    completed_ids: list[str] = field(default_factory=list)


def store_counts(scale: float) -> tuple[int, int]:
    """(stores with a storefront, orders) at this scale: proportional, within fixed bounds."""
    stores = min(STORE_CAP, max(STORE_MIN, round(STORE_BASE * scale)))
    orders = min(ORDER_CAP, max(ORDER_MIN, round(ORDER_BASE * scale)))
    return stores, orders


def load_store(
    db: Database,
    settings: Settings,
    tenant_id: str,
    brand: DemoBrand,
    ids: dict[str, str],
    *,
    seed: int,
    scale: float,
    today: date | None = None,
) -> StoreDemoSummary:
    """Load the demo's cloud stores into the (new) demo tenant; see the module's docstring."""
    started = time.perf_counter()
    rng = random.Random(f"{seed}-store")
    n_stores, n_orders = store_counts(scale)
    real_now = datetime.now(UTC).replace(microsecond=0)
    # The history ends at the demo's "today" (never after the real clock: settlement uses it).
    end = real_now if today is None else min(real_now, datetime.combine(today, dtime(12), UTC))
    start = end - timedelta(days=HISTORY_DAYS)
    orgs = {o.code: o for o in brand.organizations}
    top = distributor_map(brand)
    distributors = _distributors(brand, top)
    partner_code = distributors[0]
    with db.session(tenant_id=tenant_id) as session:
        skus = catalog.list_skus(PageParams(page_size=200), session=session).items
        staff = _staff(session)
        chosen_staff, store_codes = _choose(rng, brand, distributors, top, staff, n_stores)
        wholesalers = [
            o.code for o in brand.organizations if o.kind == "wholesaler" and o.parent_code in distributors
        ]
        price_rules = _price_rules(session, skus)
        commission_rules = _commission_rules(session)
        coupons = _coupons(session, start, real_now)
        fronts: dict[str, _Front] = {}
        for code in [*distributors, *wholesalers, *store_codes]:
            org = orgs[code]
            out = store.create_storefront(
                StorefrontIn(org_id=ids[code], slug=f"qq-{code.lower()}"), session=session
            )
            fronts[code] = _Front(out.id, out.slug, org.kind, code, top[code])
        for member in chosen_staff:
            out = store.create_storefront(
                StorefrontIn(staff_id=member.id, slug=f"qq-{member.employee_code.lower()}"), session=session
            )
            org_code = str(member.org_code)
            fronts[member.employee_code] = _Front(out.id, out.slug, member.kind, org_code, top[org_code])
        _assortment(session, rng, fronts, store_codes, distributors, skus, ids)
    with db.session(tenant_id=tenant_id) as session:
        consumers, visits, share_visits, bindings = _share(session, rng, fronts, seed, n_orders, partner_code)
    stocked = [orgs[c] for c in store_codes]
    far = {code: _far_divisions(orgs[code], stocked) for code in distributors}
    simulator = store.SimulatorProvider(settings.secret_key)
    tally = _Tally()
    for when, consumer, recent in _order_plan(rng, consumers, n_orders, start, end, partner_code):
        # A store of the partner's network may decline: its distributor holds the goods.
        backup = ids[partner_code] if consumer.front.distributor == partner_code else None
        _one_order(db, tenant_id, rng, simulator, consumer, when, end, recent, orgs, far, backup, tally)
    with db.session(tenant_id=tenant_id) as session:
        settled = 0
        while True:
            done = store.settle_due_commissions(session=session, now=real_now)
            settled += done
            if done == 0:
                break
    clawed = _refund_settled(db, tenant_id, rng, simulator, tally)
    with db.session(tenant_id=tenant_id) as session:
        tally.cancelled += store.expire_orders(session=session, now=real_now)
    return StoreDemoSummary(
        storefronts=len(fronts),
        price_rules=price_rules,
        commission_rules=commission_rules,
        coupons=coupons,
        share_visits=share_visits,
        visits=visits,
        bindings=bindings,
        orders=tally.orders,
        completed=tally.completed,
        cancelled=tally.cancelled,
        refunded=tally.refunded,
        open_orders=tally.open,
        commissions_settled=settled,
        commissions_clawed_back=clawed,
        partner_storefront_slug=fronts[partner_code].slug,
        seconds=time.perf_counter() - started,
    )


# --- who gets a storefront --------------------------------------------------------------------


def _staff(session: Session) -> list[StaffOut]:
    out: list[StaffOut] = []
    for kind in ("shop_assistant", "koc"):
        page = 1
        while True:
            batch = network.list_staff(PageParams(page=page, page_size=200), session=session, kind=kind)
            out.extend(batch.items)
            if page * 200 >= batch.total:
                break
            page += 1
    return out


def distributor_map(brand: DemoBrand) -> dict[str, str]:
    """Each organisation's distributor (a distributor is its own)."""
    by_code = {o.code: o for o in brand.organizations}
    out: dict[str, str] = {}
    for o in brand.organizations:
        top = o
        while top.parent_code is not None:
            top = by_code[top.parent_code]
        out[o.code] = top.code
    return out


def _distributors(brand: DemoBrand, top: dict[str, str]) -> list[str]:
    """The demo partner's distributor (the first) and the ones whose stores have the most KOCs
    and shop assistants, so the storefronts show every partner type."""
    codes = [o.code for o in brand.organizations if o.kind == "distributor"]
    weight = dict.fromkeys(codes, 0)
    for person in brand.staff:
        if person.kind in ("koc", "shop_assistant") and person.org_code:
            weight[top[person.org_code]] += 3 if person.kind == "koc" else 1
    others = sorted(codes[1:], key=lambda c: (-weight[c], c))
    return [codes[0], *others[: DISTRIBUTOR_COUNT - 1]]


def _choose(
    rng: random.Random,
    brand: DemoBrand,
    distributors: list[str],
    distributor_of: dict[str, str],
    staff: list[StaffOut],
    n_stores: int,
) -> tuple[list[StaffOut], list[str]]:
    """The KOCs and shop assistants of the distributors' stores (capped) and the stores: theirs
    first, then the others of each distributor in turn, up to ``n_stores``."""
    stores = sorted(
        o.code for o in brand.organizations if o.kind == "store" and distributor_of[o.code] in distributors
    )
    in_scope = set(stores)
    kocs = [s for s in staff if s.kind == "koc" and s.org_code in in_scope]
    assistants = [s for s in staff if s.kind == "shop_assistant" and s.org_code in in_scope]
    cap_a = min(ASSISTANT_CAP, max(2, n_stores * 3 // 4))
    cap_k = min(KOC_CAP, max(1, n_stores // 4))
    chosen = kocs[:cap_k] + assistants[:cap_a]
    picked: list[str] = list(dict.fromkeys(str(s.org_code) for s in chosen))[: n_stores * 2 // 3]
    chosen = [s for s in chosen if s.org_code in picked]
    rest = {d: [c for c in stores if distributor_of[c] == d and c not in picked] for d in distributors}
    for d in distributors:
        rng.shuffle(rest[d])
    turn = 0
    while len(picked) < n_stores and any(rest.values()):
        queue = rest[distributors[turn % len(distributors)]]
        if queue:
            picked.append(queue.pop())
        turn += 1
    return chosen, picked


# --- the brand's rules ------------------------------------------------------------------------


def _price_rules(session: Session, skus: list[SkuOut]) -> int:
    count = 0
    for sku in skus:
        price = sku.list_price_fen
        store.create_price_rule(
            PriceRuleIn(
                sku_id=sku.id,
                channel="store",
                floor_fen=round(price * STORE_FLOOR),
                ceiling_fen=round(price * STORE_CEILING),
            ),
            session=session,
        )
        store.create_price_rule(
            PriceRuleIn(sku_id=sku.id, channel="tmall", floor_fen=round(price * PLATFORM_FLOOR)),
            session=session,
        )
        count += 2
        if sku.product_line == GIFT_LINE:
            # Gift boxes keep their price in Beijing: no discount below the list price there.
            store.create_price_rule(
                PriceRuleIn(
                    sku_id=sku.id,
                    channel="store",
                    region_prefix="11",
                    floor_fen=price,
                    ceiling_fen=round(price * STORE_CEILING),
                ),
                session=session,
            )
            count += 1
    return count


def _commission_rules(session: Session) -> int:
    for partner_type, level1, level2 in COMMISSION_RULES:
        store.create_commission_rule(
            CommissionRuleIn.model_validate(
                {"partner_type": partner_type, "level1_bp": level1, "level2_bp": level2}
            ),
            session=session,
        )
    # KOCs earn more on gift boxes.
    store.create_commission_rule(
        CommissionRuleIn(partner_type="koc", category=GIFT_LINE, level1_bp=1_000, level2_bp=200),
        session=session,
    )
    return len(COMMISSION_RULES) + 1


def _coupons(session: Session, start: datetime, now: datetime) -> int:
    common = {"starts_at": start - timedelta(days=1), "ends_at": now + timedelta(days=60)}
    for data in (
        CouponIn(
            code=COUPON_NEW,
            name="新客立减 10 元",
            kind="fixed",
            amount_fen=1_000,
            per_consumer_limit=1,
            **common,
        ),
        CouponIn(
            code=COUPON_PERCENT,
            name="会员 95 折",
            kind="percent",
            percent_off=5,
            max_discount_fen=2_000,
            **common,
        ),
        CouponIn(
            code=COUPON_THRESHOLD,
            name="满 200 减 30",
            kind="threshold",
            amount_fen=3_000,
            min_spend_fen=THRESHOLD_MIN_FEN,
            total_limit=5_000,
            **common,
        ),
    ):
        store.create_coupon(data, session=session)
    return 3


def _assortment(
    session: Session,
    rng: random.Random,
    fronts: dict[str, _Front],
    store_codes: list[str],
    distributors: list[str],
    skus: list[SkuOut],
    ids: dict[str, str],
) -> None:
    """Stores list part of the catalog at their own prices (within the rules) and stock it; the
    partner's distributor sells the whole catalog at list price and stocks all of it."""
    for code in store_codes:
        front = fronts[code]
        for sku in sorted(rng.sample(skus, min(LISTED_SKUS, len(skus))), key=lambda s: s.sku_code):
            factor = rng.choice(PARTNER_PRICE_FACTORS)
            price = round(sku.list_price_fen * factor / 10) * 10
            if sku.product_line == GIFT_LINE:
                price = max(price, sku.list_price_fen)  # the Beijing rule: no gift-box discount
            listing = store.set_listing(front.id, ListingIn(sku_id=sku.id, price_fen=price), session=session)
            front.skus[sku.id] = listing.effective_price_fen
            store.adjust_stock(
                StockAdjustIn(
                    org_id=ids[code], sku_id=sku.id, delta=rng.randint(*STORE_STOCK), reference="demo"
                ),
                session=session,
            )
    # The partner's distributor also sells on its own storefront (the others only supply stores).
    for code in distributors[:1]:
        fronts[code].skus = {s.id: s.list_price_fen for s in skus}
        for sku in skus:
            store.adjust_stock(
                StockAdjustIn(org_id=ids[code], sku_id=sku.id, delta=DISTRIBUTOR_STOCK, reference="demo"),
                session=session,
            )
    for front in fronts.values():
        if front.kind in ("shop_assistant", "koc"):
            front.skus = dict(fronts[front.org_code].skus)  # they sell their store's goods
        elif front.kind in ("wholesaler", "distributor"):
            # They earn level 2 (and the first distributor sells on its own storefront).
            front.skus = front.skus if front.org_code == distributors[0] else {}


# --- sharing ----------------------------------------------------------------------------------


def _openid(seed: int, n: int) -> str:
    """An openid-style consumer key (28 characters, as WeChat's are)."""
    return "oQq" + hashlib.sha256(f"demo-{seed}-{n}".encode()).hexdigest()[:25]


def _share(
    session: Session,
    rng: random.Random,
    fronts: dict[str, _Front],
    seed: int,
    n_orders: int,
    partner_code: str,
) -> tuple[list[_Consumer], int, int, int]:
    """Consumers open share links (bound to the sharer) or a storefront directly; a few open a
    second sharer's link later and stay with the first (锁客). Answers the buyers and the counts
    of visits, share visits and bindings."""
    sharers = [f for f in fronts.values() if f.skus]
    weights = [{"shop_assistant": 4.0, "koc": 6.0, "store": 1.5, "distributor": 0.5}[f.kind] for f in sharers]
    partner = fronts[partner_code]
    links: dict[str, str] = {}

    def token(front: _Front) -> str:
        if front.id not in links:
            links[front.id] = store.create_share_link(
                ShareLinkIn(storefront_id=front.id), session=session
            ).token
        return links[front.id]

    consumers: list[_Consumer] = []
    visits = share_visits = bindings = 0
    for n in range(max(20, n_orders * 3 // 4)):
        key = _openid(seed, n)
        front = partner if n % 12 == 0 else rng.choices(sharers, weights)[0]
        if rng.random() < 0.8:
            binding = store.attribute_visit(session=session, share_token=token(front), consumer_key=key)
            share_visits += 1
            bindings += binding.created
            if rng.random() < 0.1:  # a second sharer's link: the first binding holds
                other = rng.choices(sharers, weights)[0]
                store.attribute_visit(session=session, share_token=token(other), consumer_key=key)
                share_visits += 1
        else:
            store.record_storefront_visit(front.id, session=session, consumer_key=key)
            visits += 1
        for _ in range(rng.choice((0, 0, 1, 2))):  # coming back to browse
            store.record_storefront_visit(front.id, session=session, consumer_key=key)
            visits += 1
        consumers.append(_Consumer(key, front))
    # Passers-by who looked and left.
    for n in range(len(consumers), len(consumers) + len(consumers) // 2):
        store.record_storefront_visit(
            rng.choices(sharers, weights)[0].id, session=session, consumer_key=_openid(seed, n)
        )
        visits += 1
    return consumers, visits + share_visits, share_visits, bindings


# --- orders -----------------------------------------------------------------------------------


def _order_plan(
    rng: random.Random,
    consumers: list[_Consumer],
    n_orders: int,
    start: datetime,
    end: datetime,
    partner_code: str,
) -> list[tuple[datetime, _Consumer, bool]]:
    """(when, buyer, recent) per order, oldest first: more orders lately (the stores are new),
    between 8:00 and 22:00 Beijing time; a few recent ones of the partner's storefront."""
    span = (end - start).total_seconds()
    plan: list[tuple[datetime, _Consumer, bool]] = []
    for _ in range(n_orders):
        at = start + timedelta(seconds=span * rng.random() ** 0.7)
        local_day = (at + timedelta(hours=8)).replace(hour=0, minute=0, second=0)
        at = local_day - timedelta(hours=8) + timedelta(minutes=rng.randint(8 * 60, 22 * 60 - 1))
        at = min(at, end - timedelta(minutes=30))
        plan.append((at, rng.choice(consumers), at > end - timedelta(days=OPEN_DAYS)))
    partner_buyers = [
        c for c in consumers if c.front.org_code == partner_code and c.front.kind == "distributor"
    ]
    for n in range(PARTNER_OPEN_ORDERS if partner_buyers else 0):
        at = end - timedelta(hours=6 + 9 * n, minutes=rng.randint(0, 59))
        plan.append((at, partner_buyers[n % len(partner_buyers)], True))
    plan.sort(key=lambda p: p[0])
    return plan


def _far_divisions(partner: DemoOrganization, stocked: list[DemoOrganization]) -> list[geo.Division]:
    """Districts of the partner's sales regions beyond every stocked store's reach."""
    out: list[geo.Division] = []
    for region in partner.sales_regions:
        for division in _leaves(region):
            if all(
                geo.distance_km(division.lng, division.lat, s.lng, s.lat) > SERVICE_KM + 1 for s in stocked
            ):
                out.append(division)
    return out


def _leaves(region: str) -> list[geo.Division]:
    kids = geo.children(region)
    if not kids:
        division = geo.get_division(region)
        return [division] if division else []
    return [leaf for kid in kids for leaf in _leaves(kid.code)]


def _address(
    rng: random.Random, front: _Front, orgs: dict[str, DemoOrganization], far: dict[str, list[geo.Division]]
) -> AddressIn:
    org = orgs[front.org_code]
    beyond = far.get(front.org_code, []) if front.kind == "distributor" else []
    if beyond:
        division = beyond[rng.randrange(len(beyond))]
        lng, lat, code = division.lng, division.lat, division.code
    else:  # near the store (within about a kilometre)
        lng, lat, code = org.lng + rng.gauss(0, 0.006), org.lat + rng.gauss(0, 0.006), org.division_code
    return AddressIn(
        name=rng.choice("王李张刘陈杨黄赵吴周") + rng.choice(("先生", "女士")),
        phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
        division_code=code,
        line=f"{rng.choice(('人民路', '中山路', '建设路', '和平路'))}{rng.randint(1, 399)}号",
        lng=round(lng, 6),
        lat=round(lat, 6),
    )


def _coupon(rng: random.Random, consumer: _Consumer, subtotal: int) -> str | None:
    draw = rng.random()
    if draw < 0.08 and not consumer.new_coupon_used:
        consumer.new_coupon_used = True
        return COUPON_NEW
    if draw < 0.16 and subtotal >= THRESHOLD_MIN_FEN:
        return COUPON_THRESHOLD
    if draw < 0.2:
        return COUPON_PERCENT
    return None


def _pay(session: Session, simulator: store.SimulatorProvider, order: OrderOut, at: datetime) -> OrderOut:
    """Pay through the simulator as the H5 page does: open the payment, verify its signed notice,
    apply it (the demo dates the payment at the planned time)."""
    payment = store.start_payment(order.id, session=session, provider=simulator, now=at)
    headers, body = simulator.notification(payment.out_trade_no, payment.amount_fen)
    notice = simulator.parse_notification(headers, body)
    return store.apply_payment_notice(notice.model_copy(update={"paid_at": at}), session=session)


def _one_order(
    db: Database,
    tenant_id: str,
    rng: random.Random,
    simulator: store.SimulatorProvider,
    consumer: _Consumer,
    at: datetime,
    end: datetime,
    recent: bool,
    orgs: dict[str, DemoOrganization],
    far: dict[str, list[geo.Division]],
    backup: str | None,
    tally: _Tally,
) -> None:
    """One order in one unit of work: checkout, then (mostly) payment and fulfilment."""
    front = consumer.front
    picks = rng.sample(list(front.skus), min(len(front.skus), rng.choice((1, 1, 1, 1, 2))))
    items = [CartItemIn(sku_id=s, quantity=rng.choice((1, 1, 1, 2, 2, 3))) for s in picks]
    subtotal = sum(front.skus[i.sku_id] * i.quantity for i in items)
    pickup = front.kind != "distributor" and rng.random() < 0.2
    data = CheckoutIn(
        storefront_id=front.id,
        consumer_key=consumer.key,
        items=items,
        address=_address(rng, front, orgs, far),
        fulfilment="pickup" if pickup else "delivery",
        coupon_code=_coupon(rng, consumer, subtotal),
    )
    fate = rng.random()
    try:
        with db.session(tenant_id=tenant_id) as session:
            order = store.checkout(data, session=session, now=at)
            tally.orders += 1
            if fate < 0.05:
                store.cancel_order(order.id, session=session, actor="consumer", reason="不想要了")
                tally.cancelled += 1
                return
            if fate < 0.08 and not recent:
                return  # never paid: the stock hold expires (expire_orders at the end)
            order = _pay(session, simulator, order, at + timedelta(minutes=rng.randint(1, 5)))
            _fulfil(session, rng, simulator, order, at, end, recent, fate, backup, tally)
    except BconeError as exc:
        if exc.code != "out_of_stock":
            raise
        # Nothing was written: no organisation near the buyer has the goods any more.


def _fulfil(
    session: Session,
    rng: random.Random,
    simulator: store.SimulatorProvider,
    order: OrderOut,
    at: datetime,
    end: datetime,
    recent: bool,
    fate: float,
    backup: str | None,
    tally: _Tally,
) -> None:
    if order.status == "assigned" and fate > 0.93 and backup and order.assigned_org_id != backup:
        # The store is out or closed today: the order goes to the next candidate.
        order = store.decline_order(
            order.id, session=session, org_id=order.assigned_org_id, actor=ACTOR, reason="今日暂停营业"
        )
    if order.status != "assigned" or not order.assigned_org_id:
        tally.open += 1  # paid, waiting for the brand to place it
        return
    if 0.08 <= fate < 0.11:
        store.refund_order(order.id, session=session, provider=simulator, actor=ACTOR, reason="买家申请退款")
        tally.refunded += 1
        return
    org = order.assigned_org_id
    if recent:
        stage = rng.randrange(3)  # still with the store: to accept, accepted, on its way
        if stage >= 1:
            store.accept_order(order.id, session=session, org_id=org, actor=ACTOR)
        if stage == 2:
            if order.fulfilment == "pickup":
                store.ready_order(order.id, session=session, org_id=org, actor=ACTOR)
            else:
                store.ship_order(order.id, session=session, org_id=org, actor=ACTOR)
        tally.open += 1
        return
    store.accept_order(order.id, session=session, org_id=org, actor=ACTOR)
    if order.fulfilment == "pickup":
        ready = store.ready_order(order.id, session=session, org_id=org, actor=ACTOR)
        done = min(end, at + timedelta(hours=rng.randint(2, 30)))
        store.confirm_pickup(
            order.id, str(ready.pickup_code), session=session, org_id=org, actor=ACTOR, now=done
        )
    else:
        store.ship_order(order.id, session=session, org_id=org, actor=ACTOR)
        done = min(end, at + timedelta(hours=rng.randint(20, 60)))
        store.confirm_delivery(order.id, session=session, actor="consumer", now=done)
    tally.completed += 1
    tally.completed_ids.append(order.id)


def _refund_settled(
    db: Database, tenant_id: str, rng: random.Random, simulator: store.SimulatorProvider, tally: _Tally
) -> int:
    """Refund a few completed orders whose commissions were settled: the claw-back reverses them."""
    clawed = 0
    candidates = tally.completed_ids[: len(tally.completed_ids) // 2]
    for order_id in rng.sample(candidates, min(len(candidates), max(2, len(candidates) // 40))):
        with db.session(tenant_id=tenant_id) as session:
            settled = store.list_commissions(
                PageParams(), session=session, order_id=order_id, status="settled"
            )
            if not settled.items:
                continue
            store.refund_order(
                order_id, session=session, provider=simulator, actor=ACTOR, reason="商品破损，退款"
            )
            clawed += settled.total
        tally.refunded += 1
        tally.completed -= 1
    return clawed
