"""``bcone codes ...``: generate batches, export printer files, list, void, rotate keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy.orm import Session

from bcone.codes import service
from bcone.codes.schemas import BatchIn, BatchStatus, ExportFormat
from bcone.core.errors import BconeError
from bcone.core.pagination import PageParams
from bcone.core.runtime import open_database
from bcone.core.settings import get_settings
from bcone.core.tenancy import bind_tenant, tenant_id_for_slug

app = typer.Typer(
    no_args_is_help=True,
    help="One item, one code: generate code batches, export them for printers, void, rotate keys.",
)

TenantOption = Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")]
_err = Console(stderr=True)


@app.callback()
def codes() -> None:
    """One item, one code: generate code batches, export them for printers, void, rotate keys."""


def _fail(message: str, status: int = 2) -> typer.Exit:
    _err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(status)


@contextmanager
def _tenant_session(slug: str) -> Iterator[Session]:
    db = open_database()
    try:
        with db.session() as session:
            tenant_id = tenant_id_for_slug(session, slug)
            if tenant_id is None:
                raise _fail(f"no tenant {slug!r} (see `bcone tenant list`)")
            bind_tenant(session, tenant_id)
            yield session
    except BconeError as exc:
        field = f" ({exc.field})" if exc.field else ""
        raise _fail(f"{exc.code}{field}: {exc.detail}") from None
    finally:
        db.dispose()


@app.command("generate")
def generate(
    tenant: TenantOption,
    sku: Annotated[str, typer.Option("--sku", help="The SKU code (it needs a GTIN).")],
    count: Annotated[int, typer.Option("--count", help="How many codes.")],
    lot: Annotated[str | None, typer.Option("--lot", help="Lot number (GS1 AI 10).")] = None,
    production_date: Annotated[str | None, typer.Option("--production-date", help="YYYY-MM-DD.")] = None,
    expiry: Annotated[
        str | None, typer.Option("--expiry", help="Expiry date YYYY-MM-DD (GS1 AI 17).")
    ] = None,
    level: Annotated[str, typer.Option("--level", help="unit, case or pallet.")] = "unit",
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Planned sales region (division code); repeatable.")
    ] = None,
) -> None:
    """Commission a batch of codes for a SKU (one row, whatever the count); prints its id."""
    try:
        data = BatchIn(
            sku_code=sku,
            count=count,
            lot=lot,
            production_date=date.fromisoformat(production_date) if production_date else None,
            expiry_date=date.fromisoformat(expiry) if expiry else None,
            level=level,
            regions=region or [],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise _fail(f"{'.'.join(str(p) for p in first['loc']) or 'input'}: {first['msg']}") from None
    except ValueError as exc:
        raise _fail(f"dates are YYYY-MM-DD: {exc}") from None
    with _tenant_session(tenant) as session:
        batch = service.create_batch(data, session=session, secret_key=get_settings().secret_key)
    typer.echo(batch.id)
    _err.print(
        f"generated {batch.count:,} codes for {batch.sku_code} (GTIN {batch.gtin}), key v{batch.key_version}"
    )


@app.command("export")
def export(
    batch_id: Annotated[str, typer.Argument(help="The batch id (see `bcone codes list`).")],
    tenant: TenantOption,
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    format: Annotated[
        str, typer.Option("--format", help="csv (serial,url) or txt (one URL a line).")
    ] = "csv",
) -> None:
    """Write a batch's printer file (GS1 Digital Link URLs) in constant memory, with progress."""
    if format not in ("csv", "txt"):
        raise _fail("--format is csv or txt")
    fmt: ExportFormat = "csv" if format == "csv" else "txt"
    with _tenant_session(tenant) as session:
        plan = service.open_export(batch_id, fmt, session=session, secret_key=get_settings().secret_key)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    written = 0
    try:
        with out.open("wb") as fh, Progress(*columns, console=_err) as progress:
            task = progress.add_task(out.name, total=plan.count)
            for chunk in plan.chunks():
                fh.write(chunk)
                lines = chunk.count(b"\n")
                written += lines
                progress.advance(task, lines)
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror}") from None
    _err.print(f"wrote {plan.count:,} codes to {out}")


