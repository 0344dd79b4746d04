"""core.db.run_blocking: database work for async handlers runs in a thread, off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from contextvars import ContextVar

import pytest

from bcone.core.db import Database, run_blocking

_locale: ContextVar[str] = ContextVar("test_locale", default="zh-CN")


def _where_and_what(value: int) -> tuple[str, str, int]:
    return threading.current_thread().name, _locale.get(), value * 2


def test_runs_in_a_database_thread_with_the_callers_context() -> None:
    async def main() -> tuple[str, str, int]:
        _locale.set("en")
        return await run_blocking(_where_and_what, 21)

    thread, locale, value = asyncio.run(main())
    assert thread.startswith("bcone-db-read")
    assert (locale, value) == ("en", 42)


def test_a_writing_unit_of_work_gets_the_writers_threads(db: Database) -> None:
    read, write = db.open_session(write=False), db.open_session(write=True)

    def thread_of(*, session: object) -> str:
        return threading.current_thread().name

    async def main() -> tuple[str, str]:
        return await run_blocking(thread_of, session=read), await run_blocking(thread_of, session=write)

    try:
        assert [name.rsplit("_", 1)[0] for name in asyncio.run(main())] == ["bcone-db-read", "bcone-db-write"]
    finally:
        read.close()
        write.close()


def test_errors_reach_the_caller() -> None:
    def fail() -> None:
        raise LookupError("nope")

    with pytest.raises(LookupError, match="nope"):
        asyncio.run(run_blocking(fail))


def test_a_cancelled_caller_waits_for_the_thread_to_finish() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.3)
        finished.set()

    async def main() -> bool:
        task = asyncio.create_task(run_blocking(slow))
        await asyncio.sleep(0.05)  # the thread is running now
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return finished.is_set()  # the work was done before the cancellation got through

    assert asyncio.run(main()) is True
