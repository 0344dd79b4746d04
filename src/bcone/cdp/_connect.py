"""Platform exports into the CDP: parsed rows become events, through the same ingestion as the API.

Orders become ``order.paid`` events (``event_id`` = ``{platform}:{order or line number}``, so
importing a file twice changes nothing), customers ``profile.identified`` events. Phones are
hashed with the tenant's key by the ingestion (:func:`bcone.cdp._ingest.ingest_events`) and kept
only as hash and mask; POS store codes are resolved to the channel network's organisations.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bcone.cdp._imports import ImportLineError, ImportSummary
from bcone.cdp._ingest import MAX_BATCH, ingest_events
from bcone.cdp.connectors.platforms import CHANNELS, Kind, ParsedRow, mapping_for, parse_file
from bcone.cdp.identifiers import identity_key
from bcone.cdp.schemas import PlatformOrder, PlatformOrders, PlatformRowError
from bcone.core.db import Database
from bcone.core.errors import NotFound
from bcone.network import service as network

MAX_EVENT_ID = 64


def _event_id(prefix: str, natural: str) -> str:
    candidate = f"{prefix}:{natural}"
    if len(candidate) <= MAX_EVENT_ID:
        return candidate
    return f"{prefix}:{hashlib.sha256(natural.encode()).hexdigest()[:40]}"


def parse_platform_orders(platform: str, file: Path | bytes, kind: Kind = "orders") -> PlatformOrders:
    """A platform export (a path or its bytes) as rows another domain can show: phones masked,
    addresses as division codes, names and streets dropped; bad rows listed by row and column."""
    mapping_for(platform, kind)  # raises for an unknown platform
    parsed = parse_file(file.read_bytes() if isinstance(file, Path) else file, platform, kind)
    return PlatformOrders(
        platform=platform,
        channel=CHANNELS[platform],
        rows=[
            PlatformOrder(
                row=r.row,
                order_id=r.order_id,
                line_id=r.line_id,
                status=r.status,
                paid_at=r.paid_at,
                amount_fen=r.amount_fen,
                sku=r.sku,
                quantity=r.quantity,
                region=r.region,
                store_code=r.store_code,
                phone_masked=r.phone_masked,
                identifiers=[f"{ns}:{value}" for ns, value in r.identities],
            )
            for r in parsed.rows
        ],
        errors=[PlatformRowError(row=p.row, column=p.column, message=p.message) for p in parsed.problems],
        skipped=parsed.skipped,
    )


def _to_event(row: ParsedRow, *, key: bytes, org_id: str | None, region: str | None) -> dict[str, Any]:
    identities = [{"namespace": ns, "value": v} for ns, v in row.identities]
    if row.phone:
        identities.append({"namespace": "phone", "value": row.phone})
    ts = (row.paid_at or datetime.now(UTC)).isoformat()
    event: dict[str, Any] = {"ts": ts, "identities": identities}
    if org_id:
        event["org_id"] = org_id
    if region or row.region:
        event["region"] = row.region or region
    if row.kind == "orders":
        event.update(
            event_id=_event_id(row.platform, row.line_id or row.order_id or ""),
            type="order.paid",
            amount=row.amount_fen,
            properties={
                "order_id": row.order_id,
                "channel": CHANNELS[row.platform],
                "platform": row.platform,
                **({"quantity": row.quantity} if row.quantity else {}),
            },
        )
        if row.sku:
            event["sku"] = row.sku
    else:
        # A customer row has no number of its own: the event id is a keyed hash of its
        # identifiers (never the phone itself), so a re-import is the same event.
        natural = "|".join(sorted(f"{i['namespace']}={i['value']}" for i in identities))
        digest = hmac.new(key, natural.encode(), hashlib.sha256).hexdigest()[:40]
        event.update(
            event_id=f"{row.platform}.customer:{digest}",
            type="profile.identified",
            properties={"platform": row.platform},
        )
    return event


def import_platform_file(
    db: Database,
    path: Path,
    platform: str,
    *,
    tenant_id: str,
    secret_key: str,
    kind: Kind = "orders",
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import one platform export for ``tenant_id``: one transaction per 1,000 rows."""
    started = time.perf_counter()
    mapping_for(platform, kind)
    parsed = parse_file(path.read_bytes(), platform, kind)
    summary = ImportSummary(lines=parsed.lines, skipped=parsed.skipped)
    for p in parsed.problems:
        summary.add_error(ImportLineError(p.row, "invalid_row", p.column, p.message))
    key = identity_key(secret_key, tenant_id)
    stores: dict[str, tuple[str, str]] = {}
    codes = {r.store_code for r in parsed.rows if r.store_code}
    if codes:
        with db.session(tenant_id=tenant_id, write=False) as session:
            for code, org_id in network.organization_ids_by_code(codes, session=session).items():
                try:
                    org = network.get_organization(org_id, session=session)
                except NotFound:
                    continue
                stores[code] = (org_id, org.division_code)
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not batch:
            return
        with db.session(tenant_id=tenant_id) as session:
            result = ingest_events(
                [e for _, e in batch], session=session, secret_key=secret_key, actor=f"connect:{platform}"
            )
        summary.accepted += result.accepted
        for err in result.errors:
            where = err.field.split(".", 1)[1] if err.field and "." in err.field else err.field
            summary.add_error(
                ImportLineError(batch[err.index][0], err.code, where, err.message, err.event_id)
            )
        if progress is not None:
            progress(len(batch))
        batch.clear()

    for row in parsed.rows:
        store_org: str | None = None
        region: str | None = None
        if row.store_code:
            found = stores.get(row.store_code)
            if found is None:
                column = mapping_for(platform, kind).columns["store_code"][0]
                summary.add_error(
                    ImportLineError(
                        row.row, "unknown_store", column, f"no store with code {row.store_code!r}"
                    )
                )
                if progress is not None:
                    progress(1)
                continue
            store_org, region = found
        batch.append((row.row, _to_event(row, key=key, org_id=store_org, region=region)))
        if len(batch) >= MAX_BATCH:
            flush()
    flush()
    summary.errors.sort(key=lambda e: e.line)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary
