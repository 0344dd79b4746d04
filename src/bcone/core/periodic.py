"""Periodic tasks: small checks every worker runs on a timer, usually to enqueue a job.

A periodic task must be cheap and idempotent: every worker process (and the in-process runner)
runs it, so it typically looks for work and enqueues a job with a ``dedupe_key``, leaving the
heavy lifting to one claimed job. Example: while the outbox holds events, enqueue ``events.flush``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from bcone.core.db import Database

logger = logging.getLogger(__name__)

PeriodicFunction = Callable[[Database], None]


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    every_seconds: float
    fn: PeriodicFunction


_TASKS: dict[str, PeriodicTask] = {}


def periodic(name: str, *, every_seconds: float) -> Callable[[PeriodicFunction], PeriodicFunction]:
    """Register ``fn(db)`` to run about every ``every_seconds`` in each worker."""
    if every_seconds <= 0:
        raise ValueError("every_seconds must be positive")

    def register(fn: PeriodicFunction) -> PeriodicFunction:
        _TASKS[name] = PeriodicTask(name, every_seconds, fn)
        return fn

    return register


def registered_periodic_tasks() -> list[str]:
    """Names of the periodic tasks this process runs."""
    return sorted(_TASKS)


class PeriodicSchedule:
    """When each periodic task last ran, for one worker; :meth:`run_due` runs the due ones."""

    def __init__(self, *, only: Collection[str] | None = None) -> None:
        """``only``: run just these tasks (by name) instead of every registered one."""
        self._last: dict[str, float] = {}
        self._only = frozenset(only) if only is not None else None

    def run_due(self, db: Database, *, now: float | None = None) -> list[str]:
        """Run every task whose interval has passed; a failing task is logged and retried later."""
        clock = time.monotonic() if now is None else now
        ran: list[str] = []
        for task in list(_TASKS.values()):
            if self._only is not None and task.name not in self._only:
                continue
            last = self._last.get(task.name)
            if last is not None and clock - last < task.every_seconds:
                continue
            self._last[task.name] = clock
            try:
                task.fn(db)
                ran.append(task.name)
            except Exception:  # a periodic check must never stop the worker
                logger.exception("periodic task %s failed", task.name)
        return ran
