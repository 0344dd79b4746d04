"""The reward decision on real scans, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bcone.core.db import Database
from bcone.core.events import outbox
from bcone.core.pagination import PageParams
from bcone.iam.schemas import TenantOut
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountKind, AccountSpec, Unit
from bcone.network.schemas import OrganizationOut
from bcone.promotions import service
from bcone.promotions.errors import CampaignStateConflict, InvalidCampaign
from bcone.promotions.models import Reward, RewardAttempt
from bcone.promotions.schemas import BlockIn, CampaignIn, CampaignUpdate, PrizeTier
from tests.codes.conftest import MakeBatch
from tests.promotions.conftest import RED_PACKET, FirstUrls, MakeCampaign, Scan, reward_of


@pytest.fixture
def urls(make_batch: MakeBatch, first_urls: FirstUrls) -> list[str]:
    return list(first_urls(make_batch(), 60))


def _balance(
    db: Database, tenant: TenantOut, kind: AccountKind, owner_type: str, owner_id: str, unit: Unit = "fen"
) -> int:
    with db.session(tenant_id=tenant.id, write=False) as s:
        account = ledger.find_account(
            AccountSpec(kind=kind, unit=unit, owner_type=owner_type, owner_id=owner_id),
            session=s,
        )
        return account.balance if account else 0


def _outcomes(db: Database, tenant: TenantOut) -> Counter[str]:
    with db.session(tenant_id=tenant.id, write=False) as s:
        return Counter(s.scalars(select(RewardAttempt.outcome)).all())


def test_activation_funds_the_budget_once(
    db: Database, tenant: TenantOut, make_campaign: MakeCampaign
) -> None:
    campaign = make_campaign(budget_fen=5000, budget_points=300)
    assert _balance(db, tenant, "campaign_budget", "campaign", campaign.id) == 5000
    assert _balance(db, tenant, "campaign_budget", "campaign", campaign.id, "points") == 300
    with db.session(tenant_id=tenant.id) as s:
        service.change_status(campaign.id, "pause", session=s)
        service.change_status(campaign.id, "activate", session=s)
        service.update_campaign(campaign.id, CampaignUpdate(budget_fen=8000), session=s)
    assert _balance(db, tenant, "campaign_budget", "campaign", campaign.id) == 8000
    with db.session(tenant_id=tenant.id) as s, pytest.raises(InvalidCampaign) as info:
        service.update_campaign(campaign.id, CampaignUpdate(budget_fen=100), session=s)
    assert info.value.field == "budget_fen"
    with db.session(tenant_id=tenant.id) as s:
        service.change_status(campaign.id, "end", session=s)
        with pytest.raises(CampaignStateConflict):
            service.change_status(campaign.id, "activate", session=s)


def test_probabilities_over_one_are_refused_naming_prizes(db: Database, tenant: TenantOut) -> None:
    data = CampaignIn(
        name="Too lucky",
        prizes=[
            PrizeTier(kind="red_packet", probability=0.6, amount_fen=100),
            PrizeTier(kind="points", probability=0.5, points=10),
        ],
    )
    with db.session(tenant_id=tenant.id) as s, pytest.raises(InvalidCampaign) as info:
        service.create_campaign(data, session=s)
    assert info.value.field == "prizes"
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert service.list_campaigns(PageParams(), session=s).total == 0


def test_genuine_scan_pays_once_and_records_every_decision(
    db: Database, tenant: TenantOut, make_campaign: MakeCampaign, urls: list[str], scan: Scan
) -> None:
    campaign = make_campaign(budget_fen=1000)
    reward = reward_of(scan(urls[0], openid="oA1"))
    assert reward["granted"] is True
    assert reward["outcome"] == "granted"
    assert reward["kind"] == "red_packet"
    assert reward["amount_fen"] == 100
    assert reward["message"] == "You won a red packet of ¥1.00!"
    again = reward_of(scan(urls[0], openid="oA2"))
    assert again["granted"] is False
    assert again["outcome"] == "already_rewarded"
    assert _balance(db, tenant, "consumer_wallet", "wechat_openid", "oA1") == 100
    assert _balance(db, tenant, "consumer_wallet", "wechat_openid", "oA2") == 0
    assert _balance(db, tenant, "campaign_budget", "campaign", campaign.id) == 900
    gtin = urls[0].split("/")[4]
    assert scan(f"https://x/01/{gtin}/21/0AAAAAAAAAAAAAAAAAAA") == {}  # forged: nothing shown
    assert _outcomes(db, tenant) == Counter({"granted": 1, "already_rewarded": 1, "not_genuine": 1})
    with db.session(tenant_id=tenant.id, write=False) as s:
        events = s.execute(select(outbox).where(outbox.c.type == "reward.granted")).mappings().all()
        assert len(events) == 1
        assert events[0]["amount"] == 100
        tx = ledger.find_transaction(f"scan-reward:{urls[0].split('/')[6].split('?')[0]}", session=s)
        assert tx is not None
        assert tx.kind == "scan_reward"


def test_no_campaign_and_ineligible_codes_are_recorded(
    db: Database, tenant: TenantOut, make_campaign: MakeCampaign, urls: list[str], scan: Scan
) -> None:
    assert scan(urls[0], openid="o1") == {}
    make_campaign(gtins=["00000000000000"])
    make_campaign(name="Beijing only", regions=["110000"])
    make_campaign(name="Future", starts_at=datetime.now(UTC) + timedelta(days=1))
    assert scan(urls[1], openid="o1", region="310101") == {}
    assert _outcomes(db, tenant) == Counter({"no_campaign": 2})
    assert reward_of(scan(urls[2], region="110105", openid="o1"))["outcome"] == "granted"


def test_budget_runs_out_without_overspending(
    db: Database, tenant: TenantOut, make_campaign: MakeCampaign, urls: list[str], scan: Scan
) -> None:
    campaign = make_campaign(budget_fen=300)
    outcomes = [reward_of(scan(u, openid=f"o{i}"))["outcome"] for i, u in enumerate(urls[:5])]
    assert outcomes == ["granted"] * 3 + ["budget_exhausted"] * 2
    assert _balance(db, tenant, "campaign_budget", "campaign", campaign.id) == 0
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Reward)) == 3  # refused claims rolled back


def test_daily_consumer_rate_and_block_limits(
    db: Database, tenant: TenantOut, make_campaign: MakeCampaign, urls: list[str], scan: Scan
) -> None:
    make_campaign(daily_fen=300, per_consumer_limit=2, rate_limit_scans=4)
    assert [reward_of(scan(u, openid="oA"))["outcome"] for u in urls[:3]] == [
        "granted",
        "granted",
        "consumer_limit",
    ]
    # oA has made 3 scans in this window; the 5th is over the limit of 4.
    assert reward_of(scan(urls[3], openid="oA"))["outcome"] == "consumer_limit"
    assert reward_of(scan(urls[4], openid="oA"))["outcome"] == "rate_limited"
    assert reward_of(scan(urls[5], openid="oB"))["outcome"] == "granted"
    assert reward_of(scan(urls[6], openid="oC"))["outcome"] == "daily_limit"  # 300 fen a day
    with db.session(tenant_id=tenant.id) as s:
        service.add_block(BlockIn(kind="device", value="dev-9"), session=s)
    blocked = reward_of(scan(urls[7], openid="oD", device="dev-9"))
    assert blocked["outcome"] == "blocked"
    assert blocked["message"] == "This account cannot take part."
    assert reward_of(scan(urls[8]))["outcome"] == "no_identity"


def test_winning_needs_an_identity_but_thanks_does_not(
    db: Database, tenant: TenantOut, make_campaign: MakeCampaign, urls: list[str], scan: Scan
) -> None:
    make_campaign()
    assert reward_of(scan(urls[0]))["outcome"] == "no_identity"
    with db.session(tenant_id=tenant.id) as s:
        only = service.list_campaigns(PageParams(), session=s).items[0]
        service.set_prizes(only.id, [], session=s)
    thanks = reward_of(scan(urls[1]))
    assert thanks["outcome"] == "thanks"
    assert thanks["granted"] is True
    assert thanks["kind"] == "thanks"


def test_store_rebate_once_per_code_and_per_store_limit(
    db: Database,
    tenant: TenantOut,
    make_campaign: MakeCampaign,
    urls: list[str],
    scan: Scan,
    store: OrganizationOut,
) -> None:
    campaign = make_campaign(store_rebate_fen=20, per_store_limit=2, budget_fen=10_000)
    assert reward_of(scan(urls[0], openid="o1", store_id=store.id))["rebate_fen"] == 20
    assert reward_of(scan(urls[0], openid="o1", store_id=store.id))["outcome"] == "already_rewarded"
    assert reward_of(scan(urls[1], openid="o2", store_id=store.id))["rebate_fen"] == 20
    assert reward_of(scan(urls[2], openid="o3", store_id=store.id))["rebate_fen"] == 0  # store limit
    assert reward_of(scan(urls[3], openid="o4", store_id="not-a-store"))["rebate_fen"] == 0
    assert _balance(db, tenant, "store_wallet", "organization", store.id) == 40
    assert _balance(db, tenant, "campaign_budget", "campaign", campaign.id) == 10_000 - 4 * 100 - 40
    with db.session(tenant_id=tenant.id, write=False) as s:
        figures = service.figures(campaign.id, session=s)
    assert figures.winners == 4
    assert figures.spent_fen == 400
    assert figures.rebates_fen == 40
    assert figures.refusals == {"already_rewarded": 1}
    assert figures.budget_left_fen == 10_000 - 440
    assert sum(d.scans for d in figures.days) == 5


def test_draw_follows_the_probabilities() -> None:
    prizes = [
        PrizeTier(kind="red_packet", probability=0.25, amount_fen=100),
        PrizeTier(kind="points", probability=0.25, points=5),
    ]
    counts = Counter(
        (tier.kind if tier else "thanks") for tier in (service.draw(prizes) for _ in range(8000))
    )
    # Each share is 2000 expected with a standard deviation of about 39; 8 sigma bounds.
    assert 1690 < counts["red_packet"] < 2310
    assert 1690 < counts["points"] < 2310
    assert 3690 < counts["thanks"] < 4310
    amounts = {
        service._amounts(PrizeTier(kind="random_red_packet", probability=1, min_fen=5, max_fen=7))[1]
        for _ in range(300)
    }
    assert amounts == {5, 6, 7}


def test_random_red_packet_in_range(
    db: Database, tenant: TenantOut, make_campaign: MakeCampaign, urls: list[str], scan: Scan
) -> None:
    make_campaign(prizes=[{"kind": "random_red_packet", "probability": 1, "min_fen": 50, "max_fen": 60}])
    amounts = [int(reward_of(scan(u, openid="o"))["amount_fen"]) for u in urls[:10]]  # type: ignore[call-overload]
    assert all(50 <= a <= 60 for a in amounts)
    assert RED_PACKET["amount_fen"] == 100
