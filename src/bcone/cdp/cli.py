"""``bcone cdp ...`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="Customer data platform: events in, identities, profiles, traits, tags, segments, consent.",
)


@app.callback()
def cdp() -> None:
    """Customer data platform: events in, identities, profiles, traits, tags, segments, consent."""
