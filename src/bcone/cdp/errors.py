"""Errors of the cdp domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import BconeError, Conflict, NotFound, ValidationFailed


class UnknownNamespace(ValidationFailed):
    code = "unknown_namespace"
    title = "Unknown identifier namespace"


class InvalidIdentifier(ValidationFailed):
    code = "invalid_identifier"
    title = "Invalid identifier"


class UnknownEventType(ValidationFailed):
    code = "unknown_event_type"
    title = "Unknown event type"


class EventsRejected(ValidationFailed):
    code = "events_rejected"
    title = "Every event of the batch was rejected"


class BatchTooLarge(BconeError):
    code = "batch_too_large"
    status = 413
    title = "Too many events in one call"


class ProfileNotFound(NotFound):
    code = "profile_not_found"
    title = "No such profile"


class LinkNotFound(NotFound):
    code = "link_not_found"
    title = "No such identity link"


class LinkAlreadyRemoved(Conflict):
    code = "link_already_removed"
    title = "This link was already removed"


class UnknownPlatform(ValidationFailed):
    code = "unknown_platform"
    title = "Unknown platform export"


class InvalidRule(ValidationFailed):
    code = "invalid_rule"
    title = "Invalid segment rule"


class SegmentNotFound(NotFound):
    code = "segment_not_found"
    title = "No such segment"


class TagNotFound(NotFound):
    code = "tag_not_found"
    title = "No such tag"


class DuplicateName(Conflict):
    code = "duplicate_name"
    title = "The name is already taken"


class DeletionNotFound(NotFound):
    code = "deletion_not_found"
    title = "No such deletion request"
