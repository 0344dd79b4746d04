"""``bcone catalog ...``: import products and SKUs from CSV or XLSX files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from bcone.catalog import service
from bcone.core.imports import ImportMode, ImportReport, import_file_command

app = typer.Typer(no_args_is_help=True, help="Products and SKUs (GTIN).")


@app.callback()
def catalog() -> None:
    """Products and SKUs (GTIN)."""


def _skus(data: bytes, filename: str, session: Session, mode: ImportMode) -> ImportReport:
    return service.import_skus(data, filename, session=session, mode=mode)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or XLSX; the header is row 1.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug, e.g. acme.")],
    mode: Annotated[
        ImportMode,
        typer.Option(
            help="all_or_nothing: one bad row and nothing is written; valid_rows: keep the good rows."
        ),
    ] = ImportMode.all_or_nothing,
) -> None:
    """Create or update SKUs (by SKU code) and their products (by name) from a file.

    Prints the report (row, column, message for every bad row); exits 1 when rows failed, 2 when
    the file or the tenant was refused.
    """
    status = import_file_command(file, tenant, mode, _skus)
    if status:
        raise typer.Exit(status)
