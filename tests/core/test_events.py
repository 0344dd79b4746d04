"""The outbox and its flush, on SQLite and PostgreSQL, into DuckDB and chDB.

Exactly once is tested by failing on purpose: a warehouse that breaks right after its write (the
outbox rows are still there and get flushed again) and one that breaks before it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select, text
from typer.testing import CliRunner

import bcone.core.events.flush as flush_module
from bcone.core.cli import events_app, warehouse_app
from bcone.core.db import Database
from bcone.core.errors import ValidationFailed
from bcone.core.events import (
    Event,
    FlushResult,
    Identity,
    append_event,
    append_events,
    flush_outbox,
    outbox,
    outbox_stats,
)
from bcone.core.events.flush import schedule_flush
from bcone.core.jobs import Job, enqueue, get_job, registered_jobs, run_pending
from bcone.core.periodic import PeriodicSchedule, registered_periodic_tasks
from bcone.core.settings import get_settings
from bcone.core.tenancy import TenantNotBound, unscoped
from bcone.core.warehouse import EventBatch, Warehouse, open_warehouse_url

T0 = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["duckdb", "chdb"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Warehouse]:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}" if request.param == "duckdb" else f"chdb:///{tmp_path / 'ch'}"
    with open_warehouse_url(url) as wh:
        wh.ensure_schema()
        yield wh


def backlog(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def stored(wh: Warehouse) -> list[tuple[Any, ...]]:
    return wh.query("SELECT tenant_id, event_id, count(*) AS n FROM events GROUP BY tenant_id, event_id").rows


def add_events(db: Database, n: int, *, tenant: str = "brand-a", first: int = 0) -> list[Event]:
    events = [
        Event(
            event_id=f"{tenant}-{i:06d}",
            tenant_id=tenant,
            ts=T0 + timedelta(seconds=i),
            type="code.scanned",
            amount=i,
        )
        for i in range(first, first + n)
    ]
    with db.session(tenant_id=tenant) as session:
        append_events(session, events)
    return events


# --- appending ------------------------------------------------------------------------------


def test_append_event_writes_the_tenants_event_in_the_callers_transaction(db: Database) -> None:
    with db.session(tenant_id="brand-a") as session:
        event = append_event(
            session,
            type="order.paid",
            ts=datetime(2025, 6, 1, 17, 30, tzinfo=timezone(timedelta(hours=8))),
            profile_id="p1",
            identities=[("wechat_openid:wx01", "o1"), Identity(namespace="phone", value="h:abc")],
            org_id="store-9",
            sku="sku-1",
            region="310101",
            amount=12_345,
            properties={"order_no": "A1", "items": 2},
        )
    assert event.tenant_id == "brand-a"
    assert event.ts == datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
    assert event.ts.tzinfo == UTC
    with db.engine.connect() as conn:
        row = conn.execute(select(outbox)).mappings().one()
    assert row["event_id"] == event.event_id
    assert len(event.event_id) == 36
    assert row["tenant_id"] == "brand-a"
    assert row["ts_us"] == int(event.ts.timestamp()) * 1_000_000
    assert row["identities"] == (
        '[{"namespace":"wechat_openid:wx01","value":"o1"},{"namespace":"phone","value":"h:abc"}]'
    )
    assert (row["amount"], row["region"], row["properties"]) == (
        12_345,
        "310101",
        '{"order_no":"A1","items":2}',
    )


def _pay_then_fail(db: Database) -> None:
    with db.session(tenant_id="brand-a") as session:
        append_event(session, type="order.paid", amount=1)
        raise RuntimeError("the order failed after the event was appended")


def test_an_event_exists_only_if_the_caller_commits(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _pay_then_fail(db)
    assert backlog(db) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"type": "OrderPaid"}, "type"),
        ({"type": "order"}, "type"),
        ({"type": "order.paid", "region": "3101"}, "region"),
        ({"type": "order.paid", "amount": 12.5}, "amount"),
        ({"type": "order.paid", "ts": datetime(2025, 1, 1)}, "ts"),
        ({"type": "order.paid", "properties": {"when": object()}}, "properties"),
        ({"type": "order.paid", "identities": [("", "x")]}, "identities.0.namespace"),
    ],
)
def test_bad_events_are_refused_with_the_field(db: Database, fields: dict[str, Any], field: str) -> None:
    with db.session(tenant_id="brand-a") as session:
        with pytest.raises(ValidationFailed) as caught:
            append_event(session, **fields)
        assert caught.value.field == field
    assert backlog(db) == 0


def test_appending_needs_a_tenant(db: Database) -> None:
    with db.session() as session, pytest.raises(TenantNotBound):
        append_event(session, type="order.paid")
    event = Event(tenant_id="brand-b", type="order.paid")
    with db.session(tenant_id="brand-a") as session, pytest.raises(TenantNotBound):
        append_events(session, [event])
    with db.session() as session:
        append_events(unscoped(session), [event, Event(tenant_id="brand-c", type="order.paid")])
    assert backlog(db) == 2


def test_the_same_event_id_twice_is_kept_once_and_the_transaction_goes_on(db: Database) -> None:
    with db.session(tenant_id="brand-a") as session:
        append_event(session, type="order.paid", event_id="order:1001", amount=100)
        append_event(session, type="order.paid", event_id="order:1001", amount=999)
        session.execute(text("SELECT 1"))  # the transaction is still usable (PostgreSQL would abort it)
        append_event(session, type="order.paid", event_id="order:1002", amount=200)
    with db.session(tenant_id="brand-a") as session:
        append_event(session, type="order.paid", event_id="order:1001", amount=555)
    with db.engine.connect() as conn:
        rows = conn.execute(select(outbox.c.event_id, outbox.c.amount).order_by(outbox.c.seq)).all()
    assert [tuple(r) for r in rows] == [("order:1001", 100), ("order:1002", 200)]


def test_event_ids_are_unique_per_tenant(db: Database) -> None:
    for tenant in ("brand-a", "brand-b"):
        with db.session(tenant_id=tenant) as session:
            append_event(session, type="order.paid", event_id="order:1")
    assert backlog(db) == 2


# --- flushing -------------------------------------------------------------------------------


def test_flush_moves_every_event_once_and_empties_the_outbox(db: Database, warehouse: Warehouse) -> None:
    add_events(db, 25, tenant="brand-a")
    add_events(db, 10, tenant="brand-b")
    result = flush_outbox(db, warehouse, batch_size=8)
    assert (result.events, result.batches) == (35, 5)
    assert result.events_per_second > 0
    assert backlog(db) == 0
    assert len(stored(warehouse)) == 35
    assert all(n == 1 for *_, n in stored(warehouse))
    row = warehouse.query(
        "SELECT ts, amount, identities FROM events WHERE event_id = $id", {"id": "brand-a-000007"}
    ).rows
    assert row == [(T0 + timedelta(seconds=7), 7, "[]")]
    assert flush_outbox(db, warehouse).events == 0


def test_flush_takes_the_oldest_events_first_and_stops_at_max_batches(
    db: Database, warehouse: Warehouse
) -> None:
    add_events(db, 10)
    add_events(db, 10, first=10)
    result = flush_outbox(db, warehouse, batch_size=6, max_batches=2)
    assert (result.events, result.batches) == (12, 2)
    ids = [r[0] for r in warehouse.query("SELECT event_id FROM events ORDER BY event_id").rows]
    assert ids == [f"brand-a-{i:06d}" for i in range(12)]
    assert backlog(db) == 8


class FailsAfterWriting:
    """A real warehouse that breaks right after its write: the flush must not delete the rows."""

    def __init__(self, inner: Warehouse, *, before: bool = False) -> None:
        self.inner = inner
        self.dialect = inner.dialect
        self.before = before
        self.calls = 0

    def ensure_schema(self) -> None:
        self.inner.ensure_schema()

    def hold(self) -> AbstractContextManager[None]:
        return self.inner.hold()

    def insert_events(self, batch: EventBatch) -> int:
        self.calls += 1
        if self.before:
            raise ConnectionError("warehouse unreachable")
        self.inner.insert_events(batch)
        raise ConnectionError("connection lost after the insert")

    def query(self, sql: str, params: Any = None, *, tenant_id: str | None = None) -> Any:
        return self.inner.query(sql, params, tenant_id=tenant_id)

    def close(self) -> None:
        self.inner.close()


def test_a_crash_after_the_warehouse_write_never_doubles_an_event(db: Database, warehouse: Warehouse) -> None:
    add_events(db, 30)
    with pytest.raises(ConnectionError):
        flush_outbox(db, FailsAfterWriting(warehouse), batch_size=20)
    assert backlog(db) == 30  # nothing was deleted: the batch is flushed again
    assert len(stored(warehouse)) == 20
    result = flush_outbox(db, warehouse, batch_size=20)
    assert result.events == 30
    assert backlog(db) == 0
    rows = stored(warehouse)
    assert len(rows) == 30
    assert {n for *_, n in rows} == {1}


def test_a_crash_before_the_warehouse_write_never_loses_an_event(db: Database, warehouse: Warehouse) -> None:
    add_events(db, 12)
    failing = FailsAfterWriting(warehouse, before=True)
    with pytest.raises(ConnectionError):
        flush_outbox(db, failing)
    assert failing.calls == 1
    assert backlog(db) == 12
    assert stored(warehouse) == []
    assert flush_outbox(db, warehouse).events == 12
    assert len(stored(warehouse)) == 12


def test_an_event_appended_again_after_its_flush_is_still_stored_once(
    db: Database, warehouse: Warehouse
) -> None:
    with db.session(tenant_id="brand-a") as session:
        append_event(session, type="order.paid", event_id="order:7", amount=700, ts=T0)
    flush_outbox(db, warehouse)
    with db.session(tenant_id="brand-a") as session:  # a client retry, an hour later
        append_event(session, type="order.paid", event_id="order:7", amount=700, ts=T0 + timedelta(hours=1))
    assert flush_outbox(db, warehouse).events == 1  # moved out of the outbox...
    assert warehouse.query("SELECT ts FROM events").rows == [(T0,)]  # ...but not stored twice


class StartsASecondFlusher:
    """While the first flusher holds its batch, a second flusher starts in another thread."""

    def __init__(self, db: Database, inner: Warehouse, other: Warehouse) -> None:
        self.db, self.inner, self.other, self.dialect = db, inner, other, inner.dialect
        self.second: threading.Thread | None = None
        self.second_result: list[FlushResult] = []
        self.second_waited = False

    def insert_events(self, batch: EventBatch) -> int:
        if self.second is None:
            self.second = threading.Thread(
                target=lambda: self.second_result.append(flush_outbox(self.db, self.other, batch_size=7))
            )
            self.second.start()
            self.second.join(timeout=1.0)
            self.second_waited = self.second.is_alive()
        return self.inner.insert_events(batch)

    def ensure_schema(self) -> None: ...
    def hold(self) -> AbstractContextManager[None]:
        return self.inner.hold()

    def query(self, sql: str, params: Any = None, *, tenant_id: str | None = None) -> Any: ...
    def close(self) -> None: ...


def test_two_flushers_never_take_the_same_rows(db: Database, tmp_path: Path) -> None:
    add_events(db, 40)
    with (
        open_warehouse_url(f"duckdb:///{tmp_path / 'first.duckdb'}") as first,
        open_warehouse_url(f"duckdb:///{tmp_path / 'second.duckdb'}") as second,
    ):
        first.ensure_schema()
        second.ensure_schema()
        racing = StartsASecondFlusher(db, first, second)
        outer = flush_outbox(db, racing, batch_size=15, max_batches=1)
        assert racing.second is not None
        racing.second.join(timeout=30)
        first_ids = {r[1] for r in stored(first)}
        second_ids = {r[1] for r in stored(second)}
    # PostgreSQL: the second flusher skips the locked rows and finishes at once. SQLite: it
    # waits for the first one's write lock, then takes what is left.
    assert racing.second_waited == (db.dialect == "sqlite")
    assert outer.events == 15
    assert racing.second_result[0].events == 25
    assert first_ids.isdisjoint(second_ids)
    assert len(first_ids | second_ids) == 40
    assert backlog(db) == 0


INSERT_ONE_EVENT = textwrap.dedent(
    """
    import sys, time
    from bcone.core.events import Event
    from bcone.core.warehouse.duckdb_engine import DuckDBWarehouse
    wh = DuckDBWarehouse(sys.argv[1], lock_wait_seconds=60)
    wh.insert_events([Event(tenant_id="brand-z", type="page.viewed")])
    print(time.time(), flush=True)
    """
)


class SlowWarehouse:
    """A real warehouse whose every insert takes a little longer, so a flush lasts a while."""

    def __init__(self, inner: Warehouse) -> None:
        self.inner, self.dialect = inner, inner.dialect

    def insert_events(self, batch: EventBatch) -> int:
        time.sleep(0.05)
        return self.inner.insert_events(batch)

    def hold(self) -> AbstractContextManager[None]:
        return self.inner.hold()

    def ensure_schema(self) -> None: ...
    def query(self, sql: str, params: Any = None, *, tenant_id: str | None = None) -> Any: ...
    def close(self) -> None: ...


def test_a_long_flush_lets_another_process_use_the_duckdb_file(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flush_module, "WAREHOUSE_HOLD_SECONDS", 0.2)
    add_events(db, 3000)
    path = tmp_path / "w.duckdb"
    writer: list[subprocess.Popen[str]] = []

    def start_another_writer(_count: int) -> None:
        if not writer:
            script = [sys.executable, "-c", INSERT_ONE_EVENT, str(path)]
            writer.append(subprocess.Popen(script, stdout=subprocess.PIPE, text=True))

    with open_warehouse_url(f"duckdb:///{path}") as wh:
        wh.ensure_schema()
        result = flush_outbox(db, SlowWarehouse(wh), batch_size=100, on_batch=start_another_writer)
        flush_ended = time.time()
        out, _ = writer[0].communicate(timeout=60)
        assert writer[0].returncode == 0
        assert float(out) < flush_ended  # it got the file while the flush was still running
        assert result.events == 3000
        assert wh.query("SELECT count(*) AS n FROM events").rows == [(3001,)]


def test_outbox_stats_report_the_backlog(db: Database) -> None:
    assert outbox_stats(db).backlog == 0
    add_events(db, 3)
    with db.session(tenant_id="brand-a") as session:
        append_event(session, type="order.paid", ts=T0 + timedelta(days=1))
    stats = outbox_stats(db)
    assert stats.backlog == 4
    assert (stats.oldest, stats.newest) == (T0, T0 + timedelta(days=1))
    assert stats.by_type == [("code.scanned", 3), ("order.paid", 1)]


# --- the job and the command line -----------------------------------------------------------


@pytest.fixture
def configured(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """BCONE_* settings pointing at the test database and a DuckDB file; yields the warehouse URL."""
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    monkeypatch.setenv("BCONE_DATABASE_URL", db.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BCONE_WAREHOUSE_URL", url)
    monkeypatch.setenv("BCONE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    with open_warehouse_url(url) as wh:
        wh.ensure_schema()
    yield url
    get_settings.cache_clear()


def test_the_events_flush_job_moves_the_outbox(db: Database, configured: str) -> None:
    assert "events.flush" in registered_jobs()
    add_events(db, 9)
    with db.session() as session:
        job_id = enqueue(unscoped(session), "events.flush", {"batch_size": 4})
    assert run_pending(db, worker_id="test-worker") == 1
    with db.session() as session:
        job = get_job(unscoped(session), job_id)
    assert job is not None
    assert job.status == "succeeded", job.error
    assert job.result is not None
    assert (job.result["events"], job.result["batches"]) == (9, 3)
    assert job.progress == 1.0
    assert backlog(db) == 0
    with open_warehouse_url(configured) as wh:
        assert len(stored(wh)) == 9


def _bcone() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(events_app, name="events")
    root.add_typer(warehouse_app, name="warehouse")
    return root


def test_cli_flush_and_stats(db: Database, configured: str) -> None:
    runner, app = CliRunner(), _bcone()
    add_events(db, 11)
    stats = runner.invoke(app, ["events", "stats"])
    assert stats.exit_code == 0, stats.output
    assert "backlog: 11 events" in stats.stdout
    assert "code.scanned\t11" in stats.stdout
    flushed = runner.invoke(app, ["events", "flush", "--batch-size", "5", "--max-batches", "2"])
    assert flushed.exit_code == 0, flushed.output
    assert "moved 10 events in 2 batch(es)" in flushed.stdout
    assert "events/s" in flushed.stdout
    rest = runner.invoke(app, ["events", "flush"])
    assert "moved 1 events in 1 batch(es)" in rest.stdout
    assert "backlog: 0 events" in runner.invoke(app, ["events", "stats"]).stdout
    answer = runner.invoke(app, ["warehouse", "query", "SELECT count(*) AS n FROM events", "-f", "csv"])
    assert answer.stdout == "n\n11\n"


# --- flushing without anyone asking: the periodic check every worker runs -------------------


def test_workers_schedule_one_flush_while_the_outbox_holds_events(db: Database, configured: str) -> None:
    assert "events.schedule_flush" in registered_periodic_tasks()
    schedule_flush(db)
    with db.session() as session:
        assert unscoped(session).scalar(select(func.count()).select_from(Job)) == 0  # nothing to do
    add_events(db, 5)
    schedule = PeriodicSchedule(only={"events.schedule_flush"})  # other domains register theirs too
    assert schedule.run_due(db, now=100.0) == ["events.schedule_flush"]
    assert schedule.run_due(db, now=100.5) == []  # not again before its interval
    schedule_flush(db)  # another worker checks too: still one job
    with db.session() as session:
        jobs = list(unscoped(session).scalars(select(Job)))
    assert [(j.name, j.status) for j in jobs] == [("events.flush", "queued")]
    assert run_pending(db, worker_id="test-worker") == 1
    assert backlog(db) == 0
    with open_warehouse_url(configured) as wh:
        assert len(stored(wh)) == 5
