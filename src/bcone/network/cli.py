"""``bcone network ...``: import the channel network and its staff from CSV or XLSX files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from bcone.core.imports import ImportMode, ImportReport, import_file_command
from bcone.network import service

app = typer.Typer(no_args_is_help=True, help="The channel network: distributors, wholesalers, stores, staff.")


@app.callback()
def network() -> None:
    """The channel network: distributors, wholesalers, stores, staff."""


class ImportKind(StrEnum):
    organizations = "organizations"
    staff = "staff"


def _organizations(data: bytes, filename: str, session: Session, mode: ImportMode) -> ImportReport:
    return service.import_organizations(data, filename, session=session, mode=mode)


def _staff(data: bytes, filename: str, session: Session, mode: ImportMode) -> ImportReport:
    return service.import_staff(data, filename, session=session, mode=mode)


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
    kind: Annotated[ImportKind, typer.Option(help="What the file holds.")] = ImportKind.organizations,
) -> None:
    """Create or update organisations (by code) or staff (by employee code) from a file.

    Prints the report (row, column, message for every bad row); exits 1 when rows failed, 2 when
    the file or the tenant was refused.
    """
    importer = _organizations if kind is ImportKind.organizations else _staff
    status = import_file_command(file, tenant, mode, importer)
    if status:
        raise typer.Exit(status)
