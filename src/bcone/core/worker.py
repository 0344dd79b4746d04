"""The job worker loop: ``bcone worker`` processes, or a thread inside the app (``jobs_mode=inline``)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from fastapi import FastAPI

from bcone.core.db import Database
from bcone.core.job_runner import run_due_jobs
from bcone.core.jobs import register_wakeup, unregister_wakeup
from bcone.core.periodic import PeriodicSchedule

logger = logging.getLogger(__name__)

# How often an idle worker looks for due jobs. A commit that enqueues a job wakes workers of the
# same process at once; other processes see it within one poll interval.
DEFAULT_POLL_SECONDS = 1.0


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    """``concurrency`` threads that claim and run due jobs until :meth:`stop`."""

    def __init__(
        self,
        db: Database,
        *,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        concurrency: int = 1,
        name: str | None = None,
    ) -> None:
        if poll_seconds <= 0 or concurrency < 1:
            raise ValueError("poll_seconds must be positive and concurrency at least 1")
        self.db = db
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.name = name or default_worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._previous_handlers: dict[signal.Signals, Any] = {}
        self.jobs_run = 0

    def worker_id(self, slot: int) -> str:
        return f"{self.name}#{slot}"

    def start(self) -> None:
        """Start the worker threads and return at once."""
        if self._threads:
            raise RuntimeError("worker already started")
        register_wakeup(self._wake)
        for slot in range(self.concurrency):
            thread = threading.Thread(
                target=self._loop, args=(slot,), name=f"bcone-worker-{slot}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def request_stop(self) -> None:
        """Ask every thread to stop after its current job (safe from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the jobs in progress finish, and wait for the threads."""
        self.request_stop()
        for thread in self._threads:
            thread.join(timeout)
        unregister_wakeup(self._wake)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def run(self, *, handle_signals: bool = True) -> None:
        """Run until SIGINT/SIGTERM (or :meth:`stop` from another thread); finishes running jobs.

        A second signal is not caught: it interrupts at once, and the interrupted jobs' leases
        expire so that another worker runs them again.
        """
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous_handlers[sig] = signal.signal(sig, self._on_signal)
        try:
            self.start()
            while self.running:
                for thread in self._threads:
                    thread.join(0.5)
        finally:
            self._restore_signal_handlers()
            self.stop()

    def drain(self) -> int:
        """Run every due job with ``concurrency`` threads, then return how many ran."""
        threads = [
            threading.Thread(target=self._drain_slot, args=(slot,), name=f"bcone-drain-{slot}")
            for slot in range(self.concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.jobs_run

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping after the jobs in progress", signum)
        self.request_stop()
        self._restore_signal_handlers()

    def _restore_signal_handlers(self) -> None:
        while self._previous_handlers:
            sig, handler = self._previous_handlers.popitem()
            signal.signal(sig, handler)

    def _count(self, ran: int) -> None:
        with self._lock:
            self.jobs_run += ran

    def _drain_slot(self, slot: int) -> None:
        self._count(run_due_jobs(self.db, worker_id=self.worker_id(slot), stop=self._stop))

    def _loop(self, slot: int) -> None:
        worker_id = self.worker_id(slot)
        schedule = PeriodicSchedule() if slot == 0 else None  # one timer per worker process
        while not self._stop.is_set():
            if schedule is not None:
                schedule.run_due(self.db)
            try:
                ran = run_due_jobs(self.db, worker_id=worker_id, stop=self._stop)
            except Exception:  # the database may be briefly unreachable; try again next poll
                logger.exception("worker %s: could not poll for jobs", worker_id)
                ran = 0
            self._count(ran)
            if ran == 0 and not self._stop.is_set():
                self._wake.wait(self.poll_seconds)
                self._wake.clear()


def start_inline_runner(db: Database, *, poll_seconds: float = DEFAULT_POLL_SECONDS) -> Worker:
    """Run jobs in a background thread of this process (``jobs_mode=inline``); ``.stop()`` it at shutdown."""
    worker = Worker(db, poll_seconds=poll_seconds, concurrency=1, name=f"{default_worker_name()}:inline")
    worker.start()
    return worker


def stop_inline_runner(worker: Worker, *, timeout: float | None = 30.0) -> None:
    """Stop the in-process runner, letting the job in progress finish (up to ``timeout`` seconds)."""
    worker.stop(timeout)


@asynccontextmanager
async def inline_jobs_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan: with ``jobs_mode=inline`` a thread runs jobs while the app serves.

    Not in the test environment, where a test runs the jobs it enqueued itself (``run_pending``),
    so no background thread races it.
    """
    settings = app.state.settings
    runner = None
    if settings.jobs_mode == "inline" and settings.environment != "test":
        runner = start_inline_runner(app.state.db)
    try:
        yield
    finally:
        if runner is not None:
            stop_inline_runner(runner)
