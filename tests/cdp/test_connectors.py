"""Platform exports: each platform's sample file parses to orders with division codes and masked
phones, bad rows are named by row and column, and ``bcone cdp connect`` joins one consumer's
orders from Tmall, JD, WeChat and a store into one profile, without storing any raw phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from bcone.cdp import service
from bcone.cdp.connectors.address import parse_region
from bcone.cdp.connectors.platforms import parse_file, parse_money, parse_time
from bcone.cdp.errors import UnknownPlatform
from bcone.cdp.models import Identifier
from bcone.cli import app
from bcone.core.db import Database
from bcone.core.settings import get_settings
from bcone.iam.schemas import TenantOut
from bcone.network import service as network
from bcone.network.schemas import OrganizationIn
from tests.cdp.helpers import SECRET

DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("浙江省 杭州市 西湖区 文三路 100 号", "330106"),
        ("北京 北京市 朝阳区 建国路 88 号", "110105"),
        ("上海上海市浦东新区张江路", "310115"),
        ("杭州市西湖区文三路", "330106"),
        ("广东深圳市南山区科技园", "440305"),
        ("四川省成都市", "510100"),
        ("新疆维吾尔自治区乌鲁木齐市天山区", "650102"),
        ("火星基地 1 号", None),
        ("", None),
    ],
)
def test_an_address_becomes_the_deepest_division_it_names(address: str, code: str | None) -> None:
    assert parse_region(address) == code


def test_money_and_times_are_read_exactly() -> None:
    assert parse_money("¥1,299.50") == 129950
    assert parse_money("19.9") == 1990
    for bad in ("九十九", "1.999", "-3", ""):
        with pytest.raises(ValueError, match="not an amount"):
            parse_money(bad)
    assert parse_time("2026-11-01 10:00:03").utcoffset() is not None
    assert parse_time("2026/11/01 10:00").hour == 10
    with pytest.raises(ValueError, match="not a time"):
        parse_time("yesterday")


EXPECTED = {
    # file: (rows, skipped, problems as (row, column))
    "tmall_orders.csv": (2, 1, [(5, "买家实际支付金额")]),
    "jd_orders.csv": (1, 1, []),
    "douyin_orders.csv": (2, 0, []),
    "wechat_orders.csv": (1, 1, []),
    "wechat_customers.csv": (2, 0, []),
    "youzan_orders.csv": (1, 0, [(3, "买家手机号")]),
    "pos_orders.csv": (3, 0, []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_platform_sample_parses(name: str) -> None:
    platform, kind = name.removesuffix(".csv").split("_")
    parsed = parse_file((DATA / name).read_bytes(), platform, kind)  # type: ignore[arg-type]
    rows, skipped, problems = EXPECTED[name]
    assert (len(parsed.rows), parsed.skipped) == (rows, skipped)
    assert [(p.row, p.column) for p in parsed.problems] == problems
    for row in parsed.rows:
        assert row.kind == kind
        if kind == "orders":
            assert row.order_id
            assert row.paid_at
            assert row.paid_at.tzinfo
            assert row.amount_fen is not None


def test_the_parsed_orders_carry_what_the_documentation_promises() -> None:
    tmall = service.parse_platform_orders("tmall", DATA / "tmall_orders.csv")
    first = tmall.rows[0]
    assert (first.order_id, first.amount_fen, first.region, first.sku, first.quantity) == (
        "3948571020394857",
        27900,
        "330106",
        "SKU-TEA-24",
        2,
    )
    assert first.phone_masked == "138****8000"
    assert first.identifiers == ["tmall_ouid:tb_lilei88"]
    assert "13800138000" not in tmall.model_dump_json()  # the raw phone never leaves the parser
    assert tmall.channel == "tmall"
    assert tmall.skipped == 1
    # JD writes one row per item: one order, the quantities added up.
    jd = service.parse_platform_orders("jd", (DATA / "jd_orders.csv").read_bytes())
    assert [(r.order_id, r.quantity, r.region) for r in jd.rows] == [("288812345601", 2, "440305")]
    # Douyin: one event per sub-order, the address from its province/city/district columns; a
    # masked phone (135****4444) is no identifier and is left out.
    douyin = service.parse_platform_orders("douyin", DATA / "douyin_orders.csv")
    assert [(r.line_id, r.region, r.phone_masked) for r in douyin.rows] == [
        ("6920000000000001-1", "110105", "139****2222"),
        ("6920000000000002-1", "320106", None),
    ]
    # WeChat Pay: backtick-quoted cells, the openid scoped by the AppID, refunds skipped.
    wechat = service.parse_platform_orders("wechat", DATA / "wechat_orders.csv")
    assert wechat.rows[0].identifiers == ["wechat_openid:wx8888mini:oWx_lilei_001"]
    assert wechat.rows[0].amount_fen == 1990
    assert wechat.skipped == 1
    with pytest.raises(UnknownPlatform):
        service.parse_platform_orders("taobao-live", b"x")


def test_a_file_without_the_required_columns_is_refused_naming_one() -> None:
    parsed = parse_file("订单号,金额\n1,2\n".encode(), "tmall")
    assert [(p.row, p.column) for p in parsed.problems] == [(1, "订单编号")]
    assert parse_file(b"", "jd").problems[0].message == "the file is empty"


def test_gbk_exports_are_read() -> None:
    text_ = (DATA / "tmall_orders.csv").read_text(encoding="utf-8")
    parsed = parse_file(text_.encode("gbk"), "tmall")
    assert len(parsed.rows) == 2
    assert parsed.rows[0].region == "330106"


# --- through the command, into the identity graph ---------------------------------------------


@pytest.fixture
def cli_env(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Database]:
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    monkeypatch.setenv("BCONE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BCONE_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def _connect(tenant: TenantOut, platform: str, name: str, kind: str = "orders") -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["cdp", "connect", platform, str(DATA / name), "--tenant", tenant.slug, "--kind", kind, "--quiet"],
    )
    return result.exit_code, result.output


def test_one_consumer_from_every_platform_becomes_one_profile(cli_env: Database, tenant: TenantOut) -> None:
    db = cli_env
    with db.session(tenant_id=tenant.id) as s:
        dist = network.create_organization(
            OrganizationIn(kind="distributor", code="D-ZJ", name="浙江经销商", division_code="330000"),
            session=s,
        )
        network.create_organization(
            OrganizationIn(
                kind="store", code="S-HZ-001", name="杭州文三路店", division_code="330106", parent_id=dist.id
            ),
            session=s,
        )
    code, out = _connect(tenant, "tmall", "tmall_orders.csv")
    assert code == 1, out
    assert "row 5, 买家实际支付金额: not an amount in yuan" in out
    assert "accepted: 2" in out
    assert "skipped (not paid): 1" in out
    assert _connect(tenant, "jd", "jd_orders.csv")[0] == 0
    assert _connect(tenant, "douyin", "douyin_orders.csv")[0] == 0
    assert _connect(tenant, "wechat", "wechat_orders.csv")[0] == 0
    assert _connect(tenant, "wechat", "wechat_customers.csv", "customers")[0] == 0
    code, out = _connect(tenant, "youzan", "youzan_orders.csv")
    assert code == 1
    assert "row 3, 买家手机号" in out
    code, out = _connect(tenant, "pos", "pos_orders.csv")
    assert code == 1
    assert "row 4, 门店编码: no store with code 'S-NOPE' [unknown_store]" in out

    with db.session(tenant_id=tenant.id, write=False) as s:
        by_profile: dict[str | None, set[str]] = {}
        for ident in s.scalars(select(Identifier)):
            by_profile.setdefault(ident.profile_id, set()).add(f"{ident.namespace}={ident.display}")
    people = sorted(by_profile.values(), key=len, reverse=True)
    assert people[0] == {
        "phone=138****8000",
        "tmall_ouid=tb_lilei88",
        "jd_pin=jd_lilei",
        "wechat_openid:wx8888mini=oWx_lilei_001",
        "wechat_unionid:openbrand1=uLilei001",
    }
    assert people[1] == {"phone=139****2222", "tmall_ouid=tb_hanmeimei"}  # Tmall, Douyin and Youzan

    with db.engine.connect() as conn:
        rows = list(
            conn.execute(text("SELECT event_id, type, org_id, region, amount, properties FROM outbox"))
        )
        dump = "\n".join(str(tuple(r)) for r in rows)
    assert "13800138000" not in dump
    assert "13911112222" not in dump
    by_id = {r[0]: r for r in rows}
    assert by_id["tmall:3948571020394857"][3:5] == ("330106", 27900)
    assert '"channel":"tmall"' in by_id["tmall:3948571020394857"][5].replace(" ", "")
    assert by_id["pos:POS-0001"][3] == "330106"
    assert by_id["pos:POS-0001"][2] is not None
    assert '"channel":"other"' in by_id["youzan:E20261110000001"][5].replace(" ", "")
    assert sum(1 for r in rows if r[1] == "profile.identified") == 2
    n = len(rows)
    # Importing the same files again changes nothing.
    _connect(tenant, "tmall", "tmall_orders.csv")
    _connect(tenant, "wechat", "wechat_customers.csv", "customers")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM outbox")).scalar_one() == n


def test_connect_refuses_an_unknown_platform_or_file(cli_env: Database, tenant: TenantOut) -> None:
    assert _connect(tenant, "kuaishou", "tmall_orders.csv")[0] == 2
    assert _connect(tenant, "tmall", "missing.csv")[0] == 2
