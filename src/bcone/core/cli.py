"""Platform commands: ``events``, ``warehouse`` and ``worker``."""

from __future__ import annotations

import typer

events_app = typer.Typer(no_args_is_help=True, help="The event outbox.")
warehouse_app = typer.Typer(no_args_is_help=True, help="The analytics warehouse (DuckDB or ClickHouse).")


def worker(
    once: bool = typer.Option(False, "--once", help="Run the jobs that are due now, then exit."),
    poll_seconds: float = typer.Option(1.0, "--poll-seconds", min=0.05, help="Idle wait between polls."),
    concurrency: int = typer.Option(1, "--concurrency", min=1, help="Jobs run at the same time (threads)."),
) -> None:
    """Run a background job worker until stopped (Ctrl-C or SIGTERM finish the jobs in progress)."""
    from bcone.core.jobs import registered_jobs
    from bcone.core.runtime import open_database
    from bcone.core.worker import Worker

    db = open_database()
    try:
        runner = Worker(db, poll_seconds=poll_seconds, concurrency=concurrency)
        if once:
            typer.echo(f"ran {runner.drain()} job(s)")
            return
        typer.echo(
            f"worker {runner.name}: {concurrency} thread(s), jobs: {', '.join(registered_jobs()) or '-'}"
        )
        runner.run()
        typer.echo(f"stopped after {runner.jobs_run} job(s)")
    finally:
        db.dispose()


# --- events and warehouse -----------------------------------------------------------------------

QUERY_FORMATS = ("table", "csv", "json")


def _fail(error: Exception) -> typer.Exit:
    from bcone.core.errors import BconeError

    if isinstance(error, BconeError):
        field = f" [{error.field}]" if error.field else ""
        typer.secho(f"error: {error.code}{field}: {error.detail}", err=True, fg=typer.colors.RED)
    else:
        typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


@events_app.command("flush")
def events_flush(
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Events per batch (default BCONE_OUTBOX_BATCH_SIZE)."
    ),
    max_batches: int | None = typer.Option(
        None, "--max-batches", min=1, help="Stop after this many batches (default: until empty)."
    ),
) -> None:
    """Move the event outbox to the warehouse now, oldest events first."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from bcone.core.errors import BconeError
    from bcone.core.events import flush_outbox, outbox_stats
    from bcone.core.runtime import open_database
    from bcone.core.settings import get_settings
    from bcone.core.warehouse import open_warehouse

    settings = get_settings()
    db = open_database(settings)
    console = Console(stderr=True)
    try:
        backlog = outbox_stats(db, top_types=0).backlog
        size = batch_size or settings.outbox_batch_size
        total = backlog if max_batches is None else min(backlog, size * max_batches)
        columns = (TextColumn("flushing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with (
            open_warehouse(settings) as warehouse,
            Progress(*columns, console=console, disable=not console.is_terminal, transient=True) as bar,
        ):
            task = bar.add_task("flush", total=total)
            result = flush_outbox(
                db,
                warehouse,
                batch_size=size,
                max_batches=max_batches,
                on_batch=lambda count: bar.advance(task, count),
            )
    except BconeError as exc:
        raise _fail(exc) from exc
    finally:
        db.dispose()
    typer.echo(
        f"moved {result.events} events in {result.batches} batch(es), "
        f"{result.seconds:.2f}s, {result.events_per_second:,.0f} events/s"
    )


@events_app.command("stats")
def events_stats(
    top: int = typer.Option(10, "--top", min=0, help="How many of the commonest event types to list."),
) -> None:
    """Show the outbox backlog: events waiting for the warehouse, their time span and types."""
    from bcone.core.events import outbox_stats
    from bcone.core.runtime import open_database

    db = open_database()
    try:
        stats = outbox_stats(db, top_types=top)
    finally:
        db.dispose()
    typer.echo(f"backlog: {stats.backlog} events")
    if stats.oldest is not None and stats.newest is not None:
        typer.echo(f"oldest: {stats.oldest.isoformat()}")
        typer.echo(f"newest: {stats.newest.isoformat()}")
    for event_type, count in stats.by_type:
        typer.echo(f"  {event_type}\t{count}")


@warehouse_app.command("query")
def warehouse_query(
    sql: str = typer.Argument(..., help="One SELECT, WITH, DESCRIBE or SHOW statement; $name parameters."),
    output: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
    tenant: str | None = typer.Option(
        None, "--tenant", help="Tenant id: binds tenant_events and $tenant_id."
    ),
    param: list[str] = typer.Option([], "--param", "-p", help="A text parameter: name=value (repeatable)."),
) -> None:
    """Run a read-only query on the warehouse and print the answer."""
    from bcone.core.errors import BconeError
    from bcone.core.settings import get_settings
    from bcone.core.warehouse import ensure_read_only, open_warehouse

    if output not in QUERY_FORMATS:
        raise _fail(ValueError(f"--format must be one of {', '.join(QUERY_FORMATS)}"))
    params: dict[str, str] = {}
    for item in param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise _fail(ValueError(f"--param needs name=value, got {item!r}"))
        params[name] = value
    try:
        ensure_read_only(sql)  # refuse before touching (or creating) the warehouse
        with open_warehouse(get_settings()) as warehouse:
            result = warehouse.query(sql, params, tenant_id=tenant)
    except BconeError as exc:
        raise _fail(exc) from exc
    _print_result(result.columns, result.rows, output)


def _print_result(columns: list[str], rows: list[tuple[object, ...]], output: str) -> None:
    import csv
    import sys

    import pydantic_core
    from rich.console import Console
    from rich.table import Table

    if output == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        typer.echo(pydantic_core.to_json(records, indent=2).decode())
    elif output == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console().print(table)
        typer.echo(f"{len(rows)} row(s)")
