"""``bcone codes ...`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="One item, one code: batches, serials, GS1 Digital Link, QR, packing, shipping, authenticity, diversion.",
)


@app.callback()
def codes() -> None:
    """One item, one code: batches, serials, GS1 Digital Link, QR, packing, shipping, authenticity, diversion."""
