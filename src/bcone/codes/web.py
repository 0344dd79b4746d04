"""Pages of the codes domain: the consumers' scan page (the printed URL) and the console pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from bcone.codes import service
from bcone.codes.errors import CodeNotGenuine
from bcone.codes.messages import CODES_MESSAGES
from bcone.codes.messages import register as _register_messages
from bcone.codes.schemas import BatchIn, CheckOut, CodeSettingsUpdate, Location, PackingLevel, VoidIn
from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.db import Database
from bcone.core.deps import PageDep, SessionDep, SettingsDep, require_roles
from bcone.core.errors import BconeError, ValidationFailed, problem_response
from bcone.core.pagination import PageParams
from bcone.web.deps import ConsolePrincipal
from bcone.web.i18n import request_locale
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import DISPLAY_TIMEZONE, flash, redirect_to, render, render_list

_register_messages()
register_nav_item(NavItem("nav.codes", "/codes", "box", 45))

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, Depends(require_roles(*BRAND_ROLES))]
Editor = Annotated[Principal, Depends(require_roles(Role.marketer))]
Owner = Annotated[Principal, Depends(require_roles())]
_KNOWN = {k for k in CODES_MESSAGES if k.startswith("codes.error.")}
LEVELS: tuple[PackingLevel, ...] = ("unit", "case", "pallet")
RESULTS = "batch-results"


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _location(lat: float | None, lng: float | None, region: str | None) -> Location:
    try:
        return Location(lat=lat, lng=lng, region=region or None)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "lat"
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from None


@router.get("/01/{gtin}/21/{serial}")
def scan(
    request: Request,
    gtin: str,
    serial: str,
    settings: SettingsDep,
    lat: Annotated[float | None, Query()] = None,
    lng: Annotated[float | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=6)] = None,
) -> Response:
    """The printed URL: checks the code, records the check and answers a phone (H5 page) or an
    app (``Accept: application/json``: the check as JSON, 404 problem+json when not genuine)."""
    wants_json = _wants_json(request)
    try:
        location = _location(lat, lng, region)
        db: Database = request.app.state.db
        with db.session(write=True) as session:
            result = service.check_code(
                gtin, serial, location, session=session, secret_key=settings.secret_key
            )
            context = {**request.cookies, **request.query_params, "locale": request_locale(request)}
            extras = service.notify_scan_listeners(result, context, session=session)
    except BconeError as exc:
        return problem_response(exc, request)
    status = 200 if result.genuine else 404
    if wants_json:
        if not result.genuine:
            error = CodeNotGenuine(
                f"{result.serial} is not a genuine code ({result.verdict})",
                field="serial",
                verdict=result.verdict,
                gtin=result.gtin,
                serial=result.serial,
            )
            return problem_response(error, request)
        return JSONResponse({**result.model_dump(mode="json"), **extras}, status_code=status)
    return render(
        request, "codes/scan.html", {**_scan_context(result), "scan_extras": extras}, status_code=status
    )


def _scan_context(result: CheckOut) -> dict[str, Any]:
    first = result.first_checked_at.astimezone(DISPLAY_TIMEZONE) if result.first_checked_at else None
    return {
        "result": result,
        "first_when": first.strftime("%Y-%m-%d %H:%M") if first else "",
        "first_place": result.first_region_name or "",
    }


@router.get("/codes")
def batches_page(
    request: Request,
    _: ConsolePrincipal,
    principal: Reader,
    session: SessionDep,
    page: PageDep,
    status: str | None = None,
) -> Response:
    """The batch list, with the form that generates a new batch."""
    result = service.list_batches(
        page,
        session=session,
        status="active" if status == "active" else "voided" if status == "voided" else None,
    )
    ctx = {
        "result": result,
        "filtered": bool(page.q or status),
        "filters": {"status": status or ""},
        "can_edit": principal.has_role(Role.marketer),
        "levels": LEVELS,
        "form": {},
        "errors": {},
        "results_target": RESULTS,
    }
    return render_list(request, "codes/batches.html", "codes/_batch_results.html", ctx)


@router.post("/codes/batches")
def create_batch_form(
    request: Request,
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
    settings: SettingsDep,
    sku_code: Annotated[str, Form()] = "",
    count: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "unit",
    lot: Annotated[str, Form()] = "",
    production_date: Annotated[str, Form()] = "",
    expiry_date: Annotated[str, Form()] = "",
    regions: Annotated[str, Form()] = "",
) -> Response:
    """Generate a batch, or show the form again with the errors next to their fields."""
    form = {
        "sku_code": sku_code,
        "count": count,
        "level": level,
        "lot": lot,
        "production_date": production_date,
        "expiry_date": expiry_date,
        "regions": regions,
    }
    payload = {
        "sku_code": sku_code.strip() or None,
        "count": count.strip() or None,
        "level": level,
        "lot": lot.strip() or None,
        "production_date": production_date or None,
        "expiry_date": expiry_date or None,
        "regions": regions.replace(",", " ").split(),
    }
    errors: dict[str, str] = {}
    try:
        batch = service.create_batch(
            BatchIn.model_validate(payload), session=session, secret_key=settings.secret_key
        )
    except ValidationError as exc:
        if not sku_code.strip():
            errors["sku_code"] = "codes.error.required"
        for e in exc.errors():
            if e["loc"]:
                kind = "required" if e["type"] == "missing" else "invalid"
                errors.setdefault(str(e["loc"][0]), f"codes.error.{kind}")
            elif "sku_code" not in errors:
                errors["form"] = str(e["msg"]).removeprefix("Value error, ")
    except BconeError as exc:
        name = (exc.field or "form").split("[")[0]
        name = "sku_code" if name == "sku_id" else name if name in form else "form"
        errors[name] = f"codes.error.{exc.code}" if f"codes.error.{exc.code}" in _KNOWN else exc.detail
    else:
        response = redirect_to("/codes")
        flash(request, response, "codes.created_flash", count=f"{batch.count:,}")
        return response
    session.rollback()
    ctx = {
        "result": service.list_batches(PageParams(), session=session),
        "filtered": False,
        "filters": {"status": ""},
        "can_edit": True,
        "levels": LEVELS,
        "form": form,
        "errors": errors,
        "results_target": RESULTS,
    }
    return render(request, "codes/batches.html", ctx, status_code=422)


@router.post("/codes/batches/{batch_id}/void")
def void_batch_form(
    request: Request,
    batch_id: str,
    _: ConsolePrincipal,
    __: Editor,
    session: SessionDep,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Void a batch and go back to the list."""
    batch = service.void_batch(batch_id, session=session, reason=VoidIn(reason=reason[:500]).reason)
    response = redirect_to("/codes")
    flash(request, response, "codes.voided_flash", kind="warning", lot=batch.lot or batch.sku_code)
    return response


