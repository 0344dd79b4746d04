"""Import events from a file: JSON lines, or CSV with one column per envelope field.

CSV columns: ``event_id``, ``type``, ``ts``, ``org_id``, ``sku``, ``region``, ``amount`` (fen),
``properties`` (a JSON object), and one column per identifier namespace named ``id:<namespace>``
(``id:phone``, ``id:wechat_openid:wx123``; several values in one cell separated by ``|``).
Each line goes through the same validation as the API; batches of up to 1,000 valid lines are
resolved and appended in one transaction each, so a bad line never stops the rest.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bcone.cdp._ingest import MAX_BATCH, ingest_events
from bcone.core.db import Database

MAX_REPORTED_ERRORS = 1_000
ENVELOPE_COLUMNS = ("event_id", "type", "ts", "org_id", "sku", "region", "amount", "properties")
IDENTITY_PREFIX = "id:"


@dataclass(frozen=True)
class ImportLineError:
    line: int
    code: str
    field: str | None
    message: str
    event_id: str | None = None


@dataclass
class ImportSummary:
    lines: int = 0
    accepted: int = 0
    rejected: int = 0
    skipped: int = 0  # platform exports: orders never paid, or refunded
    errors: list[ImportLineError] = field(default_factory=list)
    seconds: float = 0.0

    def add_error(self, error: ImportLineError) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)


Parsed = tuple[int, dict[str, Any] | ImportLineError]


def _byte_lines(path: Path, progress: Callable[[int], None] | None) -> Iterator[str]:
    with path.open("rb") as f:
        first = True
        for raw in f:
            if progress is not None:
                progress(len(raw))
            text = raw.decode("utf-8-sig" if first else "utf-8", errors="replace")
            first = False
            yield text


def _jsonl(path: Path, progress: Callable[[int], None] | None) -> Iterator[Parsed]:
    for number, line in enumerate(_byte_lines(path, progress), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            yield (
                number,
                ImportLineError(number, "invalid_json", None, f"not JSON: {exc.msg} (column {exc.colno})"),
            )
            continue
        yield number, item


def _csv(path: Path, progress: Callable[[int], None] | None) -> Iterator[Parsed]:
    reader = csv.reader(_byte_lines(path, progress))
    header = next(reader, None)
    if header is None:
        return
    header = [h.strip() for h in header]
    unknown = [h for h in header if h and h not in ENVELOPE_COLUMNS and not h.startswith(IDENTITY_PREFIX)]
    if unknown:
        yield (
            1,
            ImportLineError(
                1,
                "unknown_column",
                unknown[0],
                f"unknown column {unknown[0]!r}: use {', '.join(ENVELOPE_COLUMNS)} or id:<namespace>",
            ),
        )
        return
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        item: dict[str, Any] = {}
        identities: list[dict[str, str]] = []
        problem: ImportLineError | None = None
        for name, cell in zip(header, row, strict=False):
            cell = cell.strip()
            if not cell or not name:
                continue
            if name.startswith(IDENTITY_PREFIX):
                namespace = name[len(IDENTITY_PREFIX) :]
                identities.extend(
                    {"namespace": namespace, "value": v.strip()} for v in cell.split("|") if v.strip()
                )
            elif name == "amount":
                item["amount"] = int(cell) if cell.lstrip("-").isdigit() else cell
            elif name == "properties":
                try:
                    item["properties"] = json.loads(cell)
                except json.JSONDecodeError:
                    problem = ImportLineError(
                        number, "validation_failed", "properties", "properties: not a JSON object"
                    )
            else:
                item[name] = cell
        if identities:
            item["identities"] = identities
        yield number, problem or item


def import_events_file(
    db: Database,
    path: Path,
    *,
    tenant_id: str,
    secret_key: str,
    progress: Callable[[int], None] | None = None,
    batch_size: int = MAX_BATCH,
) -> ImportSummary:
    """Import ``path`` (``.csv``, else JSON lines) for ``tenant_id``; one transaction per batch."""
    started = time.perf_counter()
    parse = _csv if path.suffix.lower() == ".csv" else _jsonl
    summary = ImportSummary()
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not batch:
            return
        with db.session(tenant_id=tenant_id) as session:
            result = ingest_events(
                [item for _, item in batch], session=session, secret_key=secret_key, actor="import"
            )
        summary.accepted += result.accepted
        for err in result.errors:
            line = batch[err.index][0]
            where = err.field.split(".", 1)[1] if err.field and "." in err.field else err.field
            summary.add_error(ImportLineError(line, err.code, where, err.message, err.event_id))
        batch.clear()

    for number, parsed in parse(path, progress):
        summary.lines += 1
        if isinstance(parsed, ImportLineError):
            summary.add_error(parsed)
            continue
        batch.append((number, parsed))
        if len(batch) >= batch_size:
            flush()
    flush()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary
