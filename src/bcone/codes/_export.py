"""Printer files and QR images: GS1 Digital Link URLs of a batch, in constant memory.

Every URL of a batch is ``https://{host}/01/{GTIN-14}/21/{serial}?10={lot}&17={YYMMDD}``: all
but the 20-character serial is the same for the whole batch, so a line is a fixed-width byte
row and a chunk of lines is built by numpy in one go (prefix, serial, suffix side by side),
then written out. Memory stays at one chunk whatever the batch size.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import numpy as np
import segno
from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI

from bcone.codes._serials import CodeKey, encode_range, serials
from bcone.codes.errors import InvalidDigitalLink, TooManyForQr
from bcone.codes.schemas import BatchOut, ExportFormat, QrFormat
from bcone.core.gs1 import normalize_gtin

CHUNK_CODES = 100_000
MAX_QR_CODES = 1_000
CSV_HEADER = b"serial,url\n"


def url_parts(host: str, gtin: str, lot: str, expiry: date | None) -> tuple[str, str]:
    """The text before and after the serial in every URL of a batch."""
    query = []
    if lot:
        query.append(f"10={lot}")
    if expiry is not None:
        query.append(f"17={expiry:%y%m%d}")
    suffix = "?" + "&".join(query) if query else ""
    return f"https://{host}/01/{gtin}/21/", suffix


def digital_link(host: str, batch: BatchOut, serial: str) -> str:
    prefix, suffix = url_parts(host, batch.gtin, batch.lot, batch.expiry_date)
    return prefix + serial + suffix


def _row(text: str, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text.encode("ascii"), dtype=np.uint8), (n, len(text)))


def lines_chunk(codes: np.ndarray, prefix: str, suffix: str, fmt: ExportFormat) -> bytes:
    """The export lines of a ``(n, 20)`` array of serials: ``serial,url`` (csv) or ``url`` (txt)."""
    n = codes.shape[0]
    parts = [_row(prefix, n), codes, _row(suffix + "\n", n)]
    if fmt == "csv":
        parts = [codes, _row(",", n), *parts]
    return np.hstack(parts).tobytes()


@dataclass(frozen=True)
class CodeExport:
    """A batch's printer file, ready to stream: :meth:`chunks` needs no database."""

    batch: BatchOut
    key: CodeKey
    host: str
    fmt: ExportFormat

    @property
    def count(self) -> int:
        return self.batch.count

    @property
    def filename(self) -> str:
        lot = f"-{self.batch.lot}" if self.batch.lot else ""
        return f"codes-{self.batch.sku_code}{lot}-{self.batch.id[:8]}.{self.fmt}"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self.fmt == "csv" else "text/plain; charset=utf-8"

    def chunks(self, chunk_codes: int = CHUNK_CODES) -> Iterator[bytes]:
        """The file in chunks of ``chunk_codes`` lines (the CSV header first)."""
        prefix, suffix = url_parts(self.host, self.batch.gtin, self.batch.lot, self.batch.expiry_date)
        if self.fmt == "csv":
            yield CSV_HEADER
        start, end = self.batch.range_start, self.batch.range_end
        for first in range(start, end, chunk_codes):
            codes = encode_range(self.key, first, min(chunk_codes, end - first))
            yield lines_chunk(codes, prefix, suffix, self.fmt)


def qr_zip(export: CodeExport, *, kind: QrFormat, sample: int | None) -> bytes:
    """A zip of one QR image per code (``sample`` first codes, or the whole small batch)."""
    count = export.count if sample is None else min(sample, export.count)
    if count > MAX_QR_CODES:
        field = "sample" if sample is not None else "count"
        raise TooManyForQr(
            f"QR images are made for at most {MAX_QR_CODES} codes, not {count}; "
            "use the CSV export for printers or ask for a sample",
            field=field,
        )
    prefix, suffix = url_parts(export.host, export.batch.gtin, export.batch.lot, export.batch.expiry_date)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for serial in serials(export.key, export.batch.range_start, count):
            image = io.BytesIO()
            # Level M survives the scuffs of a printed label; scale 4 and border 4 are the
            # sizes printers and phones expect.
            segno.make_qr(prefix + serial + suffix, error="m").save(image, kind=kind, scale=4, border=4)
            archive.writestr(f"{serial}.{kind}", image.getvalue())
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class ParsedLink:
    gtin: str
    serial: str


def parse_digital_link(url: str) -> ParsedLink:
    """The GTIN and serial of a GS1 Digital Link URL of a unit; 422 ``invalid_digital_link`` otherwise.

    Parsed with biip; the GTIN's check digit is verified (biip reports it without refusing).
    """
    text = url.strip()
    if not urlsplit(text).scheme:
        raise InvalidDigitalLink("a Digital Link is an http(s) URL", field="url")
    try:
        link = GS1DigitalLinkURI.parse(text)
    except (ParseError, ValueError) as exc:
        raise InvalidDigitalLink(f"not a GS1 Digital Link: {exc}", field="url") from None
    values = {e.ai.ai: e.value for e in link.element_strings}
    if "01" not in values or "21" not in values:
        raise InvalidDigitalLink("the link needs a GTIN (/01/) and a serial (/21/)", field="url")
    try:
        gtin = normalize_gtin(values["01"])
    except ValueError as exc:
        raise InvalidDigitalLink(str(exc), field="gtin") from None
    return ParsedLink(gtin=gtin, serial=values["21"])