@router.get("/codes/lookup")
def lookup_page(
    request: Request,
    _: ConsolePrincipal,
    __: Reader,
    session: SessionDep,
    settings: SettingsDep,
    code: str = "",
) -> Response:
    """Paste a scanned URL or a serial: the code's batch, state and check history."""
    found = None
    error = None
    status = 200
    if code.strip():
        try:
            found = service.lookup_code(code, session=session, secret_key=settings.secret_key)
        except BconeError as exc:
            error, status = f"codes.error.{exc.code}", exc.status
    return render(
        request, "codes/lookup.html", {"code": code, "found": found, "error": error}, status_code=status
    )


def _settings_page(
    request: Request, session: SessionDep, form: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    current = service.code_settings(session=session)
    values = form or {"resolver_host": current.resolver_host, "warn_threshold": str(current.warn_threshold)}
    ctx = {"current": current, "form": values, "errors": errors}
    return render(request, "codes/settings.html", ctx, status_code=status)


@router.get("/codes/settings")
def settings_page(request: Request, _: ConsolePrincipal, __: Owner, session: SessionDep) -> Response:
    """Resolver host, "possible counterfeit" threshold and key versions (owners and admins)."""
    return _settings_page(request, session, {}, {})


@router.post("/codes/settings")
def save_settings(
    request: Request,
    _: ConsolePrincipal,
    __: Owner,
    session: SessionDep,
    settings: SettingsDep,
    resolver_host: Annotated[str, Form()] = "",
    warn_threshold: Annotated[str, Form()] = "",
) -> Response:
    """Save the settings, or show the form again with the errors next to their fields."""
    form = {"resolver_host": resolver_host, "warn_threshold": warn_threshold}
    try:
        data = CodeSettingsUpdate.model_validate(
            {"resolver_host": resolver_host.strip() or None, "warn_threshold": warn_threshold.strip() or None}
        )
    except ValidationError as exc:
        errors = {str(e["loc"][0]): "codes.error.invalid" for e in exc.errors() if e["loc"]}
        return _settings_page(request, session, form, errors, status=422)
    service.update_code_settings(data, session=session, secret_key=settings.secret_key)
    response = redirect_to("/codes/settings")
    flash(request, response, "codes.settings_saved")
    return response


@router.post("/codes/settings/rotate-key")
def rotate_key_form(
    request: Request, _: ConsolePrincipal, __: Owner, session: SessionDep, settings: SettingsDep
) -> Response:
    """Start a new key version and go back to the settings."""
    key = service.rotate_key(session=session, secret_key=settings.secret_key)
    response = redirect_to("/codes/settings")
    flash(request, response, "codes.key_rotated", version=str(key.version))
    return response


# --- Packing, shipping and diversion pages ---------------------------------------------------

from pathlib import Path  # noqa: E402

from fastapi.responses import FileResponse  # noqa: E402

from bcone.codes.messages import PACKING_MESSAGES  # noqa: E402
from bcone.network import service as network  # noqa: E402
from bcone.web.i18n import register_messages  # noqa: E402

register_messages(PACKING_MESSAGES)
register_nav_item(NavItem("codes.diversion", "/codes/diversion", "chart", 45))
_DIVERSION_JS = Path(__file__).parent / "templates" / "codes" / "diversion.js"


def _organizations(session: Any, kind: str | None = None) -> list[Any]:
    return list(network.list_organizations(PageParams(page_size=200), session=session, kind=kind).items)


def _packing_page(
    request: Request,
    session: Any,
    principal: Principal,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    ctx = {
        "events": service.recent_events(session, limit=50),
        "organizations": _organizations(session),
        "can_edit": principal.has_role(Role.marketer),
        "form": form,
        "errors": errors,
    }
    return render(request, "codes/packing.html", ctx, status_code=status)


@router.get("/codes/packing")
def packing_page(request: Request, _: ConsolePrincipal, principal: Reader, session: SessionDep) -> Response:
    """Recent EPCIS events and the form that ships cases or pallets."""
    return _packing_page(request, session, principal, {}, {})


@router.post("/codes/packing/ship")
def ship_form(
    request: Request,
    _: ConsolePrincipal,
    principal: Editor,
    session: SessionDep,
    settings: SettingsDep,
    serials: Annotated[str, Form()] = "",
    destination_org_id: Annotated[str, Form()] = "",
) -> Response:
    """Ship the pasted serials; errors are shown next to the form."""
    codes = serials.replace(",", " ").split()
    form = {"serials": serials, "destination_org_id": destination_org_id}
    try:
        result = service.ship(codes, destination_org_id, session=session, secret_key=settings.secret_key)
    except BconeError as exc:
        session.rollback()
        field = (exc.field or "form").split("[")[0]
        key = field if field in ("serials", "destination_org_id") else "form"
        return _packing_page(
            request, session, principal, form, {key: f"{exc.field}: {exc.detail}"}, exc.status
        )
    response = redirect_to("/codes/packing")
    flash(request, response, "codes.packing.shipped_flash", count=str(result.count))
    return response


@router.get("/codes/diversion")
def diversion_page(
    request: Request,
    _: ConsolePrincipal,
    __: Reader,
    session: SessionDep,
    distributor_id: str = "",
    sku_code: str = "",
    province: str = "",
) -> Response:
    """Diversion alerts: a scatter of where they happen, counts by group, and the list."""
    from bcone.core import geo

    alerts = service.list_alerts(
        session=session,
        distributor_id=distributor_id or None,
        sku_code=sku_code.strip() or None,
        province=province.strip() or None,
    )
    distributors = _organizations(session, "distributor")
    names = {o.id: o.name for o in distributors}
    codes = {a.region for a in alerts} | {a.province for a in alerts}
    codes |= {r for a in alerts for r in a.expected_regions}
    labels = {c: network.division_label(c) for c in codes}
    weights: dict[tuple[float, float], int] = {}
    places: dict[tuple[float, float], str] = {}
    for a in alerts:
        division = geo.get_division(a.region)
        lng = a.lng if a.lng is not None else division.lng if division else None
        lat = a.lat if a.lat is not None else division.lat if division else None
        if lng is not None and lat is not None:
            spot = (round(lng, 2), round(lat, 2))
            weights[spot] = weights.get(spot, 0) + 1
            places.setdefault(spot, labels.get(a.region, a.region))
    points = [[lng, lat, places[(lng, lat)], n, n] for (lng, lat), n in weights.items()]
    ctx = {
        "alerts": alerts,
        "groups": service.alert_groups(session=session),
        "distributors": distributors,
        "names": names,
        "labels": labels,
        "points": points,
        "filters": {"distributor_id": distributor_id, "sku_code": sku_code, "province": province},
    }
    return render(request, "codes/diversion.html", ctx)


@router.get("/codes/assets/diversion.js")
def diversion_script() -> FileResponse:
    """The diversion page's chart code."""
    return FileResponse(
        _DIVERSION_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )
