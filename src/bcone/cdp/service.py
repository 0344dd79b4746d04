"""The cdp domain's behaviour: the only entry other domains may call.

Events come in (:func:`ingest_events`), their identifiers are resolved to profiles (the identity
graph of :mod:`bcone.cdp.graph`) and they go to the outbox in the same transaction. Every
function takes the unit of work as ``session=`` and returns :mod:`bcone.cdp.schemas` contracts.
"""

from __future__ import annotations

from bcone.cdp._imports import ImportLineError, ImportSummary, import_events_file
from bcone.cdp._ingest import MAX_BATCH, ingest_events, validate_event
from bcone.cdp._profiles import (
    REBUILD_JOB,
    enqueue_rebuild,
    get_profile,
    get_settings_out,
    linked_organizations,
    list_audit,
    list_profiles,
    list_quarantined,
    profile_count,
    profile_events,
    rebuild_profiles,
    unlink_link,
    update_settings,
)
from bcone.cdp.events import EVENT_TYPES
from bcone.cdp.identifiers import NAMESPACE_BASES, identity_key, normalise

__all__ = [
    "EVENT_TYPES",
    "MAX_BATCH",
    "NAMESPACE_BASES",
    "REBUILD_JOB",
    "ImportLineError",
    "ImportSummary",
    "enqueue_rebuild",
    "get_profile",
    "get_settings_out",
    "identity_key",
    "import_events_file",
    "ingest_events",
    "linked_organizations",
    "list_audit",
    "list_profiles",
    "list_quarantined",
    "normalise",
    "profile_count",
    "profile_events",
    "rebuild_profiles",
    "unlink_link",
    "update_settings",
    "validate_event",
]
