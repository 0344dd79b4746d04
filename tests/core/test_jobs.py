"""Background jobs on both backends: enqueue in the caller's transaction, leases, retries, workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from typer.testing import CliRunner

from bcone.app import create_app
from bcone.core import jobs
from bcone.core.db import Database, utcnow
from bcone.core.job_runner import RETRY_BASE_SECONDS, claim_next, run_claimed
from bcone.core.jobs import Job, JobContext, LeaseLost, enqueue, get_job, job_handler, run_pending
from bcone.core.settings import Settings, get_settings
from bcone.core.worker import Worker
from bcone.iam.schemas import TenantOut

_test_tables = MetaData()
job_runs = Table(
    "test_job_runs",
    _test_tables,
    Column("job_id", String(36), primary_key=True),  # a second run of one job violates the key
    Column("worker_id", String(200), nullable=False),
)
_calls: Counter[str] = Counter()
_calls_lock = threading.Lock()


def _count(key: str) -> int:
    with _calls_lock:
        _calls[key] += 1
        return _calls[key]


@job_handler("test.record")
def _record(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    _count(ctx.job_id)
    with ctx.session() as session:
        session.execute(insert(job_runs).values(job_id=ctx.job_id, worker_id=ctx.worker_id))
    return {"doubled": payload.get("n", 0) * 2, "by": ctx.worker_id}


@job_handler("test.always_fails")
def _always_fails(ctx: JobContext, payload: dict[str, Any]) -> None:
    raise RuntimeError(f"boom on attempt {ctx.attempt}")


@job_handler("test.fails_once")
def _fails_once(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    if ctx.attempt == 1:
        raise ConnectionError("upstream unavailable")
    return {"attempt": ctx.attempt}


@job_handler("test.progress")
def _progress(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    ctx.progress(0.5, "halfway")
    with ctx.db.session() as session:
        seen = get_job(session, ctx.job_id)
    assert seen is not None
    started = time.monotonic()
    with ctx.session() as session:  # progress while this unit of work holds the write lock
        session.execute(insert(job_runs).values(job_id=ctx.job_id, worker_id=ctx.worker_id))
        ctx.progress(0.75, "writing")
    return {"seen": [seen.progress, seen.progress_message], "waited": time.monotonic() - started}


@job_handler("test.slow", lease_seconds=1.0)
def _slow(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    time.sleep(payload.get("seconds", 0.5))
    return {"slept": True}


@pytest.fixture
def runs_table(db: Database) -> Iterator[Table]:
    _test_tables.create_all(db.engine)
    yield job_runs
    _test_tables.drop_all(db.engine)


def _job(db: Database, job_id: str) -> jobs.JobStatus:
    with db.session() as session:
        status = get_job(session, job_id)
    assert status is not None
    return status


def _count_jobs(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def test_enqueue_belongs_to_the_callers_transaction(db: Database) -> None:
    def enqueue_then_fail() -> None:
        with db.session() as session:
            enqueue(session, "test.record", {"n": 1})
            raise RuntimeError("the caller fails after enqueueing")

    with pytest.raises(RuntimeError):
        enqueue_then_fail()
    assert _count_jobs(db) == 0
    with db.session() as session:
        job_id = enqueue(session, "test.record", {"n": 1})
    assert _job(db, job_id).status == "queued"


def test_a_job_runs_once_and_records_its_result(db: Database, runs_table: Table) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.record", {"n": 21})
    assert run_pending(db, worker_id="w1") == 1
    assert run_pending(db, worker_id="w1") == 0
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.progress, job.error) == ("succeeded", 1, 1.0, None)
    assert job.result == {"doubled": 42, "by": "w1"}
    assert job.finished_at is not None
    assert job.finished_at.tzinfo is not None
    assert _calls[job_id] == 1


def test_failures_retry_with_backoff_then_fail(db: Database) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.always_fails", max_attempts=3)
    assert run_pending(db, worker_id="w1") == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.error) == ("queued", 1, "RuntimeError: boom on attempt 1")
    assert job.run_at - utcnow() > timedelta(seconds=RETRY_BASE_SECONDS - 2)  # backing off
    assert run_pending(db, worker_id="w1") == 0  # not due yet
    assert run_pending(db, worker_id="w1", now=utcnow() + timedelta(hours=1)) == 1
    second = _job(db, job_id)
    assert (second.status, second.attempts) == ("queued", 2)
    assert second.run_at - job.run_at > timedelta(seconds=RETRY_BASE_SECONDS)  # the wait doubled
    assert run_pending(db, worker_id="w1", now=utcnow() + timedelta(hours=2)) == 1
    final = _job(db, job_id)
    assert (final.status, final.attempts, final.error) == ("failed", 3, "RuntimeError: boom on attempt 3")
    assert run_pending(db, worker_id="w1", now=utcnow() + timedelta(days=1)) == 0


def test_a_retry_can_succeed(db: Database) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.fails_once")
    run_pending(db, worker_id="w1")
    run_pending(db, worker_id="w1", now=utcnow() + timedelta(minutes=5))
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"attempt": 2})


def test_an_expired_lease_is_reclaimed_and_the_late_worker_changes_nothing(
    db: Database, runs_table: Table
) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.record", {"n": 1})
    lost = claim_next(db, worker_id="crashed")
    assert lost is not None
    assert lost.id == job_id
    assert claim_next(db, worker_id="other") is None  # leased
    later = utcnow() + timedelta(seconds=jobs.DEFAULT_LEASE_SECONDS + 1)
    assert run_pending(db, worker_id="rescuer", now=later) == 1
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.result) == ("succeeded", 2, {"doubled": 2, "by": "rescuer"})
    # The first worker wakes up: its writes are fenced off, whatever its handler does.
    with pytest.raises(LeaseLost):
        JobContext(db, job_id, "test.record", None, 1, "crashed").progress(0.9)
    assert _job(db, job_id).result == {"doubled": 2, "by": "rescuer"}


def test_a_lease_lost_on_the_last_attempt_fails_the_job(db: Database) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.record", max_attempts=1)
    assert claim_next(db, worker_id="crashed") is not None
    later = utcnow() + timedelta(seconds=jobs.DEFAULT_LEASE_SECONDS + 1)
    assert run_pending(db, worker_id="rescuer", now=later) == 0
    job = _job(db, job_id)
    assert job.status == "failed"
    assert job.error is not None
    assert "lease expired" in job.error


def test_the_lease_is_renewed_while_the_handler_runs(db: Database) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.slow", {"seconds": 2.0})
    claimed = claim_next(db, worker_id="w1")
    assert claimed is not None
    done = threading.Thread(target=run_claimed, args=(db, claimed), kwargs={"worker_id": "w1"})
    done.start()
    time.sleep(1.6)  # past the 1 s lease: only renewals keep the job from being taken over
    assert claim_next(db, worker_id="w2") is None
    done.join()
    job = _job(db, job_id)
    assert (job.status, job.attempts) == ("succeeded", 1)


def test_progress_is_visible_while_running_and_never_blocks(db: Database, runs_table: Table) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.progress")
    run_pending(db, worker_id="w1")
    job = _job(db, job_id)
    assert job.status == "succeeded", job.error
    assert job.result is not None
    assert job.result["seen"] == [0.5, "halfway"]
    assert job.result["waited"] < 5  # on SQLite the update is skipped rather than waiting for itself


def test_dedupe_key_keeps_one_pending_job(db: Database, runs_table: Table) -> None:
    with db.session() as session:
        first = enqueue(session, "test.record", dedupe_key="flush")
        assert enqueue(session, "test.record", dedupe_key="flush") == first
    with db.session() as session:
        assert enqueue(session, "test.record", dedupe_key="flush") == first
    assert _count_jobs(db) == 1
    run_pending(db, worker_id="w1")
    with db.session() as session:
        again = enqueue(session, "test.record", dedupe_key="flush")
    assert again != first
    assert _count_jobs(db) == 2


def test_dedupe_key_under_a_concurrent_enqueue(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers: the two transactions cannot overlap")
    committed = threading.Event()
    first: list[str] = []

    def enqueue_then_commit_later() -> None:
        with db.session() as session:
            first.append(enqueue(session, "test.record", dedupe_key="race"))
            session.flush()
            committed.set()
            time.sleep(0.3)

    other = threading.Thread(target=enqueue_then_commit_later)
    other.start()
    committed.wait(5)
    with db.session() as session:  # blocks on the unique index until the other commits
        second = enqueue(session, "test.record", dedupe_key="race")
    other.join()
    assert second == first[0]
    assert _count_jobs(db) == 1


def test_cancel_and_tenant_rules(db: Database) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.record", tenant_id="t-1")
    with db.session() as session:
        assert jobs.cancel_job(session, job_id) is True
        assert jobs.cancel_job(session, job_id) is False
    assert run_pending(db, worker_id="w1") == 0
    assert _job(db, job_id).status == "cancelled"
    with pytest.raises(ValueError, match="another tenant"), db.session(tenant_id="t-1") as session:
        enqueue(session, "test.record", tenant_id="t-2")
    with pytest.raises(ValueError, match="JSON"), db.session() as session:
        enqueue(session, "test.record", {"when": object()})


def test_four_workers_run_each_of_200_jobs_exactly_once(db: Database, runs_table: Table) -> None:
    with db.session() as session:
        ids = [enqueue(session, "test.record", {"n": i}) for i in range(200)]
    start = threading.Barrier(4)
    ran: list[int] = [0, 0, 0, 0]
    errors: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            start.wait()
            ran[slot] = run_pending(db, worker_id=f"w{slot}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(ran) == 200
    with db.session() as session:
        rows = session.execute(select(job_runs.c.job_id, job_runs.c.worker_id)).all()
        statuses = Counter(session.scalars(select(Job.status)))
    assert sorted(r.job_id for r in rows) == sorted(ids)  # the primary key forbids a second run
    assert statuses == Counter({"succeeded": 200})
    assert all(_calls[i] == 1 for i in ids)
    assert len({r.worker_id for r in rows}) > 1  # the work really was shared


def test_worker_threads_pick_up_a_committed_job_and_stop_gracefully(db: Database, runs_table: Table) -> None:
    worker = Worker(db, poll_seconds=30, concurrency=2)  # a long poll: only the commit can wake it
    worker.start()
    try:
        with db.session() as session:
            job_id = enqueue(session, "test.record", {"n": 2})
            slow_id = enqueue(session, "test.slow", {"seconds": 0.5}, priority=-1)
        deadline = time.monotonic() + 10
        while _job(db, job_id).status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _job(db, job_id).status == "succeeded"
        while _job(db, slow_id).status == "queued" and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop(timeout=10)
    assert not worker.running
    assert _job(db, slow_id).status == "succeeded"  # stop waited for the job in progress


def test_bcone_worker_once(db: Database, runs_table: Table, monkeypatch: pytest.MonkeyPatch) -> None:
    from bcone.cli import app as cli

    with db.session() as session:
        ids = [enqueue(session, "test.record", {"n": i}) for i in range(5)]
    monkeypatch.setenv("BCONE_DATABASE_URL", db.url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["worker", "--once", "--concurrency", "2"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "ran 5 job(s)" in result.output
    assert {_job(db, i).status for i in ids} == {"succeeded"}


_WORKER_SCRIPT = """
import time, typer
from bcone.core.cli import worker
from bcone.core.jobs import job_handler

