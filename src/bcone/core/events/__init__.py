"""The outbox: services append events in their own transaction; a flusher moves them to the warehouse.

``append_event`` / ``append_events`` (:mod:`.outbox`) write events in the caller's transaction;
``flush_outbox`` (:mod:`.flush`) moves them to the warehouse in batches, exactly once, and runs
as the job ``events.flush``. See ``docs/events.md``.
"""

from __future__ import annotations

from bcone.core.events.flush import (
    WAREHOUSE_HOLD_SECONDS,
    FlushResult,
    OutboxStats,
    flush_job,
    flush_outbox,
    outbox_stats,
)
from bcone.core.events.outbox import (
    EVENT_TYPE_PATTERN,
    REGION_PATTERN,
    Event,
    Identity,
    append_event,
    append_events,
    outbox,
)

__all__ = [
    "EVENT_TYPE_PATTERN",
    "REGION_PATTERN",
    "WAREHOUSE_HOLD_SECONDS",
    "Event",
    "FlushResult",
    "Identity",
    "OutboxStats",
    "append_event",
    "append_events",
    "flush_job",
    "flush_outbox",
    "outbox",
    "outbox_stats",
]
