"""Short-lived per-process caches of what every scan reads and almost never changes.

A scan must not re-read the tenants of a GTIN, its batch, its SKU and the tenant's warning
threshold from the database each time: those reads were most of a check's statements. They are
cached here for a few seconds. A change made in this process (a batch created or voided, the
settings saved) drops the entries it touches at once; a change made by another process is seen
when the entry expires (``TTL_SECONDS``). Voiding a batch therefore takes effect everywhere
within ``TTL_SECONDS``, which the docs state.

Entries are keyed by the database's URL as well as the tenant, so two databases served by one
process (the test suite runs every test on SQLite and PostgreSQL) never share an entry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

V = TypeVar("V")

TTL_SECONDS = 2.0
# Entries beyond this are dropped oldest first (a flood of distinct GTINs must not grow memory).
MAX_ENTRIES = 50_000


class TtlCache(Generic[V]):
    """A dictionary whose entries expire ``ttl`` seconds after they were loaded."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        hit = self._data.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        with self._lock:
            if len(self._data) >= self.max_entries:
                for old in list(self._data)[: self.max_entries // 10 or 1]:
                    self._data.pop(old, None)
            self._data[key] = (now + self.ttl, value)
        return value

    def drop(self, predicate: Callable[[Hashable], bool] | None = None) -> None:
        """Forget every entry (or those whose key matches ``predicate``)."""
        with self._lock:
            if predicate is None:
                self._data.clear()
            else:
                for key in [k for k in self._data if predicate(k)]:
                    del self._data[key]


def database_key(session: Session) -> str:
    """Which database a session works on (its URL, password hidden), for cache keys."""
    bind = session.get_bind()
    key = bind.__dict__.get("_bcone_cache_key")
    if key is None:
        engine = bind if isinstance(bind, Engine) else bind.engine
        key = engine.url.render_as_string(hide_password=True)
        bind.__dict__["_bcone_cache_key"] = key
    return str(key)


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """What a scan needs of its batch (a snapshot; ``status`` may be ``TTL_SECONDS`` old)."""

    id: str
    tenant_id: str
    sku_id: str
    sku_code: str
    gtin: str
    level: str
    lot: str
    production_date: date | None
    expiry_date: date | None
    regions: tuple[str, ...]
    status: str


# (database, gtin) -> the tenants with a batch of that GTIN
gtin_tenants: TtlCache[tuple[str, ...]] = TtlCache()
# (database, tenant, batch id) -> BatchInfo
batches: TtlCache[BatchInfo] = TtlCache()
# (database, tenant, sku id) -> the product shown on the scan page (or None)
products: TtlCache[object] = TtlCache(ttl=30.0)
# (database, tenant) -> the tenant's warning threshold
thresholds: TtlCache[int] = TtlCache()
# (database, tenant) -> the scan page's settings (WeChat app, survey link)
page_settings: TtlCache[Any] = TtlCache()


def forget_batches() -> None:
    """A batch was created or voided in this process: re-read GTINs and batches on next scan."""
    gtin_tenants.drop()
    batches.drop()


def forget_settings(tenant_id: str) -> None:
    for cache in (thresholds, page_settings):
        cache.drop(lambda key: isinstance(key, tuple) and key[1] == tenant_id)
