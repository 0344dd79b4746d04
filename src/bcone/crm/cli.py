"""``bcone crm ...`` commands: generate a realistic pipeline, train the win-rate model, show it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from bcone.core.errors import BconeError
from bcone.core.runtime import open_database
from bcone.core.tenancy import bind_tenant, tenant_id_for_slug
from bcone.crm import service

app = typer.Typer(
    no_args_is_help=True,
    help="Sales CRM: accounts and tiers, opportunities, iron triangle, scorecards, win model, forecast, bonuses, visits.",
)

TenantOpt = Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")]


@app.callback()
def crm() -> None:
    """Sales CRM: accounts and tiers, opportunities, iron triangle, scorecards, win model, forecast, bonuses, visits."""


def _in_tenant(slug: str, fn: Callable[[Session], Any]) -> Any:
    db = open_database()
    try:
        with db.session() as session:
            tenant_id = tenant_id_for_slug(session, slug)
            if tenant_id is None:
                typer.secho(f"error: no tenant {slug!r} (see `bcone tenant list`)", err=True, fg="red")
                raise typer.Exit(2)
            bind_tenant(session, tenant_id)
            return fn(session)
    except BconeError as exc:
        typer.secho(f"error: {exc.code}: {exc.detail}", err=True, fg="red")
        raise typer.Exit(2) from exc
    finally:
        db.dispose()


@app.command("generate")
def generate(
    tenant: TenantOpt,
    closed: Annotated[int, typer.Option(min=0, help="Closed (won or lost) opportunities.")] = 2000,
    open_count: Annotated[int, typer.Option("--open", min=0, help="Open opportunities.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 0,
) -> None:
    """Write a realistic generated pipeline (accounts, teams, opportunities, assessments)."""
    out = _in_tenant(
        tenant,
        lambda s: service.generate_pipeline(session=s, closed=closed, open_count=open_count, seed=seed),
    )
    typer.echo(json.dumps(out))


@app.command("train")
def train(
    tenant: TenantOpt,
    min_closed: Annotated[
        int, typer.Option(min=20, help="Fewer closed opportunities: stage priors.")
    ] = service.MIN_CLOSED,
) -> None:
    """Train, calibrate and store a new win-rate model version now (without the job queue)."""
    out = _in_tenant(tenant, lambda s: service.train_win_model(session=s, min_closed=min_closed))
    if out is None:
        typer.echo("not enough closed opportunities: probabilities stay the stage priors")
        raise typer.Exit(1)
    m = out.metrics
    typer.echo(
        f"model v{out.version}: {out.n_closed} closed, {out.seconds}s; held-out AUC {m['calibrated']['auc']}, "
        f"Brier {m['calibrated']['brier']}, ECE {m['raw']['ece']} -> {m['calibrated']['ece']}"
    )


@app.command("model")
def model(tenant: TenantOpt) -> None:
    """Show the model in use (or why stage priors are used) as JSON."""
    out = _in_tenant(tenant, lambda s: service.model_status(session=s))
    typer.echo(out.model_dump_json(indent=2))


@app.command("tier")
def tier(tenant: TenantOpt) -> None:
    """Score every account with the tier model, assign tiers and generate the period's growth tasks."""
    out = _in_tenant(tenant, lambda s: service.run_tiering(session=s))
    typer.echo(
        f"tier model v{out.model_version}: {out.accounts} accounts, {out.changed} changed "
        f"(A {out.by_tier['A']}, B {out.by_tier['B']}, C {out.by_tier['C']}); "
        f"{out.tasks_created} growth tasks created"
    )
