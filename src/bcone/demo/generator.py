"""A believable beverage brand, generated from a seed: same seed and scale, same brand.

The generator is pure (no database): :func:`build_demo_brand` returns plain records that
:mod:`bcone.demo.service` loads through the domains' services. Locations are real division codes
with coordinates scattered around each district's centroid; GTINs carry valid GS1 check digits.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bcone.core import geo
from bcone.core.gs1 import gtin_check_digit

BRAND_NAME = "清泉饮品"
BRAND_NAME_EN = "Qingquan Beverages"
TENANT_SLUG = "demo"
# GS1 China (690-699) company prefix for the fictitious brand; item references follow it.
GS1_COMPANY_PREFIX = "6973456"
BASE_STORES = 2_000
BASE_REPS = 50
BASE_SHOP_ASSISTANTS = 200
BASE_KOCS = 20
EVENT_DAYS = 90
# Unit codes: SKUs (by index in the catalog) with code batches, case size, scans of the campaign.
CODE_SKUS = (1, 6, 20)
CASE_SIZE = 24
CODE_CASES = 10
CODE_COMMISSIONED_CASES = 8
CODE_SCANS = 240
CODE_CONSUMERS = 120
# Store jitter around a district centroid, in degrees (~2 km): keeps stores inside small districts.
STORE_JITTER_DEG = 0.02

# (code, city/area name, sales regions, relative weight of stores)
DISTRIBUTORS: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("110000", "北京", ("110000",), 1.4),
    ("310000", "上海", ("310000",), 1.4),
    ("120000", "天津", ("120000",), 0.7),
    ("500000", "重庆", ("500000",), 0.9),
    ("440100", "广州", ("440100", "440600", "441900"), 1.3),
    ("440300", "深圳", ("440300", "441300"), 1.1),
    ("330100", "杭州", ("330000",), 1.2),
    ("320100", "南京", ("320000",), 1.3),
    ("370100", "济南", ("370000",), 1.1),
    ("410100", "郑州", ("410000",), 1.0),
    ("420100", "武汉", ("420000",), 1.0),
    ("430100", "长沙", ("430000",), 0.9),
    ("510100", "成都", ("510000",), 1.1),
    ("610100", "西安", ("610000",), 0.8),
    ("350100", "福州", ("350000",), 0.8),
    ("340100", "合肥", ("340000",), 0.8),
    ("130100", "石家庄", ("130000",), 0.8),
    ("210100", "沈阳", ("210000",), 0.7),
    ("530100", "昆明", ("530000",), 0.6),
    ("450100", "南宁", ("450000",), 0.6),
)

# (line, product, [(specification, unit, list price in fen)])
PRODUCT_LINES: tuple[tuple[str, str, tuple[tuple[str, str, int], ...]], ...] = (
    (
        "天然矿泉水",
        "清泉天然矿泉水",
        (
            ("350ml×24", "箱", 3_600),
            ("550ml×24", "箱", 4_800),
            ("1.5L×12", "箱", 4_200),
            ("5L×4", "箱", 3_200),
        ),
    ),
    ("天然矿泉水", "清泉高端雪山水", (("400ml×24", "箱", 9_600), ("750ml×12", "箱", 8_400))),
    ("茶饮料", "清泉茉莉花茶", (("500ml×15", "箱", 5_250), ("1L×12", "箱", 6_600))),
    ("茶饮料", "清泉乌龙茶", (("500ml×15", "箱", 5_250),)),
    ("茶饮料", "清泉冰红茶", (("500ml×15", "箱", 4_500), ("1L×12", "箱", 6_000))),
    ("茶饮料", "清泉无糖绿茶", (("500ml×15", "箱", 5_700),)),
    ("果汁", "清泉100%橙汁", (("300ml×12", "箱", 7_200), ("1L×6", "箱", 9_000))),
    ("果汁", "清泉苹果汁", (("450ml×15", "箱", 6_000), ("1L×6", "箱", 7_800))),
    ("果汁", "清泉芒果汁", (("450ml×15", "箱", 6_300),)),
    ("果汁", "清泉葡萄汁", (("450ml×15", "箱", 6_300),)),
    ("气泡水", "清泉白桃气泡水", (("480ml×15", "箱", 6_750), ("330ml×24", "箱", 8_400))),
    ("气泡水", "清泉青柠气泡水", (("480ml×15", "箱", 6_750),)),
    ("气泡水", "清泉荔枝气泡水", (("480ml×15", "箱", 6_750), ("330ml×24", "箱", 8_400))),
    ("气泡水", "清泉0糖可乐味气泡水", (("330ml×24", "箱", 7_200),)),
    ("功能饮料", "清泉维生素水", (("500ml×15", "箱", 7_500), ("1L×12", "箱", 9_600))),
    ("功能饮料", "清泉电解质水", (("600ml×15", "箱", 6_750), ("1L×12", "箱", 8_400))),
    ("功能饮料", "清泉能量饮料", (("250ml×24", "箱", 12_000),)),
    ("礼盒", "清泉新春礼盒", (("350ml×12", "盒", 8_800),)),
)

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红玉兰文斌飞鹏辉晨宇浩然欣怡子涵梓萱雨轩"
_STORE_STEMS = (
    "惠民",
    "阳光",
    "金鑫",
    "万家",
    "兴隆",
    "和顺",
    "顺发",
    "鑫源",
    "康乐",
    "百佳",
    "同福",
    "嘉禾",
    "佳佳",
    "福满",
    "盛源",
    "乐购",
    "邻里",
    "晨光",
    "新一佳",
    "平安",
)
_STORE_KINDS = ("便利店", "超市", "烟酒店", "副食店", "餐馆", "小卖部", "批发部")
# Where consumers pay: mostly in store, the rest on the platforms (weights by repetition).
_CHANNELS = ("offline", "offline", "offline", "wechat", "tmall", "jd", "douyin")
_ROADS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "文化路",
    "胜利路",
    "长江路",
    "黄河路",
    "朝阳路",
    "青年路",
    "滨江路",
    "府前街",
    "东风路",
)


@dataclass(frozen=True)
class DemoSku:
    line: str
    product_name: str
    sku_code: str
    gtin: str
    name: str
    specification: str
    unit: str
    list_price_fen: int


@dataclass(frozen=True)
class DemoOrganization:
    code: str
    kind: str  # distributor | wholesaler | store
    name: str
    parent_code: str | None
    division_code: str
    address: str
    lng: float
    lat: float
    sales_regions: tuple[str, ...]
    contact_name: str
    contact_phone: str


@dataclass(frozen=True)
class DemoStaff:
    kind: str  # sales_rep | shop_assistant | koc
    name: str
    phone: str
    employee_code: str
    org_code: str | None


@dataclass(frozen=True)
class DemoEvent:
    type: str
    ts: datetime
    org_code: str | None
    sku_code: str | None
    region: str | None
    amount_fen: int | None
    profile_key: str | None
    properties: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoCodeBatch:
    """Unit codes of one SKU (``cases × CASE_SIZE`` printed) and the case codes they are packed in."""

    sku_code: str
    gtin: str
    lot: str
    production_date: date
    expiry_date: date
    cases: int  # printed case codes; units printed: cases × CASE_SIZE
    commissioned_cases: int  # the first ones are commissioned, filled with units and packed
    regions: tuple[str, ...]  # planned sales regions: those of the distributors it ships to


@dataclass(frozen=True)
class DemoShipment:
    """Cases of a batch shipped to a distributor (and received); some forwarded to one of its stores."""

    batch: int
    cases: tuple[int, ...]
    distributor_code: str
    store_code: str | None  # the first case goes on to this store, which opens it
    forwarded: tuple[int, ...] = ()


@dataclass(frozen=True)
class DemoScan:
    """A consumer scan of a unit (``batch``, index within the batch), development identity."""

    batch: int
    unit: int
    openid: str
    device: str
    lat: float | None
    lng: float | None
    region: str | None
    store_code: str | None
    out_of_region: bool


@dataclass(frozen=True)
class DemoCodes:
    batches: tuple[DemoCodeBatch, ...]
    shipments: tuple[DemoShipment, ...]
    scans: tuple[DemoScan, ...]


@dataclass
class DemoBrand:
    seed: int
    scale: float
    slug: str
    name: str
    skus: list[DemoSku]
    organizations: list[DemoOrganization]
    staff: list[DemoStaff]
    events: list[DemoEvent]
    codes: DemoCodes = field(default_factory=lambda: DemoCodes((), (), ()))


def build_demo_brand(*, seed: int = 2026, scale: float = 1.0, today: date | None = None) -> DemoBrand:
    """Generate the whole demo brand; deterministic for a given seed, scale and ``today``."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    rng = random.Random(seed)
    skus = _skus()
    organizations = _organizations(rng, scale)
    staff = _staff(rng, scale, organizations)
    day = today or datetime.now(UTC).date()
    events = _events(rng, scale, organizations, skus, day)
    # Codes and scans draw from their own stream, so adding them left the rest of the brand as it was.
    codes = _codes(random.Random(f"{seed}-codes"), organizations, skus, day)
    return DemoBrand(seed, scale, TENANT_SLUG, BRAND_NAME, skus, organizations, staff, events, codes)


