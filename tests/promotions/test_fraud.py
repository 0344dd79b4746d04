"""Anti-fraud: velocity rules per campaign (refusals with their reason), cluster flags (many codes
of one case scanned by one identity far from its store), and the BC rebate to the store the unit
was shipped to (from packing and shipping, not from the URL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from bcone.codes import service as codes
from bcone.codes.schemas import BatchOut, Location
from bcone.core.db import Database
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec
from bcone.network.schemas import OrganizationOut
from bcone.promotions import service
from bcone.promotions.models import RewardAttempt
from bcone.promotions.schemas import CampaignOut, RewardOut, ScanIdentity
from tests.codes.conftest import MakeBatch
from tests.fixtures_iam import ConsoleLogin, MakeUser
from tests.promotions.conftest import FirstUrls, MakeCampaign, Scan, reward_of, split_url

NOON = datetime(2026, 6, 1, 4, 0, 30, tzinfo=UTC)  # 12:00:30 in China


def _decide(
    db: Database, secret: str, url: str, who: ScanIdentity, now: datetime, region: str | None = None
) -> RewardOut:
    gtin, serial = split_url(url)
    with db.session(write=True) as s:
        check = codes.check_code(gtin, serial, Location(region=region), session=s, secret_key=secret)
        return service.reward_scan(check, who, session=s, now=now, context={"region": region or ""})


def _reasons(db: Database, tenant: TenantOut) -> list[tuple[str, str | None]]:
    with db.session(tenant_id=tenant.id, write=False) as s:
        rows = s.execute(
            select(RewardAttempt.outcome, RewardAttempt.reason).order_by(
                RewardAttempt.created_at, RewardAttempt.id
            )
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_velocity_per_identity_minute_and_hour(
    db: Database,
    tenant: TenantOut,
    secret: str,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
) -> None:
    make_campaign(max_scans_per_minute=2, max_scans_per_hour=3)
    urls = first_urls(make_batch(), 6)
    who = ScanIdentity(openid="oFast")
    outcomes = [_decide(db, secret, u, who, NOON).outcome for u in urls[:3]]
    assert outcomes == ["granted", "granted", "rate_limited"]
    # The next minute the per-minute rule allows again, until the hour's third scan... the
    # refused scan counted too (scans, not rewards), so the hour is already at 3.
    later = NOON + timedelta(minutes=1)
    assert _decide(db, secret, urls[3], who, later).outcome == "rate_limited"
    # Another identity is not affected.
    assert _decide(db, secret, urls[4], ScanIdentity(openid="oSlow"), later).outcome == "granted"
    assert _reasons(db, tenant) == [
        ("granted", None),
        ("granted", None),
        ("rate_limited", "identity_per_minute>2"),
        ("rate_limited", "identity_per_hour>3"),
        ("granted", None),
    ]


def test_distinct_codes_per_device_and_day(
    db: Database,
    tenant: TenantOut,
    secret: str,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
) -> None:
    make_campaign(max_codes_per_device_day=2)
    urls = first_urls(make_batch(), 5)

    def scan(url: str, openid: str, now: datetime = NOON) -> str:
        return _decide(db, secret, url, ScanIdentity(openid=openid, device="dev-1"), now).outcome

    assert scan(urls[0], "a") == "granted"
    assert scan(urls[0], "b") == "already_rewarded"  # the same code again: not a new code
    assert scan(urls[1], "c") == "granted"
    assert scan(urls[2], "d") == "rate_limited"  # a third distinct code on this device today
    assert scan(urls[3], "e", NOON + timedelta(days=1)) == "granted"  # a new China day
    assert ("rate_limited", "device_codes_per_day>2") in _reasons(db, tenant)


def _packed_case(
    db: Database,
    tenant: TenantOut,
    secret: str,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
    store: OrganizationOut,
) -> tuple[list[str], str]:
    """Four units packed in one case, shipped to ``store`` and received there: (unit URLs, case)."""
    units: BatchOut = make_batch(count=4)
    cases: BatchOut = make_batch(count=1, level="case")
    unit_urls = first_urls(units, 4)
    case_serial = split_url(first_urls(cases, 1)[0])[1]
    unit_serials = [split_url(u)[1] for u in unit_urls]
    with db.session(tenant_id=tenant.id) as s:
        codes.commission([*unit_serials, case_serial], session=s, secret_key=secret)
        codes.aggregate(case_serial, unit_serials, session=s, secret_key=secret)
        codes.ship([case_serial], store.id, session=s, secret_key=secret)
        codes.receive([case_serial], store.id, session=s, secret_key=secret)
    return unit_urls, case_serial


def test_cluster_flag_far_from_the_store(
    db: Database,
    tenant: TenantOut,
    secret: str,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
    store: OrganizationOut,
    scan: Scan,
) -> None:
    campaign: CampaignOut = make_campaign(cluster_min_codes=3, cluster_km=100)
    unit_urls, case_serial = _packed_case(db, tenant, secret, make_batch, first_urls, store)
    # Shanghai store; scanned in Beijing (东城区 110101) by one identity.
    for url in unit_urls[:2]:
        assert reward_of(scan(url, region="110101", openid="oFar"))["outcome"] == "granted"
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert service.list_flags(PageParams(), session=s).total == 0
    scan(unit_urls[2], region="110101", openid="oFar")
    scan(unit_urls[2], region="110101", openid="oFar")  # the same code again: not a new code
    scan(unit_urls[3], region="310101", openid="oNear")  # another identity, near the store
    with db.session(tenant_id=tenant.id, write=False) as s:
        flags = service.list_flags(PageParams(), session=s)
    assert flags.total == 1
    flag = flags.items[0]
    assert (flag.kind, flag.identity, flag.subject, flag.count) == ("cluster", "oFar", case_serial, 3)
    assert flag.store_id == store.id
    assert flag.campaign_id == campaign.id
    assert flag.distance_km is not None
    assert flag.distance_km > 1000
    assert flag.region == "110101"
    assert case_serial in flag.reason


def test_rebate_goes_to_the_store_the_unit_was_shipped_to(
    db: Database,
    tenant: TenantOut,
    secret: str,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
    store: OrganizationOut,
    scan: Scan,
) -> None:
    make_campaign(store_rebate_fen=30)
    unit_urls, _ = _packed_case(db, tenant, secret, make_batch, first_urls, store)
    answer = reward_of(scan(unit_urls[0], openid="o1"))  # no store on the URL
    assert answer["rebate_fen"] == 30
    with db.session(tenant_id=tenant.id, write=False) as s:
        spec = AccountSpec(kind="store_wallet", unit="fen", owner_type="organization", owner_id=store.id)
        account = ledger.find_account(spec, session=s)
    assert account is not None
    assert account.balance == 30


def test_console_shows_flags_and_velocity_refusals(
    db: Database,
    tenant: TenantOut,
    secret: str,
    client: TestClient,
    make_user: MakeUser,
    console_login: ConsoleLogin,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
    store: OrganizationOut,
    scan: Scan,
) -> None:
    console_login(client, make_user("owner").email)
    empty = client.get("/promotions/flags")
    assert empty.status_code == 200
    assert 'id="flags-empty"' in empty.text
    assert 'id="refused-empty"' in empty.text
    make_campaign(cluster_min_codes=2, cluster_km=50, max_scans_per_minute=3)
    unit_urls, case_serial = _packed_case(db, tenant, secret, make_batch, first_urls, store)
    for url in unit_urls:
        scan(url, region="110101", openid="oFar")
    page = client.get("/promotions/flags")
    assert 'id="flag-table"' in page.text
    assert case_serial in page.text
    assert "identity_per_minute&gt;3" in page.text
    found = client.get("/promotions/flags", params={"q": "nobody"})
    assert 'id="flags-empty"' in found.text
    form = client.get("/promotions")
    assert 'name="max_codes_per_device_day"' in form.text
    assert 'id="flags-link"' in form.text
