"""Synthetic events loaded into DuckDB and into ClickHouse (chDB), and the warehouse settings."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bcone.core.events import Event
from bcone.core.warehouse import Warehouse, warehouse_from_url

TENANT = "brand-a"
OTHER = "brand-b"
# The synthetic history: 120 days up to LAST_DAY (local days), 150 consumers.
LAST_DAY = date(2025, 6, 30)
FIRST_DAY = LAST_DAY - timedelta(days=119)
CHANNELS = ("offline", "wechat", "tmall")
REGIONS = ("310101", "440305", "110105")


def synthetic_events(seed: int = 7, consumers: int = 150) -> list[Event]:
    """Scans, orders and visits with repeat buyers, dropouts, a channel property and regions."""
    rng = random.Random(seed)
    out: list[Event] = []
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC) - timedelta(hours=8)
    n = 0

    def add(ts: datetime, kind: str, profile: str | None, **fields: object) -> None:
        nonlocal n
        n += 1
        out.append(
            Event(event_id=f"ev-{n:06d}", tenant_id=TENANT, ts=ts, type=kind, profile_id=profile, **fields)
        )  # type: ignore[arg-type]

    for c in range(consumers):
        profile = f"c{c:04d}"
        region = rng.choice(REGIONS)
        store = f"S{rng.randrange(6):02d}"
        t = start + timedelta(seconds=rng.randrange(110 * 86400))
        rate = rng.choice((2.0, 5.0, 12.0, 30.0))  # days between visits
        while t < start + timedelta(days=120):
            add(t, "code.scanned", profile, region=region, org_id=store)
            if rng.random() < 0.6:
                paid = t + timedelta(minutes=rng.randrange(1, 3000))
                add(
                    paid,
                    "order.paid",
                    profile,
                    region=region,
                    org_id=store,
                    amount=rng.randrange(300, 5000),
                    properties={"channel": rng.choice(CHANNELS)},
                )
            if rng.random() < 0.15:
                break  # this consumer drops out
            t += timedelta(days=rng.expovariate(1 / rate))
    for i in range(40):  # visits without a consumer, and another tenant's orders
        add(start + timedelta(hours=7 * i), "store.visited", None, org_id="S01")
        n += 1
        out.append(
            Event(
                event_id=f"other-{i}",
                tenant_id=OTHER,
                ts=start + timedelta(hours=5 * i),
                type="order.paid",
                profile_id=f"c{i % 7:04d}",
                amount=100,
            )
        )
    return out


EVENTS = synthetic_events()


def _load(url: str) -> Warehouse:
    wh = warehouse_from_url(url)
    wh.ensure_schema()
    wh.insert_events(EVENTS)
    return wh


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    wh = _load(f"duckdb:///{tmp_path_factory.mktemp('duck') / 'w.duckdb'}")
    yield wh
    wh.close()


@pytest.fixture(scope="module")
def chdb_wh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    wh = _load(f"chdb:///{tmp_path_factory.mktemp('chdb') / 'ch'}")
    yield wh
    wh.close()


@pytest.fixture
def empty_duck(tmp_path: Path) -> Iterator[Warehouse]:
    wh = warehouse_from_url(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    yield wh
    wh.close()