def _skus() -> list[DemoSku]:
    out: list[DemoSku] = []
    item = 10_000
    for line, product, variants in PRODUCT_LINES:
        for spec, unit, price in variants:
            item += 7
            body = f"{GS1_COMPANY_PREFIX}{item:05d}"
            out.append(
                DemoSku(
                    line,
                    product,
                    f"QQ-{item}",
                    body + str(gtin_check_digit(body)),
                    f"{product} {spec}",
                    spec,
                    unit,
                    price,
                )
            )
    return out


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('35789')}{rng.randrange(10**9):09d}"


def _address(rng: random.Random, division: geo.Division) -> str:
    names = [d.name for d in geo.ancestors(division.code)] + [division.name]
    return "".join(dict.fromkeys(names)) + f"{rng.choice(_ROADS)}{rng.randint(1, 999)}号"


def _leaf_divisions(region: str) -> list[geo.Division]:
    """The districts inside ``region`` (the region itself when it has none, e.g. 东莞)."""
    kids = geo.children(region)
    if not kids:
        division = geo.get_division(region)
        return [division] if division else []
    out: list[geo.Division] = []
    for kid in kids:
        out.extend(_leaf_divisions(kid.code))
    return out


def _jitter(rng: random.Random, division: geo.Division) -> tuple[float, float]:
    return (
        round(division.lng + rng.gauss(0, STORE_JITTER_DEG), 6),
        round(division.lat + rng.gauss(0, STORE_JITTER_DEG), 6),
    )


