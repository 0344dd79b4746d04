"""Sales CRM: accounts and tiers, opportunities, iron triangle, scorecards, win model, forecast, bonuses, visits."""
