"""The codes domain's behaviour: the only entry other domains may call.

Every function takes the unit of work as ``session=``; those that touch code keys also take the
deployment's ``secret_key`` (``Settings.secret_key``), which seals the keys at rest.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from bcone.codes._batches import create_batch, get_batch, list_batches, void_batch
from bcone.codes._checks import EVENT_TYPE, check_code, lookup_code
from bcone.codes._export import (
    MAX_QR_CODES,
    CodeExport,
    ParsedLink,
    digital_link,
    parse_digital_link,
    qr_zip,
)
from bcone.codes._serials import serials
from bcone.codes._space import (
    DEFAULT_RESOLVER_HOST,
    TenantKeys,
    code_settings,
    resolver_host,
    rotate_key,
    space_of,
    update_code_settings,
)
from bcone.codes.errors import CodeKeyUnavailable
from bcone.codes.schemas import ExportFormat
from bcone.core.tenancy import current_tenant


def open_export(batch_id: str, fmt: ExportFormat, *, session: Session, secret_key: str) -> CodeExport:
    """Everything a batch's printer file needs; stream it with ``.chunks()`` (no session needed)."""
    batch = get_batch(batch_id, session=session)
    key = TenantKeys(session, current_tenant(session), secret_key).get(batch.key_version)
    if key is None:
        raise CodeKeyUnavailable(f"key v{batch.key_version} is missing")
    return CodeExport(batch=batch, key=key, host=resolver_host(space_of(session)), fmt=fmt)


def sample_urls(batch_id: str, count: int, *, session: Session, secret_key: str) -> list[str]:
    """The first ``count`` URLs of a batch (console previews, tests)."""
    export = open_export(batch_id, "txt", session=session, secret_key=secret_key)
    n = min(count, export.count)
    return [
        digital_link(export.host, export.batch, s) for s in serials(export.key, export.batch.range_start, n)
    ]


__all__ = [
    "DEFAULT_RESOLVER_HOST",
    "EVENT_TYPE",
    "MAX_QR_CODES",
    "CodeExport",
    "ParsedLink",
    "check_code",
    "code_settings",
    "create_batch",
    "get_batch",
    "list_batches",
    "lookup_code",
    "open_export",
    "parse_digital_link",
    "qr_zip",
    "rotate_key",
    "sample_urls",
    "update_code_settings",
    "void_batch",
]