def _organizations(rng: random.Random, scale: float) -> list[DemoOrganization]:
    out: list[DemoOrganization] = []
    total_weight = sum(w for *_, w in DISTRIBUTORS)
    stores_total = max(1, round(BASE_STORES * scale))
    store_no = 0
    for index, (home, city, regions, weight) in enumerate(DISTRIBUTORS, start=1):
        home_div = geo.get_division(home)
        assert home_div is not None, home
        seat = home_div if home_div.level != "province" else _leaf_divisions(home)[0]
        lng, lat = _jitter(rng, seat)
        code = f"D{index:03d}"
        out.append(
            DemoOrganization(
                code,
                "distributor",
                f"{city}清泉饮品经销有限公司",
                None,
                seat.code,
                _address(rng, seat),
                lng,
                lat,
                regions,
                _person(rng),
                _phone(rng),
            )
        )
        leaves = [d for region in regions for d in _leaf_divisions(region)]
        wholesalers: list[str] = []
        for w in range(1, 3 + (weight > 1.0)):
            place = rng.choice(leaves)
            wcode = f"{code}-W{w}"
            wholesalers.append(wcode)
            wlng, wlat = _jitter(rng, place)
            out.append(
                DemoOrganization(
                    wcode,
                    "wholesaler",
                    f"{place.short_name}{rng.choice(_STORE_STEMS)}商贸批发",
                    code,
                    place.code,
                    _address(rng, place),
                    wlng,
                    wlat,
                    (place.code,),
                    _person(rng),
                    _phone(rng),
                )
            )
        # Stores cluster in the first (urban) districts of each region: a power-law pick.
        share = math.floor(stores_total * weight / total_weight) if index < len(DISTRIBUTORS) else None
        count = share if share is not None else stores_total - store_no
        for _ in range(count):
            store_no += 1
            place = leaves[min(len(leaves) - 1, int(len(leaves) * rng.random() ** 2.2))]
            parent = code if rng.random() < 0.6 else rng.choice(wholesalers)
            slng, slat = _jitter(rng, place)
            name = f"{rng.choice(_STORE_STEMS)}{rng.choice(_STORE_KINDS)}（{place.short_name}{store_no}号店）"
            out.append(
                DemoOrganization(
                    f"S{store_no:05d}",
                    "store",
                    name,
                    parent,
                    place.code,
                    _address(rng, place),
                    slng,
                    slat,
                    (),
                    _person(rng),
                    _phone(rng),
                )
            )
    return out


