"""``bcone ledger ...`` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True, help="Double-entry accounts for money (fen) and points: budgets, wallets, payouts."
)


@app.callback()
def ledger() -> None:
    """Double-entry accounts for money (fen) and points: budgets, wallets, payouts."""
