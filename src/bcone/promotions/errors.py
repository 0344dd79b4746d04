"""Errors of the promotions domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import Conflict, NotFound, ValidationFailed


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    title = "Campaign not found"


class BlockNotFound(NotFound):
    code = "block_not_found"
    title = "Block not found"


class InvalidCampaign(ValidationFailed):
    code = "invalid_campaign"
    title = "Invalid campaign"


class CampaignNameTaken(Conflict):
    code = "campaign_name_taken"
    title = "A campaign with this name exists"


class CampaignStateConflict(Conflict):
    code = "campaign_state_conflict"
    title = "The campaign cannot make this change in its current status"