def _staff(rng: random.Random, scale: float, orgs: list[DemoOrganization]) -> list[DemoStaff]:
    distributors = [o.code for o in orgs if o.kind == "distributor"]
    stores = [o.code for o in orgs if o.kind == "store"]
    out: list[DemoStaff] = []
    for n in range(max(1, round(BASE_REPS * scale))):
        out.append(
            DemoStaff(
                "sales_rep", _person(rng), _phone(rng), f"R{n + 1:04d}", distributors[n % len(distributors)]
            )
        )
    for n in range(max(1, round(BASE_SHOP_ASSISTANTS * scale))):
        out.append(
            DemoStaff("shop_assistant", _person(rng), _phone(rng), f"A{n + 1:05d}", rng.choice(stores))
        )
    for n in range(max(1, round(BASE_KOCS * scale))):
        out.append(DemoStaff("koc", _person(rng), _phone(rng), f"K{n + 1:04d}", rng.choice(stores)))
    return out


def _events(
    rng: random.Random, scale: float, orgs: list[DemoOrganization], skus: list[DemoSku], today: date
) -> list[DemoEvent]:
    """Orders, scans and rep visits over the last ``EVENT_DAYS`` days, with weekends and growth."""
    stores = [o for o in orgs if o.kind == "store"]
    consumers = max(100, round(20_000 * scale))
    out: list[DemoEvent] = []
    start = today - timedelta(days=EVENT_DAYS - 1)
    for offset in range(EVENT_DAYS):
        day = start + timedelta(days=offset)
        weekend = 1.35 if day.weekday() >= 5 else 1.0
        growth = 1.0 + 0.5 * offset / EVENT_DAYS
        orders = max(0, round(len(stores) * 0.08 * weekend * growth * rng.uniform(0.85, 1.15)))
        for _ in range(orders):
            store = rng.choice(stores)
            sku = rng.choice(skus)
            qty = rng.choice((1, 1, 1, 2, 3))
            ts = datetime(day.year, day.month, day.day, rng.randint(8, 21), rng.randrange(60), tzinfo=UTC)
            consumer = f"c{int(consumers * rng.random() ** 1.6):07d}"
            out.append(
                DemoEvent(
                    "order.paid",
                    ts,
                    store.code,
                    sku.sku_code,
                    store.division_code,
                    sku.list_price_fen * qty // 20,
                    consumer,
                    {"channel": rng.choice(_CHANNELS)},
                )
            )
            if rng.random() < 0.55:
                out.append(
                    DemoEvent(
                        "code.scanned",
                        ts + timedelta(minutes=rng.randint(5, 600)),
                        store.code,
                        sku.sku_code,
                        store.division_code,
                        None,
                        consumer,
                        {},
                    )
                )
        for _ in range(round(len(stores) * 0.02 * (0.3 if day.weekday() == 6 else 1.0))):
            store = rng.choice(stores)
            ts = datetime(day.year, day.month, day.day, rng.randint(9, 17), rng.randrange(60), tzinfo=UTC)
            out.append(DemoEvent("store.visited", ts, store.code, None, store.division_code, None, None, {}))
    return out


