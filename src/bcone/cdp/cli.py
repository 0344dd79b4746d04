"""``bcone cdp ...``: import consumer events from files, rebuild profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from bcone.cdp import service
from bcone.core.db import Database
from bcone.core.errors import BconeError
from bcone.core.runtime import open_database
from bcone.core.settings import get_settings
from bcone.core.tenancy import tenant_id_for_slug
from bcone.core.warehouse import open_warehouse

app = typer.Typer(
    no_args_is_help=True,
    help="Customer data platform: events in, identities, profiles, traits, tags, segments, consent.",
)


@app.callback()
def cdp() -> None:
    """Customer data platform: events in, identities, profiles, traits, tags, segments, consent."""


def _tenant(db: Database, slug: str) -> str:
    with db.session(write=False) as session:
        tenant_id = tenant_id_for_slug(session, slug)
    if tenant_id is None:
        typer.secho(f"error: no tenant {slug!r} (see `bcone tenant list`)", err=True, fg="red")
        raise typer.Exit(2)
    return tenant_id


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="JSON lines (one event per line) or .csv (see docs/cdp.md).")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")],
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Import events through the same validation and identity resolution as the API.

    Prints a summary and every bad line (line number, field, message); exits 1 when lines were
    rejected, 2 when the file or the tenant was refused.
    """
    if not file.is_file():
        typer.secho(f"error: cannot read {file}", err=True, fg="red")
        raise typer.Exit(2)
    settings = get_settings()
    db = open_database(settings)
    try:
        tenant_id = _tenant(db, tenant)
        with Progress(
            TextColumn("[bold]importing[/bold] {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            disable=quiet,
            transient=False,
        ) as bar:
            task = bar.add_task(file.name, total=file.stat().st_size)
            summary = service.import_events_file(
                db,
                file,
                tenant_id=tenant_id,
                secret_key=settings.secret_key,
                progress=lambda n: bar.advance(task, n),
            )
    except BconeError as exc:
        typer.secho(f"error: {exc.code}: {exc.detail}", err=True, fg="red")
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    rate = summary.accepted / summary.seconds if summary.seconds else 0.0
    typer.echo(
        f"lines: {summary.lines}  accepted: {summary.accepted}  rejected: {summary.rejected}  "
        f"{summary.seconds} s, {rate:,.0f} events/s"
    )
    for e in summary.errors:
        where = f", {e.field}" if e.field else ""
        typer.echo(f"line {e.line}{where}: {e.message} [{e.code}]")
    if summary.rejected > len(summary.errors):
        typer.echo(f"... and {summary.rejected - len(summary.errors)} more")
    if summary.rejected:
        raise typer.Exit(1)


@app.command("rebuild")
def rebuild(tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug.")]) -> None:
    """Recompute every profile of the tenant from all identity links; prints what changed as JSON."""
    db = open_database()
    try:
        tenant_id = _tenant(db, tenant)
        with db.session(tenant_id=tenant_id) as session:
            result = service.rebuild_profiles(session=session, actor="cli")
    finally:
        db.dispose()
    typer.echo(json.dumps(result.model_dump()))


@app.command("connect")
def connect(
    platform: Annotated[str, typer.Argument(help="tmall, jd, douyin, wechat, youzan or pos.")],
    file: Annotated[
        Path, typer.Argument(help="The platform's CSV export (UTF-8 or GBK), see docs/connectors.md.")
    ],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")],
    kind: Annotated[str, typer.Option("--kind", help="orders or customers.")] = "orders",
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Import a platform's order or customer export: orders become order.paid events, customers
    profile.identified events; phones are hashed and masked, addresses become division codes.

    Prints a summary and every bad row (row number, column, message); exits 1 when rows were
    rejected, 2 when the platform, the file or the tenant was refused.
    """
    if platform not in service.PLATFORMS or kind not in ("orders", "customers"):
        typer.secho(
            f"error: unknown platform {platform!r} or kind {kind!r} "
            f"(platforms: {', '.join(service.PLATFORMS)}; kinds: orders, customers)",
            err=True,
            fg="red",
        )
        raise typer.Exit(2)
    if not file.is_file():
        typer.secho(f"error: cannot read {file}", err=True, fg="red")
        raise typer.Exit(2)
    settings = get_settings()
    db = open_database(settings)
    try:
        tenant_id = _tenant(db, tenant)
        with Progress(
            TextColumn("[bold]importing[/bold] {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            disable=quiet,
            transient=False,
        ) as bar:
            task = bar.add_task(f"{platform} {file.name}", total=None)

            def advance(n: int) -> None:
                bar.advance(task, n)

            summary = service.import_platform_file(
                db,
                file,
                platform,
                tenant_id=tenant_id,
                secret_key=settings.secret_key,
                kind=kind,  # type: ignore[arg-type]
                progress=advance,
            )
    except BconeError as exc:
        typer.secho(f"error: {exc.code}: {exc.detail}", err=True, fg="red")
        raise typer.Exit(2) from exc
    finally:
        db.dispose()
    typer.echo(
        f"rows: {summary.lines}  accepted: {summary.accepted}  rejected: {summary.rejected}  "
        f"skipped (not paid): {summary.skipped}  {summary.seconds} s"
    )
    for e in summary.errors:
        where = f", {e.field}" if e.field else ""
        typer.echo(f"row {e.line}{where}: {e.message} [{e.code}]")
    if summary.rejected > len(summary.errors):
        typer.echo(f"... and {summary.rejected - len(summary.errors)} more")
    if summary.rejected:
        raise typer.Exit(1)


@app.command("traits")
def traits(tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug.")]) -> None:
    """Refresh every profile's computed traits from the warehouse now; prints JSON."""
    settings = get_settings()
    db = open_database(settings)
    try:
        tenant_id = _tenant(db, tenant)
        with open_warehouse(settings) as wh, db.session(tenant_id=tenant_id) as session:
            result = service.refresh_traits(session=session, warehouse=wh)
    finally:
        db.dispose()
    typer.echo(json.dumps(result))


@app.command("tags")
def tags(tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug.")]) -> None:
    """Evaluate every rule tag now (set and clear it on the profiles); prints JSON."""
    settings = get_settings()
    db = open_database(settings)
    try:
        tenant_id = _tenant(db, tenant)
        with open_warehouse(settings) as wh, db.session(tenant_id=tenant_id) as session:
            result = service.refresh_rule_tags(session=session, warehouse=wh)
    finally:
        db.dispose()
    typer.echo(json.dumps(result, ensure_ascii=False))
