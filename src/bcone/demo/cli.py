"""``bcone demo``: migrate, load the demo brand, print the login and serve the console."""

from __future__ import annotations

from typing import Annotated

import typer

from bcone.core.runtime import open_database
from bcone.core.settings import get_settings
from bcone.core.warehouse import open_warehouse
from bcone.demo.service import load_demo
from bcone.migrate import upgrade_to_head


def demo(
    scale: Annotated[
        float, typer.Option(min=0.01, help="Multiply stores, staff and events (1 = 2,000 stores, 50 reps).")
    ] = 1.0,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed and scale give the same brand.")
    ] = 2026,
    serve: Annotated[bool, typer.Option(help="Serve the console after loading (--no-serve to stop).")] = True,
    history_consumers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Consumers in the two-year analytics history written straight to the warehouse "
            "(default 40,000 x scale; 1,000,000 gives about 8 million events). On an existing demo, adds it.",
        ),
    ] = None,
) -> None:
    """Create the database, load the demo brand (清泉饮品) and serve the console."""
    settings = get_settings()
    db = open_database(settings)
    upgrade_to_head(db.engine)
    with open_warehouse(settings) as warehouse:
        warehouse.ensure_schema()
    summary = load_demo(
        db,
        settings,
        seed=seed,
        scale=scale,
        progress=lambda msg: typer.echo(f"  {msg}"),
        history_consumers=history_consumers,
    )
    if not summary.created and history_consumers:
        from bcone.demo._scale import add_history_to_demo

        added = add_history_to_demo(db, settings, consumers=history_consumers, seed=seed, scale=scale)
        typer.echo(f"  history: {added:,} new events for {history_consumers:,} consumers")
    db.dispose()
    url = f"http://{settings.host}:{settings.port}"
    typer.echo("")
    typer.echo(f"bcone demo brand: {summary.tenant_name} (tenant '{summary.tenant_slug}')")
    if summary.created:
        typer.echo(
            f"  {summary.organizations} organisations, {summary.staff} staff, {summary.skus} SKUs, "
            f"{summary.events} events, loaded in {summary.seconds:.1f} s"
        )
        typer.echo(
            f"  {summary.batches} code batches, a running scan campaign with {summary.scans} scans "
            f"({summary.alerts} diversion alerts), {summary.opportunities} CRM opportunities"
        )
    typer.echo(f"  console:  {url}/login")
    typer.echo(f"  owner:    {summary.owner_email} / {summary.password}")
    typer.echo(f"  partner:  {summary.partner_email} / {summary.password}  (sees one distributor's network)")
    typer.echo(f"  API docs: {url}/docs")
    if serve:
        import uvicorn

        uvicorn.run(
            "bcone.app:create_app", factory=True, host=settings.host, port=settings.port, log_level="info"
        )
