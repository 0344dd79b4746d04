"""``bcone promotions ...`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="Scan rewards: campaigns, prize pools, lottery, budgets, anti-fraud, BC rewards.",
)


@app.callback()
def promotions() -> None:
    """Scan rewards: campaigns, prize pools, lottery, budgets, anti-fraud, BC rewards."""
