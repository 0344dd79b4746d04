"""Per-process caches of the scan's hot reads: active campaigns and the block list.

Entries live ``TTL_SECONDS``; a change made in this process (a campaign changed, a block added
or removed) drops its tenant's entries at once, a change made by another process is seen when
they expire. The cache machinery is the codes domain's (``codes.service.TtlCache``).
"""

from __future__ import annotations

from bcone.codes.service import TtlCache, database_key
from bcone.promotions.schemas import CampaignOut

TTL_SECONDS = 2.0

# (database, tenant) -> the active campaigns, oldest first
campaigns: TtlCache[list[CampaignOut]] = TtlCache(TTL_SECONDS)
# (database, tenant) -> the blocked (kind, value) pairs
blocks: TtlCache[frozenset[tuple[str, str]]] = TtlCache(TTL_SECONDS)


def forget(tenant_id: str) -> None:
    """Something of ``tenant_id``'s campaigns or blocks changed in this process."""
    for cache in (campaigns, blocks):
        cache.drop(lambda key: isinstance(key, tuple) and key[1] == tenant_id)


__all__ = ["TTL_SECONDS", "blocks", "campaigns", "database_key", "forget"]
