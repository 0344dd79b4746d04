"""Summary tables: reports read them once refreshed and answer exactly as from the raw events,
on DuckDB and on ClickHouse (chDB); new events, or an erasure, send reports back to raw events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bcone.analytics import _summaries, service
from bcone.core.events import Event
from bcone.core.warehouse import Warehouse, warehouse_from_url
from tests.analytics.conftest import EVENTS, FIRST_DAY, LAST_DAY, OTHER, TENANT

REPORTS: dict[str, Callable[[Warehouse], Any]] = {
    "dashboard_day": lambda wh: service.dashboard(
        wh, TENANT, since=LAST_DAY - timedelta(days=29), until=LAST_DAY
    ),
    "dashboard_week": lambda wh: service.dashboard(wh, TENANT, since=FIRST_DAY, until=LAST_DAY, grain="week"),
    "dashboard_channel": lambda wh: service.dashboard(
        wh, TENANT, since=FIRST_DAY, until=LAST_DAY, channel="wechat"
    ),
    "dashboard_province": lambda wh: service.dashboard(
        wh, TENANT, since=FIRST_DAY + timedelta(days=20), until=LAST_DAY, province="44"
    ),
    "dashboard_sku": lambda wh: service.dashboard(wh, TENANT, since=FIRST_DAY, until=LAST_DAY, sku="NONE"),
    "rfm": lambda wh: service.rfm(wh, TENANT, since=FIRST_DAY, until=LAST_DAY, limit=30),
    "rfm_part": lambda wh: service.rfm(
        wh, TENANT, since=FIRST_DAY + timedelta(days=30), until=LAST_DAY - timedelta(days=10), segment="loyal"
    ),
    "retention_week": lambda wh: service.retention(wh, TENANT, since=FIRST_DAY, until=LAST_DAY),
    "retention_month": lambda wh: service.retention(
        wh,
        TENANT,
        period="month",
        cohort_event="code.scanned",
        return_event="order.paid",
        since=FIRST_DAY + timedelta(days=15),
        until=LAST_DAY,
    ),
}


@pytest.fixture(scope="module", params=["duckdb", "chdb"])
def wh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    path = tmp_path_factory.mktemp(f"summaries-{request.param}")
    url = f"duckdb:///{path / 'w.duckdb'}" if request.param == "duckdb" else f"chdb:///{path / 'ch'}"
    warehouse = warehouse_from_url(url)
    warehouse.ensure_schema()
    warehouse.insert_events(EVENTS)
    yield warehouse
    warehouse.close()


def test_summary_reports_equal_raw_reports(wh: Warehouse) -> None:
    assert not service.summaries_fresh(wh, TENANT)
    raw = {name: report(wh) for name, report in REPORTS.items()}
    assert raw["rfm"].customers > 50
    assert raw["dashboard_week"].totals.orders > 100

    results = service.refresh_summaries(wh, TENANT)
    assert [r.tenant_id for r in results] == [TENANT]
    assert results[0].events == sum(1 for e in EVENTS if e.tenant_id == TENANT)
    assert results[0].rows[_summaries.DAILY] > 0
    assert results[0].rows[_summaries.PROFILES] == 150
    assert service.summaries_fresh(wh, TENANT)
    assert not service.summaries_fresh(wh, OTHER)  # refreshed one tenant only

    summarised = {name: report(wh) for name, report in REPORTS.items()}
    for name in REPORTS:
        assert summarised[name] == raw[name], name

    # A second, unforced refresh finds them fresh and skips the work.
    assert service.refresh_summaries(wh, TENANT)[0].skipped


def test_new_events_make_summaries_stale_until_the_next_refresh(wh: Warehouse) -> None:
    service.refresh_summaries(wh, TENANT)
    before = REPORTS["dashboard_day"](wh)
    late = Event(
        event_id="ev-late-1",
        tenant_id=TENANT,
        ts=datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 3, tzinfo=UTC),
        type="order.paid",
        profile_id="c9999",
        amount=1234,
        region="440305",
        org_id="S01",
    )  # type: ignore[call-arg]
    assert wh.insert_events([late]) == 1
    assert not service.summaries_fresh(wh, TENANT)
    stale_raw = REPORTS["dashboard_day"](wh)  # answered from the raw events: the new order counts
    assert stale_raw.totals.orders == before.totals.orders + 1
    assert stale_raw.totals.new_consumers == before.totals.new_consumers + 1

    (result,) = service.refresh_summaries(wh, TENANT)
    assert not result.skipped
    assert service.summaries_fresh(wh, TENANT)
    assert REPORTS["dashboard_day"](wh) == stale_raw
    assert REPORTS["rfm"](wh) == service.rfm(wh, TENANT, since=FIRST_DAY, until=LAST_DAY, limit=30)


def test_erasure_makes_summaries_stale(wh: Warehouse) -> None:
    service.refresh_summaries(wh, TENANT, force=True)
    assert service.summaries_fresh(wh, TENANT)
    assert wh.erase_profiles(TENANT, ["c0003"]) > 0
    assert not service.summaries_fresh(wh, TENANT)
    raw = REPORTS["rfm"](wh)
    service.refresh_summaries(wh, TENANT)
    assert REPORTS["rfm"](wh) == raw


def test_refresh_of_every_tenant_and_of_an_empty_warehouse(wh: Warehouse, tmp_path: Any) -> None:
    results = {r.tenant_id: r for r in service.refresh_summaries(wh, force=True)}
    assert set(results) == {TENANT, OTHER}
    assert service.summaries_fresh(wh, OTHER)
    other = service.rfm(wh, OTHER, since=FIRST_DAY - timedelta(days=5), until=LAST_DAY)
    assert other.customers == 7

    empty = warehouse_from_url(f"duckdb:///{tmp_path / 'none.duckdb'}")
    try:
        assert service.refresh_summaries(empty) == []
        assert not service.summaries_fresh(empty, TENANT)
    finally:
        empty.close()


# --- the job, its schedule and the CLI ------------------------------------------------------------


@pytest.fixture
def duck_url(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from bcone.core.settings import get_settings
    from bcone.core.warehouse import open_warehouse_url

    url = f"duckdb:///{tmp_path / 'jobs.duckdb'}"
    with open_warehouse_url(url) as warehouse:
        warehouse.ensure_schema()
        warehouse.insert_events(EVENTS)
    monkeypatch.setenv("BCONE_WAREHOUSE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def test_a_finished_flush_schedules_one_refresh_job(db: Any, duck_url: str) -> None:
    from sqlalchemy import select

    from bcone.analytics import jobs
    from bcone.core.jobs import Job, enqueue, run_pending
    from bcone.core.periodic import registered_periodic_tasks
    from bcone.core.tenancy import unscoped
    from bcone.core.warehouse import open_warehouse_url

    assert "analytics.schedule_refresh" in registered_periodic_tasks()
    jobs.schedule_refresh(db)  # no flush has run: nothing to refresh
    with db.session() as session:
        assert list(unscoped(session).scalars(select(Job))) == []
    with db.session() as session:
        unscoped(session)
        flush_id = enqueue(session, jobs.FLUSH_JOB, {})
    with db.session() as session:
        job = unscoped(session).get(Job, flush_id)
        assert job is not None
        job.status, job.finished_at = "succeeded", datetime.now(UTC)
    jobs.schedule_refresh(db)
    jobs.schedule_refresh(db)  # another worker checks too: still one job
    with db.session() as session:
        queued = [j.name for j in unscoped(session).scalars(select(Job).where(Job.status == "queued"))]
    assert queued == [jobs.JOB]
    assert run_pending(db, worker_id="test-worker") == 1
    with db.session() as session:
        done = unscoped(session).scalars(select(Job).where(Job.name == jobs.JOB)).one()
        assert done.status == "succeeded", done.error
        assert done.result is not None
        assert set(done.result["tenants"]) == {TENANT, OTHER}
    jobs.schedule_refresh(db)  # the flush is older than the refresh now
    with db.session() as session:
        assert unscoped(session).scalars(select(Job).where(Job.status == "queued")).all() == []
    with open_warehouse_url(duck_url) as warehouse:
        assert service.summaries_fresh(warehouse, TENANT)


def test_cli_refresh(duck_url: str) -> None:
    from typer.testing import CliRunner

    from bcone.analytics.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["refresh", "--tenant", TENANT])
    assert first.exit_code == 0, first.output
    assert f"{TENANT}: " in first.stdout
    assert "events summarised" in first.stdout
    again = runner.invoke(app, ["refresh"])
    assert f"{TENANT}: fresh, skipped" in again.stdout
    assert f"{OTHER}: " in again.stdout
    forced = runner.invoke(app, ["refresh", "--tenant", TENANT, "--force"])
    assert "events summarised" in forced.stdout
