"""``bcone crm ...`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="Sales CRM: accounts and tiers, opportunities, iron triangle, scorecards, win model, forecast, bonuses, visits.",
)


@app.callback()
def crm() -> None:
    """Sales CRM: accounts and tiers, opportunities, iron triangle, scorecards, win model, forecast, bonuses, visits."""
