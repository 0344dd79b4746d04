"""Errors of the crm domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import Conflict, NotFound, ValidationFailed


class AccountNotFound(NotFound):
    code = "account_not_found"
    title = "Account not found"


class ContactNotFound(NotFound):
    code = "contact_not_found"
    title = "Contact not found"


class OpportunityNotFound(NotFound):
    code = "opportunity_not_found"
    title = "Opportunity not found"


class SalesTeamNotFound(NotFound):
    code = "sales_team_not_found"
    title = "Sales team not found"


class ModelNotFound(NotFound):
    code = "win_model_not_found"
    title = "No win-rate model trained yet"


class DuplicateAccount(Conflict):
    code = "duplicate_account"
    title = "Account name already in use"


class DuplicateSalesTeam(Conflict):
    code = "duplicate_sales_team"
    title = "Sales team name already in use"


class UnknownStage(ValidationFailed):
    code = "unknown_stage"
    title = "Unknown stage"


class ScorecardItemsMissing(ValidationFailed):
    """The stage asked for needs scorecard items the latest assessment lacks."""

    code = "scorecard_items_missing"
    title = "Required scorecard items are missing"


class OpportunityClosed(Conflict):
    code = "opportunity_closed"
    title = "The opportunity is closed"


class InvalidScorecard(ValidationFailed):
    code = "invalid_scorecard"
    title = "Invalid scorecard"


class UnknownUser(ValidationFailed):
    code = "unknown_user"
    title = "Unknown user"


class UnknownOrganization(ValidationFailed):
    code = "unknown_organization"
    title = "Unknown network organisation"
