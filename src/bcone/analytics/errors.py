"""Errors of the analytics domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import BconeError, Forbidden, ValidationFailed


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


class InvalidScore(ValidationFailed):
    code = "analytics_invalid_score"
    title = "An NPS score is a whole number from 0 to 10"


class SurveyNotFound(BconeError):
    code = "analytics_survey_not_found"
    status = 404
    title = "No such survey"


class SurveyClosed(BconeError):
    code = "analytics_survey_closed"
    status = 409
    title = "The survey no longer takes answers"