@app.command("list")
def list_batches(
    tenant: TenantOption,
    status: Annotated[str | None, typer.Option("--status", help="active or voided.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=200)] = 50,
) -> None:
    """The newest batches."""
    chosen: BatchStatus | None = "active" if status == "active" else "voided" if status == "voided" else None
    with _tenant_session(tenant) as session:
        page = service.list_batches(PageParams(page_size=limit), session=session, status=chosen)
    table = Table("id", "sku", "gtin", "lot", "count", "level", "key", "status", "created")
    for b in page.items:
        table.add_row(
            b.id,
            b.sku_code,
            b.gtin,
            b.lot,
            f"{b.count:,}",
            b.level,
            str(b.key_version),
            b.status,
            f"{b.created_at:%Y-%m-%d %H:%M}",
        )
    Console().print(table)


@app.command("void")
def void(
    batch_id: Annotated[str, typer.Argument(help="The batch id.")],
    tenant: TenantOption,
    reason: Annotated[str, typer.Option("--reason", help="Why (e.g. leaked at the printer).")] = "",
) -> None:
    """Void a batch: all its codes check not genuine from now on."""
    with _tenant_session(tenant) as session:
        batch = service.void_batch(batch_id, session=session, reason=reason[:500])
    typer.echo(f"voided {batch.id} ({batch.count:,} codes)")


@app.command("rotate-key")
def rotate_key(tenant: TenantOption) -> None:
    """Start a new code key version for new batches; older codes keep decoding."""
    with _tenant_session(tenant) as session:
        key = service.rotate_key(session=session, secret_key=get_settings().secret_key)
    typer.echo(f"key version {key.version} is now current")


# --- Packing and shipping from CSV files -----------------------------------------------------


def _csv_rows(path: Path) -> list[list[str]]:
    """Rows of a CSV file, without blank lines and without a header line (``serial`` / ``parent``)."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [
                [cell.strip() for cell in row] for row in csv.reader(handle) if any(c.strip() for c in row)
            ]
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc.strerror}") from None
    if rows and rows[0] and rows[0][0].lower() in ("serial", "parent", "case", "pallet"):
        rows = rows[1:]
    return rows


def _org_id(session: Session, ref: str) -> str:
    from bcone.network import service as network

    return network.organization_ids_by_code([ref], session=session).get(ref, ref)


@app.command("commission")
def commission_cmd(
    csv_file: Annotated[Path, typer.Argument(help="CSV with one serial per line (first column).")],
    tenant: TenantOption,
) -> None:
    """Commission the codes listed in a CSV file (EPCIS commissioning)."""
    serials = [row[0] for row in _csv_rows(csv_file)]
    with _tenant_session(tenant) as session:
        result = service.commission(serials, session=session, secret_key=get_settings().secret_key)
    typer.echo(f"commissioned {result.count} codes (event {result.event_id})")


@app.command("pack")
def pack_cmd(
    csv_file: Annotated[
        Path, typer.Argument(help="CSV of parent,child lines (a case and one of its units).")
    ],
    tenant: TenantOption,
) -> None:
    """Pack units into cases (or cases onto pallets) from a CSV of ``parent,child`` lines."""
    packs: dict[str, list[str]] = {}
    for number, row in enumerate(_csv_rows(csv_file), start=1):
        if len(row) < 2:
            raise _fail(f"line {number}: expected parent,child")
        packs.setdefault(row[0], []).append(row[1])
    if not packs:
        raise _fail("the file lists no codes")
    with _tenant_session(tenant) as session:
        results = service.aggregate_many(
            list(packs.items()), session=session, secret_key=get_settings().secret_key
        )
    typer.echo(f"packed {sum(r.count for r in results)} codes into {len(results)} containers")


@app.command("ship")
def ship_cmd(
    csv_file: Annotated[Path, typer.Argument(help="CSV with one serial (unit, case or pallet) per line.")],
    tenant: TenantOption,
    to: Annotated[str, typer.Option("--to", help="The destination organisation's code or id.")],
) -> None:
    """Ship the cases, pallets or units listed in a CSV file to a distributor or store."""
    serials = [row[0] for row in _csv_rows(csv_file)]
    with _tenant_session(tenant) as session:
        result = service.ship(
            serials, _org_id(session, to), session=session, secret_key=get_settings().secret_key
        )
    typer.echo(f"shipped {result.count} items (event {result.event_id})")
