"""``bcone analytics ...`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="Analytics: operating dashboard, funnels, retention, RFM, lifetime value, NPS, attribution.",
)


@app.callback()
def analytics() -> None:
    """Analytics: operating dashboard, funnels, retention, RFM, lifetime value, NPS, attribution."""
