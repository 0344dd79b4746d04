"""``bcone ledger ...``: balances by account kind and the CSV export of a payout batch."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from bcone.core.errors import BconeError
from bcone.core.money import format_yuan
from bcone.core.runtime import open_database
from bcone.core.tenancy import bind_tenant, tenant_id_for_slug
from bcone.ledger import jobs as _jobs  # noqa: F401  (registers the payout job for `bcone worker`)
from bcone.ledger import service

app = typer.Typer(
    no_args_is_help=True, help="Double-entry accounts for money (fen) and points: budgets, wallets, payouts."
)
payouts_app = typer.Typer(no_args_is_help=True, help="Payout batches.")
app.add_typer(payouts_app, name="payouts")

Tenant = Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")]


@app.callback()
def ledger() -> None:
    """Double-entry accounts for money (fen) and points: budgets, wallets, payouts."""


@payouts_app.callback()
def payouts() -> None:
    """Payout batches."""


@contextmanager
def _tenant_session(slug: str, *, write: bool) -> Iterator[Session]:
    db = open_database()
    try:
        with db.session(write=write) as session:
            tenant_id = tenant_id_for_slug(session, slug)
            if tenant_id is None:
                typer.secho(f"error: no tenant {slug!r} (see `bcone tenant list`)", err=True, fg="red")
                raise typer.Exit(2)
            bind_tenant(session, tenant_id)
            yield session
    finally:
        db.dispose()


def _run(fn: Callable[[], None]) -> None:
    try:
        fn()
    except BconeError as exc:
        typer.secho(f"error: {exc.code}: {exc.detail}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


@app.command("balances")
def balances(
    tenant: Tenant,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Accounts and total balance per account kind and unit (money in yuan, points as counts)."""
    with _tenant_session(tenant, write=False) as session:
        rows = service.balances_by_kind(session=session)
        totals = service.totals_by_unit(session=session)
    if as_json:
        typer.echo(json.dumps({"balances": [r.model_dump() for r in rows], "totals": totals}))
        return
    table = Table(title=f"Ledger balances · {tenant}")
    for column in ("kind", "unit", "accounts", "balance"):
        table.add_column(column, justify="right" if column in ("accounts", "balance") else "left")
    for r in rows:
        shown = format_yuan(r.balance) if r.unit == "fen" else f"{r.balance:,}"
        table.add_row(r.kind, r.unit, f"{r.accounts:,}", shown)
    Console().print(table)
    typer.echo("sum per unit (always 0): " + ", ".join(f"{u}={v}" for u, v in sorted(totals.items())))


@payouts_app.command("export")
def export(
    batch_id: Annotated[str, typer.Argument(help="The payout batch id.")],
    tenant: Tenant,
    out: Annotated[Path, typer.Option("--out", help="Where to write the CSV.")],
) -> None:
    """Write a payout batch as CSV for finance (line id, payee, account, amount in yuan, status)."""

    def _export() -> None:
        with _tenant_session(tenant, write=False) as session:
            data = service.export_batch_csv(batch_id, session=session)
        out.write_bytes(data)
        lines = data.count(b"\n") - 1
        typer.echo(f"wrote {out} ({lines} lines)")

    _run(_export)