def _store_distributors(orgs: list[DemoOrganization]) -> dict[str, str]:
    parent = {o.code: o.parent_code for o in orgs}
    out: dict[str, str] = {}
    for o in orgs:
        if o.kind == "store":
            up = o.parent_code or ""
            out[o.code] = up if parent.get(up) is None else str(parent[up])
    return out


def _codes(rng: random.Random, orgs: list[DemoOrganization], skus: list[DemoSku], today: date) -> DemoCodes:
    """Code batches of a few SKUs, their packing and shipping, and a few hundred consumer scans.

    Most scans are located (by coordinates or by district) inside the sales regions of the
    distributor the unit was shipped to; about one in twenty has coordinates far outside them (a
    diverted unit, 窜货); about a third carry no location.
    """
    distributors = [o for o in orgs if o.kind == "distributor"]
    by_code = {o.code: o for o in orgs}
    stores_of: dict[str, list[str]] = {}
    for shop, distributor in sorted(_store_distributors(orgs).items()):
        stores_of.setdefault(distributor, []).append(shop)
    batches: list[DemoCodeBatch] = []
    shipments: list[DemoShipment] = []
    for b, index in enumerate(CODE_SKUS):
        sku = skus[index % len(skus)]
        produced = today - timedelta(days=rng.randint(20, 60))
        targets = rng.sample(distributors, 3)
        regions = tuple(dict.fromkeys(r for d in targets for r in d.sales_regions))
        batches.append(
            DemoCodeBatch(
                sku.sku_code,
                sku.gtin,
                f"L{produced:%y%m%d}{b + 1}",
                produced,
                produced + timedelta(days=365),
                CODE_CASES,
                CODE_COMMISSIONED_CASES,
                regions,
            )
        )
        split = (0, 3, 6, CODE_COMMISSIONED_CASES)
        for t, target in enumerate(targets):
            cases = tuple(range(split[t], split[t + 1]))
            stores = stores_of.get(target.code, [])
            outlet = rng.choice(stores) if stores else None
            shipments.append(DemoShipment(b, cases, target.code, outlet, cases[:1] if outlet else ()))
    leaves = {d.code: [x for r in d.sales_regions for x in _leaf_divisions(r)] for d in distributors}
    scans: list[DemoScan] = []
    scanned: list[tuple[int, int, str | None, str]] = []
    store: str | None
    dist: str
    for n in range(CODE_SCANS):
        if scanned and rng.random() < 0.12:
            b, unit, store, dist = rng.choice(scanned)  # the same unit scanned again
        else:
            ship = rng.choice(shipments)
            case = rng.choice(ship.cases)
            unit = case * CASE_SIZE + rng.randrange(CASE_SIZE)
            b, dist = ship.batch, ship.distributor_code
            store = ship.store_code if case in ship.forwarded else None
            scanned.append((b, unit, store, dist))
        consumer = int(CODE_CONSUMERS * rng.random() ** 1.5)
        roll = rng.random()
        lat: float | None = None
        lng: float | None = None
        region: str | None = None
        far = roll < 0.06
        if far:
            home = geo.province_of(by_code[dist].division_code)
            away = [d for d in distributors if geo.province_of(d.division_code) != home]
            place = rng.choice(leaves[rng.choice(away).code])
            lng, lat = _jitter(rng, place)
        elif roll < 0.25:  # the phone's coordinates (turned into the nearest district by the scan)
            lng, lat = _jitter(rng, rng.choice(leaves[dist]))
        elif roll < 0.7:  # the district only
            region = rng.choice(leaves[dist]).code
        scans.append(
            DemoScan(
                b,
                unit,
                f"dev-openid-{consumer:04d}",
                f"dev-device-{consumer:04d}" if rng.random() < 0.9 else f"dev-device-x{n:04d}",
                lat,
                lng,
                region,
                store,
                far,
            )
        )
    return DemoCodes(tuple(batches), tuple(shipments), tuple(scans))
