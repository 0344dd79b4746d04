"""``bcone store ...`` commands."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="Cloud stores: storefronts, share links and commissions, orders, stock, payments, fulfilment.",
)


@app.callback()
def store() -> None:
    """Cloud stores: storefronts, share links and commissions, orders, stock, payments, fulfilment."""


# --- storefronts, pricing, sharing, commissions ----------------------------------------------


@app.command("settle-commissions")
def settle_commissions(
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")],
) -> None:
    """Settle the commissions whose order is completed and whose return window has passed."""
    from bcone.core.errors import BconeError
    from bcone.core.runtime import open_database
    from bcone.core.tenancy import bind_tenant, tenant_id_for_slug
    from bcone.store import service

    db = open_database()
    try:
        with db.session() as session:
            tenant_id = tenant_id_for_slug(session, tenant)
            if tenant_id is None:
                typer.echo(f"error: no tenant {tenant!r} (see `bcone tenant list`)", err=True)
                raise typer.Exit(2)
            bind_tenant(session, tenant_id)
            settled = service.settle_due_commissions(session=session)
    except BconeError as exc:
        typer.echo(f"error: {exc.code}: {exc.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(f"settled {settled} commission(s)")
