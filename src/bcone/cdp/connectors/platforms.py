"""Column mappings of the platforms' order and customer exports, and the parser that applies them.

Each platform's export has its own Chinese headers (documented per platform in
docs/connectors.md). :func:`parse_file` reads a CSV export (UTF-8 or GBK, comma or tab), maps the
headers it knows, and turns every row into a :class:`ParsedRow`: the order (or customer) with its
identifiers still raw, or a :class:`RowProblem` naming the row and the column. Rows of orders that
were never paid (cancelled, awaiting payment, refunds) are counted as skipped, not as errors.

Nothing here touches a database or a key: the caller hashes phones with the tenant's key
(:mod:`bcone.cdp._connect`) or masks them for display (:func:`bcone.cdp.service.parse_platform_orders`).
Names of recipients and street addresses are read only to find the division code, never kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo

from bcone.cdp.connectors.address import parse_region
from bcone.cdp.errors import UnknownPlatform
from bcone.cdp.identifiers import mask_phone, normalise_phone
from bcone.core.imports import decode_text

CHINA = ZoneInfo("Asia/Shanghai")
Kind = Literal["orders", "customers"]
PLATFORMS = ("tmall", "jd", "douyin", "wechat", "youzan", "pos")
CHANNELS: dict[str, str] = {
    "tmall": "tmall",
    "jd": "jd",
    "douyin": "douyin",
    "wechat": "wechat",
    "youzan": "other",
    "pos": "store",
}
PLATFORM_LABELS: dict[str, tuple[str, str]] = {
    "tmall": ("天猫 / 淘宝", "Tmall / Taobao"),
    "jd": ("京东", "JD"),
    "douyin": ("抖店", "Douyin shop"),
    "wechat": ("微信小程序 / 微信支付", "WeChat mini-program / WeChat Pay"),
    "youzan": ("有赞", "Youzan"),
    "pos": ("门店 POS", "Store POS"),
}
# Order statuses that mean "not paid" (or paid back): such rows are skipped.
UNPAID_STATUSES = frozenset(
    {
        "等待买家付款",
        "交易关闭",
        "已取消",
        "订单取消",
        "待付款",
        "未付款",
        "已关闭",
        "交易失败",
        "已退款",
        "退款成功",
        "REFUND",
        "REVOKED",
        "CLOSED",
        "NOTPAY",
        "作废",
    }
)
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class ExportMapping:
    """One platform export: ``columns`` maps a field to the headers that may carry it."""

    platform: str
    kind: Kind
    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]


def _m(platform: str, kind: Kind, required: tuple[str, ...], **columns: tuple[str, ...]) -> ExportMapping:
    return ExportMapping(platform, kind, columns, required)


# Fields: order_id, line_id, status, buyer (the platform's buyer id), phone, amount, paid_at,
# created_at, address (free text) or province/city/district, sku, quantity, store_code,
# appid + openid (WeChat), open_platform + unionid.
MAPPINGS: dict[tuple[str, Kind], ExportMapping] = {
    (m.platform, m.kind): m
    for m in (
        _m(
            "tmall",
            "orders",
            ("order_id", "amount", "paid_at"),
            order_id=("订单编号",),
            buyer=("买家会员名", "买家昵称"),
            amount=("买家实际支付金额", "实付金额", "买家应付货款"),
            status=("订单状态",),
            address=("收货地址",),
            phone=("联系手机", "收货人手机号"),
            created_at=("订单创建时间",),
            paid_at=("订单付款时间", "付款时间"),
            sku=("商家编码", "宝贝商家编码"),
            quantity=("宝贝总数量", "宝贝数量"),
        ),
        _m(
            "tmall",
            "customers",
            ("buyer",),
            buyer=("买家会员名", "客户昵称"),
            phone=("手机号", "手机号码"),
            address=("所在地区", "地区"),
            created_at=("首次购买时间", "入会时间"),
        ),
        _m(
            "jd",
            "orders",
            ("order_id", "amount", "paid_at"),
            order_id=("订单号",),
            buyer=("下单帐号", "下单账号"),
            address=("客户地址",),
            phone=("联系电话",),
            amount=("应付金额", "订单金额"),
            status=("订单状态",),
            created_at=("下单时间",),
            paid_at=("付款确认时间", "付款时间"),
            sku=("商品ID", "商品编号"),
            quantity=("订购数量", "商品数量"),
        ),
        _m(
            "jd",
            "customers",
            ("buyer",),
            buyer=("用户账号", "会员账号", "下单帐号"),
            phone=("手机号",),
            address=("所在地区",),
            created_at=("注册时间", "开卡时间"),
        ),
        _m(
            "douyin",
            "orders",
            ("order_id", "amount", "paid_at"),
            order_id=("主订单编号",),
            line_id=("子订单编号",),
            sku=("商品ID",),
            quantity=("商品数量",),
            amount=("订单应付金额", "实付金额"),
            phone=("收件人手机号",),
            province=("省",),
            city=("市",),
            district=("区",),
            created_at=("订单提交时间",),
            paid_at=("支付完成时间",),
            status=("订单状态",),
        ),
        _m(
            "douyin",
            "customers",
            ("openid", "appid"),
            openid=("用户OpenID", "openid"),
            appid=("应用ID", "AppID"),
            phone=("手机号",),
            address=("地区",),
            created_at=("入会时间",),
        ),
        _m(
            "wechat",
            "orders",
            ("order_id", "amount", "paid_at", "openid", "appid"),
            paid_at=("交易时间",),
            appid=("公众账号ID", "小程序AppID"),
            order_id=("商户订单号",),
            line_id=("微信订单号",),
            openid=("用户标识", "openid"),
            status=("交易状态",),
            amount=("应结订单金额", "订单金额"),
            sku=("商品名称",),
        ),
        _m(
            "wechat",
            "customers",
            ("openid", "appid"),
            appid=("小程序AppID", "公众账号ID"),
            openid=("openid", "用户标识"),
            open_platform=("开放平台账号",),
            unionid=("unionid",),
            phone=("手机号",),
            created_at=("注册时间",),
        ),
        _m(
            "youzan",
            "orders",
            ("order_id", "amount", "paid_at"),
            order_id=("订单号",),
            status=("订单状态",),
            phone=("买家手机号", "收货人手机号/提货人手机号", "收货人手机号"),
            province=("收货人省份",),
            city=("收货人城市",),
            district=("收货人地区",),
            amount=("订单实付金额", "实付金额"),
            created_at=("订单创建时间",),
            paid_at=("买家付款时间",),
            sku=("商品编码", "规格编码"),
            quantity=("商品数量",),
        ),
        _m(
            "youzan",
            "customers",
            ("phone",),
            phone=("客户手机号", "手机号"),
            address=("所在地区",),
            created_at=("成为客户时间",),
        ),
        _m(
            "pos",
            "orders",
            ("order_id", "amount", "paid_at", "store_code"),
            order_id=("小票号", "单据号"),
            store_code=("门店编码",),
            phone=("会员手机号",),
            paid_at=("交易时间",),
            amount=("实收金额",),
            sku=("商品条码", "商品编码"),
            quantity=("数量",),
            status=("状态",),
        ),
        _m(
            "pos",
            "customers",
            ("phone",),
            phone=("手机号", "会员手机号"),
            store_code=("开卡门店",),
            created_at=("开卡时间",),
        ),
    )
}


@dataclass(frozen=True)
class RowProblem:
    row: int  # the line of the file (the header is line 1)
    column: str | None  # the header as written in the file
    message: str


@dataclass
class ParsedRow:
    """One order (or customer) of an export, identifiers still raw (phones normalised)."""

    row: int
    platform: str
    kind: Kind
    order_id: str | None = None
    line_id: str | None = None
    status: str | None = None
    paid_at: datetime | None = None
    amount_fen: int | None = None
    sku: str | None = None
    quantity: int | None = None
    region: str | None = None
    store_code: str | None = None
    phone: str | None = None  # 11 digits; never leaves this package unhashed and unmasked
    identities: list[tuple[str, str]] = field(default_factory=list)  # non-phone (namespace, value)

    @property
    def phone_masked(self) -> str | None:
        return mask_phone(self.phone) if self.phone else None


@dataclass
class ParsedFile:
    rows: list[ParsedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    skipped: int = 0  # unpaid, cancelled or refunded orders
    lines: int = 0


def mapping_for(platform: str, kind: Kind = "orders") -> ExportMapping:
    try:
        return MAPPINGS[(platform, kind)]
    except KeyError:
        raise UnknownPlatform(
            f"unknown platform {platform!r} or kind {kind!r} (platforms: {', '.join(PLATFORMS)}; "
            "kinds: orders, customers)",
            field="platform",
        ) from None


def _clean(cell: str) -> str:
    # WeChat Pay bills prefix every cell with a backtick so Excel keeps long numbers as text.
    return cell.strip().lstrip("`").strip()


_TS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d")
_MONEY = re.compile(r"^\d+(\.\d{1,2})?$")


def parse_time(text: str) -> datetime:
    """Export times are China Standard Time without a zone; ISO times with a zone are kept."""
    text = text.strip()
    for fmt in _TS_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=CHINA)
        except ValueError:
            continue
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (expected 2026-11-20 10:00:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=CHINA)


def parse_money(text: str) -> int:
    """``¥1,299.50`` -> 129950 fen (exact, no float)."""
    cleaned = text.replace("¥", "").replace("￥", "").replace(",", "").replace("元", "").strip()
    if not _MONEY.match(cleaned):
        raise ValueError(f"not an amount in yuan: {text!r}")
    try:
        return int(Decimal(cleaned) * 100)
    except InvalidOperation:
        raise ValueError(f"not an amount in yuan: {text!r}") from None


def _rows(data: bytes) -> Iterator[list[str]]:
    text = decode_text(data, "export")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def parse_file(data: bytes, platform: str, kind: Kind = "orders") -> ParsedFile:
    """Every row of a platform export, mapped; bad rows as :class:`RowProblem` (row and column)."""
    mapping = mapping_for(platform, kind)
    out = ParsedFile()
    reader = _rows(data)
    header = next(reader, None)
    if header is None:
        out.problems.append(RowProblem(1, None, "the file is empty"))
        return out
    header = [_clean(h) for h in header]
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    for key, names in mapping.columns.items():
        for name in names:
            if name in header:
                index[key] = header.index(name)
                written[key] = name
                break
    missing = [mapping.columns[k][0] for k in mapping.required if k not in index]
    if missing:
        out.problems.append(
            RowProblem(1, missing[0], f"missing column {'、'.join(missing)} for a {platform} {kind} export")
        )
        return out
    seen_orders: dict[str, ParsedRow] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        out.lines += 1
        values = {k: _clean(cells[i]) if i < len(cells) else "" for k, i in index.items()}
        parsed = _parse_row(number, platform, kind, values, written)
        if isinstance(parsed, RowProblem):
            out.problems.append(parsed)
            continue
        if parsed is None:
            out.skipped += 1
            continue
        if kind == "orders" and parsed.line_id is None and parsed.order_id in seen_orders:
            # One row per item (JD): the order is one event; quantities add up.
            first = seen_orders[parsed.order_id or ""]
            if parsed.quantity and first.quantity:
                first.quantity += parsed.quantity
            continue
        if kind == "orders" and parsed.line_id is None:
            seen_orders[parsed.order_id or ""] = parsed
        out.rows.append(parsed)
    return out


def _parse_row(
    number: int, platform: str, kind: Kind, values: dict[str, str], written: dict[str, str]
) -> ParsedRow | RowProblem | None:
    row = ParsedRow(row=number, platform=platform, kind=kind)
    for key in ("order_id", "line_id", "sku", "store_code", "status"):
        value = values.get(key) or None
        if value is not None and len(value) > 64:
            return RowProblem(number, written[key], f"longer than 64 characters: {value[:20]}…")
        setattr(row, key, value)
    if kind == "orders":
        if not row.order_id:
            return RowProblem(number, written["order_id"], "the order number is empty")
        if row.status and row.status in UNPAID_STATUSES:
            return None
    for key in ("paid_at", "created_at"):
        text = values.get(key)
        if not text:
            if key in ("paid_at",) and kind == "orders":
                if row.status is None:
                    return RowProblem(number, written[key], "the payment time is empty")
                return None  # not paid yet
            continue
        try:
            moment = parse_time(text)
        except ValueError as exc:
            return RowProblem(number, written[key], str(exc))
        if row.paid_at is None:
            row.paid_at = moment
    if values.get("amount"):
        try:
            row.amount_fen = parse_money(values["amount"])
        except ValueError as exc:
            return RowProblem(number, written["amount"], str(exc))
    elif kind == "orders":
        return RowProblem(number, written["amount"], "the amount is empty")
    if values.get("quantity"):
        q = values["quantity"]
        if not q.isdigit() or not 1 <= int(q) <= MAX_QUANTITY:
            return RowProblem(number, written["quantity"], f"not a quantity: {q!r}")
        row.quantity = int(q)
    phone = values.get("phone")
    if phone and "*" not in phone:  # a masked phone (138****1234) identifies nobody: left out
        try:
            row.phone = normalise_phone(phone)
        except ValueError as exc:
            return RowProblem(number, written["phone"], f"{phone[:3]}…: {exc}")
    address = values.get("address") or "".join(values.get(k, "") for k in ("province", "city", "district"))
    row.region = parse_region(address) if address else None
    ident = _identities(platform, values, written, number)
    if isinstance(ident, RowProblem):
        return ident
    row.identities = ident
    if kind == "customers" and not row.identities and not row.phone:
        return RowProblem(number, None, "no identifier in this row (buyer id, openid or phone)")
    return row


def _identities(
    platform: str, values: dict[str, str], written: dict[str, str], number: int
) -> list[tuple[str, str]] | RowProblem:
    out: list[tuple[str, str]] = []
    buyer = values.get("buyer")
    if buyer and "*" not in buyer:
        namespace = {"tmall": "tmall_ouid", "jd": "jd_pin"}.get(platform)
        if namespace:
            out.append((namespace, buyer))
    openid, appid = values.get("openid"), values.get("appid")
    if openid:
        if not appid:
            return RowProblem(number, written.get("appid"), "an openid needs its AppID in the same row")
        base = "douyin_openid" if platform == "douyin" else "wechat_openid"
        out.append((f"{base}:{appid}", openid))
    unionid, open_platform = values.get("unionid"), values.get("open_platform")
    if unionid:
        if not open_platform:
            return RowProblem(number, written.get("open_platform"), "a unionid needs its 开放平台账号")
        out.append((f"wechat_unionid:{open_platform}", unionid))
    return out
