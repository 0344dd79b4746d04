"""Concurrent scans against the real database (SQLite and PostgreSQL), one session per scan.

One code scanned 200 times at once gets exactly one reward (the unique claim on the code); many
codes racing for the last of a budget never overspend it (the ledger's floor), and every loser's
claim is rolled back with its reason recorded.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import func, select

from bcone.core.db import Database
from bcone.iam.schemas import TenantOut
from bcone.ledger import service as ledger
from bcone.ledger.schemas import AccountSpec
from bcone.promotions.models import Reward, RewardAttempt
from tests.codes.conftest import MakeBatch
from tests.promotions.conftest import FirstUrls, MakeCampaign, Scan, reward_of

T = TypeVar("T")
THREADS = 20


def _together(n: int, work: Callable[[int], T], threads: int = THREADS) -> list[T]:
    """Run ``work(i)`` for i in range(n) on ``threads`` threads that start at the same moment."""
    barrier = threading.Barrier(threads)

    def _chunk(t: int) -> list[T]:
        barrier.wait()
        return [work(i) for i in range(t, n, threads)]

    with ThreadPoolExecutor(threads) as pool:
        return [r for chunk in pool.map(_chunk, range(threads)) for r in chunk]


def _budget(db: Database, tenant: TenantOut, campaign_id: str) -> int:
    with db.session(tenant_id=tenant.id, write=False) as s:
        spec = AccountSpec(kind="campaign_budget", unit="fen", owner_type="campaign", owner_id=campaign_id)
        account = ledger.find_account(spec, session=s)
        assert account is not None
        return account.balance


def test_two_hundred_concurrent_scans_of_one_code_reward_once(
    db: Database,
    tenant: TenantOut,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
    scan: Scan,
) -> None:
    campaign = make_campaign(budget_fen=100_000)
    url = first_urls(make_batch(), 1)[0]
    outcomes = Counter(_together(200, lambda i: str(reward_of(scan(url, openid=f"o{i}"))["outcome"])))
    assert outcomes == Counter({"granted": 1, "already_rewarded": 199})
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Reward)) == 1
        assert s.scalar(select(func.count()).select_from(RewardAttempt)) == 200
    assert _budget(db, tenant, campaign.id) == 100_000 - 100


def test_codes_racing_for_the_last_of_a_budget_never_overspend(
    db: Database,
    tenant: TenantOut,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
    scan: Scan,
) -> None:
    campaign = make_campaign(budget_fen=1000)  # exactly 10 red packets of 100 fen
    urls = first_urls(make_batch(), 40)
    outcomes = Counter(_together(40, lambda i: str(reward_of(scan(urls[i], openid=f"o{i}"))["outcome"])))
    assert outcomes == Counter({"granted": 10, "budget_exhausted": 30})
    assert _budget(db, tenant, campaign.id) == 0
    with db.session(tenant_id=tenant.id, write=False) as s:
        assert s.scalar(select(func.count()).select_from(Reward)) == 10
        paid = s.scalar(select(func.sum(Reward.amount_fen)))
        assert paid == 1000


def test_concurrent_scans_respect_the_daily_limit(
    db: Database,
    tenant: TenantOut,
    make_campaign: MakeCampaign,
    make_batch: MakeBatch,
    first_urls: FirstUrls,
    scan: Scan,
) -> None:
    campaign = make_campaign(budget_fen=100_000, daily_fen=700)
    urls = first_urls(make_batch(), 30)
    outcomes = Counter(_together(30, lambda i: str(reward_of(scan(urls[i], openid=f"o{i}"))["outcome"])))
    assert outcomes == Counter({"granted": 7, "daily_limit": 23})
    assert _budget(db, tenant, campaign.id) == 100_000 - 700
