"""``bcone analytics ...`` commands: the API's reports as JSON, for scripts and quick looks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console

from bcone.analytics import jobs as _jobs  # noqa: F401  (registers the summary refresh job)
from bcone.core.errors import BconeError
from bcone.core.warehouse import Warehouse

app = typer.Typer(
    no_args_is_help=True,
    help="Analytics: operating dashboard, funnels, retention, RFM, lifetime value, NPS, attribution.",
)
err = Console(stderr=True)

TenantOpt = Annotated[str, typer.Option("--tenant", help="tenant id whose events to analyse")]
SinceOpt = Annotated[str | None, typer.Option(help="first local day, YYYY-MM-DD")]
UntilOpt = Annotated[str | None, typer.Option(help="last local day, YYYY-MM-DD (default today)")]


@app.callback()
def analytics() -> None:
    """Analytics: operating dashboard, funnels, retention, RFM, lifetime value, NPS, attribution."""


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]--{name} must be a date (YYYY-MM-DD), got {value!r}[/red]")
        raise typer.Exit(2) from None


def _emit(build: Callable[[Warehouse], BaseModel]) -> None:
    from bcone.core.settings import get_settings
    from bcone.core.warehouse import open_warehouse

    try:
        with open_warehouse(get_settings()) as wh:
            report = build(wh)
    except BconeError as exc:
        field = f" ({exc.field})" if exc.field else ""
        err.print(f"[red]{exc.code}{field}: {exc.detail}[/red]")
        raise typer.Exit(1) from None
    typer.echo(report.model_dump_json(indent=2))


@app.command("rfm")
def rfm_command(tenant: TenantOpt, since: SinceOpt = None, until: UntilOpt = None, limit: int = 20) -> None:
    """RFM scores and segments."""
    from bcone.analytics import service

    start, end = _day(since, "since"), _day(until, "until")
    _emit(lambda wh: service.rfm(wh, tenant, since=start, until=end, limit=limit))


@app.command("retention")
def retention_command(
    tenant: TenantOpt,
    period: str = "week",
    cohort_event: str = "order.paid",
    return_event: str | None = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Cohort retention by week or month."""
    from bcone.analytics import service

    start, end = _day(since, "since"), _day(until, "until")
    _emit(
        lambda wh: service.retention(
            wh,
            tenant,
            period=period,
            cohort_event=cohort_event,
            return_event=return_event,
            since=start,
            until=end,
        )
    )


@app.command("funnel")
def funnel_command(
    tenant: TenantOpt,
    steps: Annotated[str, typer.Option(help="event types in order, comma-separated")],
    window_seconds: int = 7 * 86400,
    breakdown: str | None = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """An ordered funnel with a conversion window."""
    from bcone.analytics import service

    start, end = _day(since, "since"), _day(until, "until")
    kinds = [s.strip() for s in steps.split(",") if s.strip()]
    _emit(
        lambda wh: service.funnel(
            wh,
            tenant,
            steps=kinds,
            window_seconds=window_seconds,
            breakdown=breakdown,
            since=start,
            until=end,
        )
    )


@app.command("clv")
def clv_command(
    tenant: TenantOpt,
    until: UntilOpt = None,
    model: str = "bgnbd",
    horizon_weeks: int = 52,
    discount_rate: float = 0.0,
    limit: int = 20,
) -> None:
    """Customer lifetime value (BG/NBD or Pareto/NBD with Gamma-Gamma)."""
    from bcone.analytics import service

    end = _day(until, "until")
    _emit(
        lambda wh: service.clv(
            wh,
            tenant,
            until=end,
            model=model,
            horizon_weeks=horizon_weeks,
            discount_rate=discount_rate,
            limit=limit,
        )
    )


@app.command("refresh")
def refresh_command(
    tenant: Annotated[str | None, typer.Option("--tenant", help="one tenant (default: every tenant)")] = None,
    force: Annotated[bool, typer.Option(help="rebuild summaries that are still fresh too")] = False,
) -> None:
    """Rebuild the summary tables the reports read (daily rollup, per-consumer firsts)."""
    from bcone.analytics import service
    from bcone.core.settings import get_settings
    from bcone.core.warehouse import open_warehouse

    try:
        with open_warehouse(get_settings()) as wh:
            results = service.refresh_summaries(wh, tenant, force=force)
    except BconeError as exc:
        field = f" ({exc.field})" if exc.field else ""
        err.print(f"[red]{exc.code}{field}: {exc.detail}[/red]")
        raise typer.Exit(1) from None
    if not results:
        typer.echo("no events in the warehouse: nothing to summarise")
    for r in results:
        if r.skipped:
            typer.echo(f"{r.tenant_id}: fresh, skipped")
        else:
            rows = ", ".join(f"{name} {count:,}" for name, count in r.rows.items())
            typer.echo(f"{r.tenant_id}: {r.events:,} events summarised in {r.seconds:.1f} s ({rows})")
