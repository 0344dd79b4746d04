"""The ``bcone`` command: set-up, serving, and every domain's sub-commands."""

from __future__ import annotations

from typing import Annotated

import typer

import bcone.models  # noqa: F401  (every table and job handler registered)
from bcone.analytics.cli import app as analytics_app
from bcone.catalog.cli import app as catalog_app
from bcone.cdp.cli import app as cdp_app
from bcone.codes.cli import app as codes_app
from bcone.core.cli import events_app, warehouse_app, worker
from bcone.core.runtime import open_database
from bcone.core.settings import get_settings
from bcone.crm.cli import app as crm_app
from bcone.demo.cli import demo
from bcone.iam.cli import tenant_app, user_app
from bcone.ledger.cli import app as ledger_app
from bcone.migrate import upgrade_to_head
from bcone.network.cli import app as network_app
from bcone.promotions.cli import app as promotions_app
from bcone.store import order_jobs as _store_order_jobs  # noqa: F401  (registers the order expiry job)
from bcone.store.cli import app as store_app

app = typer.Typer(
    name="bcone",
    no_args_is_help=True,
    help="bcone: marketing digitalization for brands, their channel partners and consumers (F2B2C).",
)
app.add_typer(tenant_app, name="tenant", help="Create and list tenants (brands).")
app.add_typer(user_app, name="user", help="Create users of a tenant, or the platform operator.")
app.add_typer(
    network_app, name="network", help="The channel network: distributors, wholesalers, stores, staff."
)
app.add_typer(catalog_app, name="catalog", help="Products and SKUs (GTIN).")
app.add_typer(codes_app, name="codes", help="Unit codes: batches, printer export, QR images, checks.")
app.add_typer(promotions_app, name="promotions", help="Scan promotions: campaigns, prize pools, budgets.")
app.add_typer(ledger_app, name="ledger", help="Ledger accounts, balances and payout batches.")
app.add_typer(cdp_app, name="cdp", help="Customer data: event import, identities, profiles, segments.")
app.add_typer(analytics_app, name="analytics", help="Analytics: RFM, lifetime value, retention, funnels.")
app.add_typer(crm_app, name="crm", help="Sales CRM: accounts, opportunities, scorecards, win model.")
app.add_typer(
    store_app, name="store", help="Cloud stores: storefronts, share links, commissions, orders, stock."
)
app.add_typer(events_app, name="events", help="The event outbox and its flush to the warehouse.")
app.add_typer(warehouse_app, name="warehouse", help="Query the analytics warehouse.")
app.command(help="Run a background job worker (several may run at once on PostgreSQL).")(worker)
app.command(help="Load the demo brand (seeded, deterministic) and serve the console.")(demo)


@app.command()
def init() -> None:
    """Create or upgrade the database schema (Alembic) and the warehouse tables."""
    from bcone.core.warehouse import open_warehouse

    settings = get_settings()
    db = open_database(settings)
    upgrade_to_head(db.engine)
    with open_warehouse(settings) as wh:
        wh.ensure_schema()
    typer.echo(f"database ready: {db.engine.url.render_as_string(hide_password=True)}")
    typer.echo(f"warehouse ready: {settings.effective_warehouse_url}")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default BCONE_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default BCONE_PORT, 8000).")] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Worker processes; each has its own socket (SO_REUSEPORT) on the port."),
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve the console and the API (``/docs`` lists every endpoint)."""
    from bcone.core.serving import serve as serve_app

    settings = get_settings()
    serve_app(
        "bcone.app:create_app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        access_log=access_log,
    )


if __name__ == "__main__":
    app()
