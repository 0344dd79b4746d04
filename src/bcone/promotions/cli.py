"""``bcone promotions ...``: campaigns and their live figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from bcone.core.errors import BconeError
from bcone.core.money import format_yuan
from bcone.core.pagination import PageParams
from bcone.core.runtime import open_database
from bcone.core.tenancy import bind_tenant, tenant_id_for_slug
from bcone.promotions import service

app = typer.Typer(
    no_args_is_help=True,
    help="Scan rewards: campaigns, prize pools, lottery, budgets, anti-fraud, BC rewards.",
)

Tenant = Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")]


@app.callback()
def promotions() -> None:
    """Scan rewards: campaigns, prize pools, lottery, budgets, anti-fraud, BC rewards."""


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
    except BconeError as exc:
        field = f" ({exc.field})" if exc.field else ""
        typer.secho(f"error: {exc.code}{field}: {exc.detail}", err=True, fg="red")
        raise typer.Exit(2) from None
    finally:
        db.dispose()


@app.command("list")
def list_campaigns(tenant: Tenant) -> None:
    """Campaigns with their status and budget."""
    with _tenant_session(tenant, write=False) as s:
        page = service.list_campaigns(PageParams(page_size=200), session=s)
    table = Table("id", "name", "status", "budget", "rebate/scan")
    for c in page.items:
        table.add_row(c.id, c.name, c.status, format_yuan(c.budget_fen), format_yuan(c.store_rebate_fen))
    Console().print(table)


@app.command("figures")
def figures(campaign_id: str, tenant: Tenant) -> None:
    """A campaign's live figures as JSON."""
    with _tenant_session(tenant, write=False) as s:
        out = service.figures(campaign_id, session=s)
    typer.echo(json.dumps(out.model_dump(mode="json"), ensure_ascii=False, indent=2))


@app.command("status")
def change_status(
    campaign_id: str,
    action: Annotated[str, typer.Argument(help="activate, pause or end")],
    tenant: Tenant,
) -> None:
    """Activate (funds the budget), pause or end a campaign."""
    if action not in ("activate", "pause", "end"):
        typer.secho("error: action must be activate, pause or end", err=True, fg="red")
        raise typer.Exit(2)
    with _tenant_session(tenant, write=True) as s:
        out = service.change_status(campaign_id, action, session=s)
    typer.echo(f"{out.name}: {out.status}")
