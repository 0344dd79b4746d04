"""HTTP API of the codes domain: batches, printer exports, QR samples, keys, settings, look-up.

Brand roles read; owners, admins and marketers commission, void, export and rotate. The public
resolver (``GET /01/{gtin}/21/{serial}``) lives in :mod:`bcone.codes.web`, at the root.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import Response, StreamingResponse

from bcone.codes import service
from bcone.codes.schemas import (
    BatchIn,
    BatchOut,
    BatchStatus,
    CodeLookupOut,
    CodeSettingsOut,
    CodeSettingsUpdate,
    ExportFormat,
    KeyOut,
    QrFormat,
    VoidIn,
)
from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.deps import PageDep, SessionDep, SettingsDep, require_roles
from bcone.core.pagination import Page

router = APIRouter(tags=["codes"])

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]
Owner = Annotated[Principal, Depends(require_roles())]


@router.get("/codes/batches")
def list_batches(
    _: Reader,
    session: SessionDep,
    page: PageDep,
    status: BatchStatus | None = None,
    sku_id: str | None = None,
) -> Page[BatchOut]:
    """Code batches, newest first; ``q`` searches SKU code, GTIN and lot."""
    return service.list_batches(page, session=session, status=status, sku_id=sku_id)


@router.post("/codes/batches", status_code=status.HTTP_201_CREATED)
def create_batch(body: BatchIn, _: Editor, session: SessionDep, settings: SettingsDep) -> BatchOut:
    """Commission codes for a SKU: one counter range, no row per code."""
    return service.create_batch(body, session=session, secret_key=settings.secret_key)


@router.get("/codes/batches/{batch_id}")
def get_batch(batch_id: str, _: Reader, session: SessionDep) -> BatchOut:
    """One batch."""
    return service.get_batch(batch_id, session=session)


@router.post("/codes/batches/{batch_id}/void")
def void_batch(batch_id: str, body: VoidIn, _: Editor, session: SessionDep) -> BatchOut:
    """Withdraw a leaked batch: its codes check not genuine from now on."""
    return service.void_batch(batch_id, session=session, reason=body.reason)


@router.get("/codes/batches/{batch_id}/export")
def export_batch(
    batch_id: str,
    _: Editor,
    session: SessionDep,
    settings: SettingsDep,
    format: ExportFormat = "csv",
) -> StreamingResponse:
    """The printer file, streamed: ``serial,url`` lines (csv) or one URL per line (txt)."""
    export = service.open_export(batch_id, format, session=session, secret_key=settings.secret_key)
    return StreamingResponse(
        export.chunks(),
        media_type=export.media_type,
        headers={"Content-Disposition": f'attachment; filename="{export.filename}"'},
    )


@router.get("/codes/batches/{batch_id}/qr.zip")
def qr_images(
    batch_id: str,
    _: Editor,
    session: SessionDep,
    settings: SettingsDep,
    format: QrFormat = "svg",
    sample: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """A zip of QR images (SVG or PNG), for batches of at most 1,000 codes or a ``sample``."""
    export = service.open_export(batch_id, "txt", session=session, secret_key=settings.secret_key)
    data = service.qr_zip(export, kind=format, sample=sample)
    name = export.filename.rsplit(".", 1)[0]
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}-qr-{format}.zip"'},
    )


@router.get("/codes/lookup")
def lookup_code(
    _: Reader,
    session: SessionDep,
    settings: SettingsDep,
    code: Annotated[str, Query(min_length=1, max_length=500, description="a Digital Link URL or a serial")],
) -> CodeLookupOut:
    """A code of this brand: its batch, how often and where it was checked."""
    return service.lookup_code(code, session=session, secret_key=settings.secret_key)


@router.get("/codes/settings")
def get_settings(_: Reader, session: SessionDep) -> CodeSettingsOut:
    """Resolver host, warning threshold and key versions."""
    return service.code_settings(session=session)


@router.patch("/codes/settings")
def update_settings(
    body: CodeSettingsUpdate, _: Owner, session: SessionDep, settings: SettingsDep
) -> CodeSettingsOut:
    """Change the resolver host or the "possible counterfeit" threshold (owner, admin)."""
    return service.update_code_settings(body, session=session, secret_key=settings.secret_key)


@router.post("/codes/keys/rotate", status_code=status.HTTP_201_CREATED)
def rotate_key(_: Owner, session: SessionDep, settings: SettingsDep) -> KeyOut:
    """Start a new key version for new batches (owner, admin); older codes keep working."""
    return service.rotate_key(session=session, secret_key=settings.secret_key)
