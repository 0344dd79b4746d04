"""Errors of the analytics domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import Forbidden, ValidationFailed


class InvalidRange(ValidationFailed):
    code = "analytics_invalid_range"
    title = "The date range is empty or too long"


class UnknownEventType(ValidationFailed):
    code = "analytics_unknown_event_type"
    title = "Unknown event type"


class InvalidWindow(ValidationFailed):
    code = "analytics_invalid_window"
    title = "The conversion window must be positive"


class UnknownBreakdown(ValidationFailed):
    code = "analytics_unknown_breakdown"
    title = "Unknown breakdown field"


class InvalidFunnel(ValidationFailed):
    code = "analytics_invalid_funnel"
    title = "A funnel needs between two and eight steps"


class InvalidParameter(ValidationFailed):
    code = "analytics_invalid_parameter"
    title = "Invalid analytics parameter"


class NotEnoughData(ValidationFailed):
    code = "analytics_not_enough_data"
    title = "Not enough purchase history to fit the model"


class BrandUserRequired(Forbidden):
    code = "analytics_brand_user_required"
    title = "Analytics is for the brand's own users"