@job_handler("test.sleep")
def _sleep(ctx, payload):
    time.sleep(1.0)
    return {"slept": True}

typer.run(worker)
"""


def test_bcone_worker_finishes_the_job_in_progress_on_sigterm(db: Database) -> None:
    with db.session() as session:
        job_id = enqueue(session, "test.sleep")
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", _WORKER_SCRIPT, "--poll-seconds", "0.1"],
        env={**os.environ, "BCONE_DATABASE_URL": db.url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while _job(db, job_id).status != "running" and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "jobs: test.sleep" in out
    assert "stopped after 1 job(s)" in out
    assert _job(db, job_id).status == "succeeded"


def test_inline_runner_runs_jobs_while_the_app_serves(
    db: Database, runs_table: Table, settings: Settings
) -> None:
    dev = settings.model_copy(update={"environment": "development", "jobs_mode": "inline"})
    with TestClient(create_app(dev, db=db)):
        with db.session() as session:
            job_id = enqueue(session, "test.record", {"n": 3})
        deadline = time.monotonic() + 10
        while _job(db, job_id).status != "succeeded" and time.monotonic() < deadline:
            time.sleep(0.05)
    job = _job(db, job_id)
    assert job.result is not None
    assert job.result["doubled"] == 6
    assert str(job.result["by"]).endswith(":inline#0")


def test_job_status_api_is_tenant_scoped(
    db: Database, owner_client: TestClient, tenant: TenantOut, other_tenant: TenantOut
) -> None:
    with db.session() as session:
        mine = enqueue(session, "test.record", {"n": 1}, tenant_id=tenant.id)
        theirs = enqueue(session, "test.record", {"n": 1}, tenant_id=other_tenant.id)
        platform = enqueue(session, "test.record")
    resp = owner_client.get(f"/api/v1/jobs/{mine}")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["id"], body["status"], body["progress"], body["name"]) == (
        mine,
        "queued",
        0.0,
        "test.record",
    )
    for other in (theirs, platform, "no-such-job"):
        missing = owner_client.get(f"/api/v1/jobs/{other}")
        assert missing.status_code == 404
        assert missing.json()["code"] == "job_not_found"
