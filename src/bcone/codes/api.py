"""HTTP API of the codes domain: batches, printer exports, QR samples, keys, settings, look-up.

Brand roles read; owners, admins and marketers commission, void, export and rotate. The public
resolver (``GET /01/{gtin}/21/{serial}``) lives in :mod:`bcone.codes.web`, at the root.
"""

from __future__ import annotations

from typing import Annotated, Literal

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


# --- Packing, shipping, EPCIS and diversion ---------------------------------------------------

from bcone.codes.schemas import (  # noqa: E402
    AggregateIn,
    AggregateManyIn,
    CommissionIn,
    DiversionAlertOut,
    DiversionExceptionIn,
    DiversionExceptionOut,
    DiversionGroupOut,
    DiversionRulesIn,
    OpenCaseIn,
    PackingResult,
    ReceiveIn,
    ShipIn,
    UnpackIn,
    Whereabouts,
)
from bcone.core.errors import ValidationFailed  # noqa: E402


@router.post("/codes/commission", status_code=status.HTTP_201_CREATED)
def commission(body: CommissionIn, _: Editor, session: SessionDep, settings: SettingsDep) -> PackingResult:
    """Commission codes (EPCIS commissioning): a list of serials or a slice of a batch."""
    if body.batch_id is not None:
        assert body.count is not None
        return service.commission_range(
            body.batch_id, body.start, body.count, session=session, secret_key=settings.secret_key
        )
    assert body.serials is not None
    return service.commission(body.serials, session=session, secret_key=settings.secret_key)


@router.post("/codes/aggregate", status_code=status.HTTP_201_CREATED)
def aggregate(body: AggregateIn, _: Editor, session: SessionDep, settings: SettingsDep) -> PackingResult:
    """Pack codes into a case or pallet; all or nothing (409 if one is already packed)."""
    return service.aggregate(body.parent, body.children, session=session, secret_key=settings.secret_key)


@router.post("/codes/aggregate/bulk", status_code=status.HTTP_201_CREATED)
def aggregate_many(
    body: AggregateManyIn, _: Editor, session: SessionDep, settings: SettingsDep
) -> list[PackingResult]:
    """Pack many containers at once, all or nothing; errors name ``packs[k].children[i]``."""
    if sum(len(p.children) for p in body.packs) > service.MAX_CODES_PER_CALL:
        raise ValidationFailed(f"at most {service.MAX_CODES_PER_CALL} codes per call", field="packs")
    return service.aggregate_many(
        [(p.parent, p.children) for p in body.packs], session=session, secret_key=settings.secret_key
    )


@router.post("/codes/disaggregate", status_code=status.HTTP_201_CREATED)
def disaggregate(body: UnpackIn, _: Editor, session: SessionDep, settings: SettingsDep) -> PackingResult:
    """Unpack a case or pallet: its contents stay where it was."""
    return service.disaggregate(body.parent, session=session, secret_key=settings.secret_key)


@router.post("/codes/open", status_code=status.HTTP_201_CREATED)
def open_case(body: OpenCaseIn, _: Editor, session: SessionDep, settings: SettingsDep) -> PackingResult:
    """A store's open-box scan of a case it holds."""
    return service.open_case(body.parent, body.org_id, session=session, secret_key=settings.secret_key)


@router.post("/codes/ship", status_code=status.HTTP_201_CREATED)
def ship(body: ShipIn, _: Editor, session: SessionDep, settings: SettingsDep) -> PackingResult:
    """Ship top-level units, cases or pallets to a distributor, wholesaler or store."""
    return service.ship(
        body.serials, body.destination_org_id, session=session, secret_key=settings.secret_key
    )


@router.post("/codes/receive", status_code=status.HTTP_201_CREATED)
def receive(body: ReceiveIn, _: Editor, session: SessionDep, settings: SettingsDep) -> PackingResult:
    """Confirm the arrival of shipped items at their destination."""
    return service.receive(body.serials, body.org_id, session=session, secret_key=settings.secret_key)


@router.get("/codes/events")
def recent_events(
    _: Reader, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[PackingResult]:
    """The latest packing and shipping events."""
    return service.recent_events(session, limit=limit)


@router.get("/codes/diversion/alerts")
def diversion_alerts(
    _: Reader,
    session: SessionDep,
    distributor_id: str | None = None,
    sku_code: str | None = None,
    province: str | None = None,
    alert_status: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
) -> list[DiversionAlertOut]:
    """Diversion alerts (one per distributor, SKU and division while open, with its number of
    occurrences), latest seen first (at most 200)."""
    return service.list_alerts(
        session=session,
        distributor_id=distributor_id,
        sku_code=sku_code,
        province=province,
        status=alert_status,
    )


@router.post("/codes/diversion/alerts/{alert_id}/close")
def close_diversion_alert(alert_id: str, _: Editor, session: SessionDep) -> DiversionAlertOut:
    """Mark an alert handled; the next out-of-region scan of its group opens a new one."""
    return service.close_alert(alert_id, session=session)


@router.get("/codes/diversion/groups")
def diversion_groups(_: Reader, session: SessionDep) -> list[DiversionGroupOut]:
    """Alert counts by distributor, SKU and province."""
    return service.alert_groups(session=session)


@router.put("/codes/diversion/rules")
def diversion_rules(body: DiversionRulesIn, _: Owner, session: SessionDep) -> DiversionRulesIn:
    """The tolerance beyond a region, in km."""
    return service.set_rules(body, session=session)


@router.get("/codes/diversion/exceptions")
def diversion_exceptions(_: Reader, session: SessionDep) -> list[DiversionExceptionOut]:
    return service.list_exceptions(session=session)


@router.post("/codes/diversion/exceptions", status_code=status.HTTP_201_CREATED)
def add_diversion_exception(
    body: DiversionExceptionIn, _: Owner, session: SessionDep
) -> DiversionExceptionOut:
    """Allow a distributor to sell in a region outside its own."""
    return service.add_exception(body, session=session)


@router.get("/codes/{serial}/whereabouts")
def code_whereabouts(serial: str, _: Reader, session: SessionDep, settings: SettingsDep) -> Whereabouts:
    """Where a commissioned code is: containers, holder, status."""
    return service.whereabouts(serial, session=session, secret_key=settings.secret_key)


@router.get("/codes/{serial}/epcis")
def code_epcis(serial: str, _: Reader, session: SessionDep, settings: SettingsDep) -> Response:
    """The code's history as an EPCIS 2.0 JSON-LD document."""
    import json

    doc = service.code_history(serial, session=session, secret_key=settings.secret_key)
    return Response(json.dumps(doc, ensure_ascii=False), media_type="application/ld+json")
