"""Tabular imports shared by every bulk import: read a CSV or XLSX file, map its header, report.

A file becomes a :class:`Table` of :class:`TableRow` s that keep their spreadsheet row number
(the header is row 1), so every error points at the cell a person must fix. Headers may be in
English or Chinese (``name`` / ``名称``). :func:`run_import` applies a domain's row function under
the import policy (``docs/imports.md``):

- ``all_or_nothing`` (default): one bad row and nothing is written; the report lists every bad row.
- ``valid_rows``: the good rows are written, the bad ones are reported and skipped.

Either way the caller's transaction stays usable: rows run inside savepoints, so a rejected
import leaves no half-written change behind.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path, PurePath
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bcone.core.errors import BconeError, ValidationFailed

# A generous spreadsheet of 20,000 rows with a dozen columns is about 3 MB as CSV; 10 MB leaves
# room for XLSX overhead and wide address columns while keeping a request's memory bounded.
MAX_IMPORT_BYTES = 10 * 1024 * 1024
# Every row runs in its own savepoint inside one transaction; 20,000 rows keep that transaction
# under a minute on SQLite and well inside PostgreSQL's lock and WAL comfort. Larger networks
# import in several files.
MAX_IMPORT_ROWS = 20_000
# Errors listed in one report: enough to fix a whole file, small enough to render as a table.
MAX_REPORTED_ERRORS = 1_000

# Interface texts of every import page (zh-CN, English), registered by the domains' pages; the
# shared report table is ``core/templates/imports/_report.html``.
IMPORT_MESSAGES: dict[str, tuple[str, str]] = {
    "import.mode": ("导入方式", "Mode"),
    "import.mode.all_or_nothing": ("全部成功才导入（推荐）", "All or nothing (recommended)"),
    "import.mode.all_or_nothing_hint": (
        "任何一行有误则不写入任何数据，并列出所有错误。",
        "One bad row and nothing is written; every bad row is listed.",
    ),
    "import.mode.valid_rows": ("只导入正确的行", "Valid rows only"),
    "import.mode.valid_rows_hint": (
        "写入正确的行，跳过并列出有误的行。",
        "The valid rows are written; the bad ones are skipped and listed.",
    ),
    "import.file": ("文件", "File"),
    "import.file_hint": (
        "Excel（.xlsx）或 CSV（UTF-8 或 GBK），第一行为表头，中英文列名均可。",
        "Excel (.xlsx) or CSV (UTF-8 or GBK), header in row 1, Chinese or English column names.",
    ),
    "import.file_invalid": ("文件无法导入", "The file cannot be imported"),
    "import.submit": ("开始导入", "Import"),
    "import.template": ("下载模板", "Download a template"),
    "import.columns": ("可识别的列", "Recognised columns"),
    "import.required": ("必填", "required"),
    "import.report.title": ("导入结果", "Import report"),
    "import.report.imported": ("导入完成。", "Import finished."),
    "import.report.rejected": (
        "文件中有 {failed} 行有误，按“全部成功才导入”的规则，未写入任何数据。请修正后重新上传。",
        "{failed} rows have errors; under “all or nothing” nothing was written. Fix them and upload again.",
    ),
    "import.report.partial": (
        "已写入正确的行，{failed} 行有误未导入。",
        "The valid rows were written; {failed} rows with errors were skipped.",
    ),
    "import.report.total": ("总行数", "Rows"),
    "import.report.created": ("新建", "Created"),
    "import.report.updated": ("更新", "Updated"),
    "import.report.unchanged": ("未变化", "Unchanged"),
    "import.report.failed": ("出错", "Failed"),
    "import.report.row": ("行号", "Row"),
    "import.report.column": ("列", "Column"),
    "import.report.value": ("单元格内容", "Cell"),
    "import.report.message": ("问题", "Problem"),
    "import.report.more": ("仅列出前 {shown} 个错误。", "Only the first {shown} errors are listed."),
}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy binary .xls
_CSV_SUFFIXES = frozenset({".csv", ".txt", ""})
_XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})


class ImportMode(StrEnum):
    all_or_nothing = "all_or_nothing"
    valid_rows = "valid_rows"


RowOutcome = Literal["created", "updated", "unchanged"]


class RowError(BaseModel):
    """One bad cell (or row, when ``column`` is None) of an imported file."""

    row: int = Field(description="spreadsheet row number; the header is row 1")
    column: str | None = Field(default=None, description="the column as its header reads in the file")
    value: str | None = None
    message: str
    code: str = "invalid"


class ImportReport(BaseModel):
    """What an import did: counts, every bad row, and whether anything was written."""

    mode: ImportMode
    total_rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[RowError] = Field(default_factory=list)
    errors_truncated: bool = Field(
        default=False, description=f"only the first {MAX_REPORTED_ERRORS} are listed"
    )
    imported: bool


class ImportFileInvalid(ValidationFailed):
    """The file itself cannot be imported (type, size, encoding, header)."""

    code = "import_file_invalid"
    title = "File cannot be imported"


class ImportRejected(ValidationFailed):
    """An ``all_or_nothing`` import found bad rows, so nothing was written."""

    code = "import_rejected"
    title = "Import rejected: nothing was written"

    def __init__(self, report: ImportReport) -> None:
        super().__init__(
            f"{report.failed} of {report.total_rows} rows are invalid; nothing was written",
            field="file",
            report=report.model_dump(mode="json"),
        )
        self.report = report


@dataclass(frozen=True)
class Column:
    """A column an import understands: its key and every header that names it."""

    key: str
    headers: tuple[str, ...]
    required: bool = False

    @property
    def label(self) -> str:
        return " / ".join(self.headers) if self.headers else self.key


@dataclass
class TableRow:
    row: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "")


@dataclass
class Table:
    filename: str
    headers: dict[str, str]  # column key -> header text as written in the file
    rows: list[TableRow] = field(default_factory=list)

    def header_of(self, key: str | None) -> str | None:
        if key is None:
            return None
        return self.headers.get(key, key)


def normalise_header(text: str) -> str:
    """Compare headers loosely: case, spaces, ``*`` marks and a trailing ``(unit)`` do not matter."""
    text = text.replace("*", "").strip()
    text = re.sub(r"[\(（][^\)）]*[\)）]$", "", text).strip().lower()
    return re.sub(r"[\s\-_]+", "_", text)


def _file_error(filename: str, message: str, *, column: str | None = None) -> ImportFileInvalid:
    extra: dict[str, Any] = {"filename": filename}
    if column is not None:
        extra["column"] = column
    return ImportFileInvalid(f"{filename}: {message}", field="file", **extra)


def read_table(
    data: bytes,
    filename: str,
    columns: Sequence[Column],
    *,
    max_bytes: int = MAX_IMPORT_BYTES,
    max_rows: int = MAX_IMPORT_ROWS,
) -> Table:
    """Parse ``data`` (CSV or XLSX) into rows keyed by column; 422 naming the file or column when bad."""
    if len(data) > max_bytes:
        raise _file_error(filename, f"file is {len(data):,} bytes, the limit is {max_bytes:,}")
    if not data.strip():
        raise _file_error(filename, "file is empty")
    suffix = PurePath(filename).suffix.lower()
    if data.startswith(_OLE_MAGIC):
        raise _file_error(filename, "legacy .xls files are not supported; save the sheet as .xlsx or CSV")
    if data.startswith(_ZIP_MAGIC):
        raw = _xlsx_rows(data, filename)
    elif suffix in _CSV_SUFFIXES:
        raw = _csv_rows(data, filename)
    else:
        raise _file_error(filename, "not a CSV or XLSX file")
    return _map_columns(raw, filename, columns, max_rows=max_rows)


def decode_text(data: bytes, filename: str = "file") -> str:
    """CSV text as written by Excel and WPS: UTF-8 (with or without BOM), else GB18030 (covers GBK).

    Excel's "Unicode text" export (UTF-16 with a BOM, tab-separated) is read too.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _file_error(filename, "broken UTF-16 text") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _file_error(filename, "text is neither UTF-8 nor GBK/GB18030; save it as CSV UTF-8") from exc


def _csv_rows(data: bytes, filename: str) -> Iterable[list[str]]:
    text = decode_text(data, filename)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _file_error(filename, f"not a readable CSV file ({exc})") from exc


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(data: bytes, filename: str) -> Iterable[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _file_error(filename, "not a readable XLSX workbook") from exc
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(v) for v in values] for values in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _map_columns(
    raw: Iterable[list[str]], filename: str, columns: Sequence[Column], *, max_rows: int
) -> Table:
    lines = iter(raw)
    header = next(lines, None)
    if header is None or not any(cell.strip() for cell in header):
        raise _file_error(filename, "row 1 must be the header, and it is empty")
    by_name = {normalise_header(h): c for c in columns for h in (c.key, *c.headers)}
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, text in enumerate(header):
        column = by_name.get(normalise_header(text)) if text.strip() else None
        if column is None:
            continue  # columns bcone does not know are ignored
        if column.key in positions:
            raise _file_error(
                filename,
                f"columns {headers[column.key]!r} and {text.strip()!r} both mean {column.key}",
                column=text.strip(),
            )
        positions[column.key] = index
        headers[column.key] = text.strip()
    missing = [c for c in columns if c.required and c.key not in positions]
    if missing:
        names = "; ".join(c.label for c in missing)
        raise _file_error(filename, f"missing required column(s): {names}", column=missing[0].key)
    table = Table(filename=filename, headers=headers)
    for number, cells in enumerate(lines, start=2):
        values = {key: (cells[i].strip() if i < len(cells) else "") for key, i in positions.items()}
        if not any(values.values()):
            continue  # blank lines between data rows are common in hand-edited sheets
        if len(table.rows) >= max_rows:
            raise _file_error(filename, f"more than {max_rows:,} data rows; split the file")
        table.rows.append(TableRow(row=number, values=values))
    if not table.rows:
        raise _file_error(filename, "the file has a header but no data rows")
    return table


def template_csv(columns: Sequence[Column]) -> bytes:
    """An empty CSV with the Chinese header row, BOM-prefixed so Excel opens it as UTF-8."""
    out = io.StringIO()
    csv.writer(out).writerow([c.headers[0] if c.headers else c.key for c in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def split_codes(value: str) -> list[str]:
    """A cell holding several codes, separated by commas, semicolons, 、 or spaces."""
    return [part for part in re.split(r"[\s,;，；、|]+", value.strip()) if part]


def parse_choice(value: str, choices: dict[str, str], *, field_name: str, default: str | None = None) -> str:
    """Map a cell to one of ``choices`` (accepted spelling -> stored value), case-insensitively."""
    text = value.strip()
    if not text:
        if default is None:
            raise ValidationFailed(f"{field_name} is required", field=field_name)
        return default
    lowered = {k.lower(): v for k, v in choices.items()}
    found = lowered.get(text.lower())
    if found is None:
        allowed = ", ".join(dict.fromkeys(choices))
        raise ValidationFailed(f"{text!r} is not one of: {allowed}", field=field_name)
    return found


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic error's message without the ``Value error, `` prefix pydantic adds to ``ValueError`` s."""
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def row_errors(
    row: TableRow, table: Table, exc: Exception, field_aliases: Mapping[str, str] | None = None
) -> list[RowError]:
    """Turn what a row function raised into report lines pointing at the file's columns.

    ``field_aliases`` maps a service's field name to the import column that fed it (a service
    speaks of ``parent_id`` where the file has ``parent_code``).
    """
    aliases = field_aliases or {}
    if isinstance(exc, PydanticValidationError):
        out = []
        for err in exc.errors():
            key = str(err["loc"][0]) if err.get("loc") else None
            key = aliases.get(key, key) if key else None
            out.append(
                RowError(
                    row=row.row,
                    column=table.header_of(key),
                    value=row.values.get(key) if key else None,
                    message=validation_message(err),
                    code=str(err.get("type", "invalid")),
                )
            )
        return out
    if isinstance(exc, BconeError):
        key = aliases.get(exc.field, exc.field) if exc.field else None
        return [
            RowError(
                row=row.row,
                column=table.header_of(key),
                value=row.values.get(key) if key else None,
                message=exc.detail,
                code=exc.code,
            )
        ]
    if isinstance(exc, IntegrityError):
        message = "the database refused this row (a duplicate or an invalid value)"
        return [RowError(row=row.row, message=message, code="conflict")]
    return [RowError(row=row.row, message=str(exc))]


def run_import(
    *,
    session: Session,
    table: Table,
    mode: ImportMode,
    apply: Callable[[TableRow], RowOutcome],
    rows: Sequence[TableRow] | None = None,
    field_aliases: Mapping[str, str] | None = None,
) -> ImportReport:
    """Apply ``apply`` to every row (in ``rows`` order, default file order) under ``mode``.

    Each row runs in a savepoint, so one bad row never leaves part of itself behind. In
    ``all_or_nothing`` mode any bad row rolls back every row; in ``valid_rows`` mode the good rows
    stay. The caller's transaction is committed by the entry point as usual.
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    errors: list[RowError] = []
    failed = 0
    whole = session.begin_nested()
    for row in rows if rows is not None else table.rows:
        savepoint = session.begin_nested()
        try:
            outcome = apply(row)
            session.flush()
        except (BconeError, ValueError, PydanticValidationError, IntegrityError) as exc:
            savepoint.rollback()
            failed += 1
            errors.extend(row_errors(row, table, exc, field_aliases))
            continue
        savepoint.commit()
        counts[outcome] += 1
    errors.sort(key=lambda e: (e.row, e.column or ""))
    rejected = failed > 0 and mode is ImportMode.all_or_nothing
    if rejected:
        whole.rollback()
        counts = dict.fromkeys(counts, 0)
    else:
        whole.commit()
    return ImportReport(
        mode=mode,
        total_rows=len(table.rows),
        failed=failed,
        errors=errors[:MAX_REPORTED_ERRORS],
        errors_truncated=len(errors) > MAX_REPORTED_ERRORS,
        imported=not rejected and sum(counts.values()) > 0,
        **counts,
    )


def report_lines(report: ImportReport) -> list[str]:
    """The report as plain text: a summary, then one line per bad cell (row, column, message)."""
    lines = [
        f"mode: {report.mode.value}  rows: {report.total_rows}  created: {report.created}  "
        f"updated: {report.updated}  unchanged: {report.unchanged}  failed: {report.failed}"
    ]
    if report.failed and not report.imported and report.mode is ImportMode.all_or_nothing:
        lines.append(f"nothing was written: {report.failed} of {report.total_rows} rows are invalid")
    for e in report.errors:
        where = f"row {e.row}" + (f", column {e.column}" if e.column else "")
        value = f" (value {e.value!r})" if e.value else ""
        lines.append(f"{where}{value}: {e.message}")
    if report.errors_truncated:
        lines.append(f"... and more: only the first {len(report.errors)} errors are listed")
    return lines


Importer = Callable[[bytes, str, Session, ImportMode], ImportReport]


def import_file_command(path: Path, tenant_slug: str, mode: ImportMode, importer: Importer) -> int:
    """Run ``importer`` on a file for the tenant ``tenant_slug`` as a shell command would.

    Prints the report and returns the exit status: 0 when every row was good, 1 when rows
    failed (whatever the mode), 2 when the tenant, the file or its header was refused.
    """
    import typer

    from bcone.core.runtime import open_database
    from bcone.core.tenancy import bind_tenant, tenant_id_for_slug

    try:
        data = path.read_bytes()
    except OSError as exc:
        typer.secho(f"error: cannot read {path}: {exc.strerror}", err=True, fg=typer.colors.RED)
        return 2
    db = open_database()
    try:
        with db.session() as session:
            tenant_id = tenant_id_for_slug(session, tenant_slug)
            if tenant_id is None:
                typer.secho(f"error: no tenant {tenant_slug!r} (see `bcone tenant list`)", err=True, fg="red")
                return 2
            bind_tenant(session, tenant_id)
            report = importer(data, path.name, session, mode)
    except BconeError as exc:
        typer.secho(f"error: {exc.code}: {exc.detail}", err=True, fg=typer.colors.RED)
        return 2
    finally:
        db.dispose()
    for line in report_lines(report):
        typer.echo(line)
    return 1 if report.failed else 0
