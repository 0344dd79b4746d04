"""Scan rewards: campaigns, prize pools, lottery, budgets, anti-fraud, BC rewards."""
