"""Pages of the codes domain: the consumers' scan page (the printed URL) and the console pages."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from bcone.codes import service
from bcone.codes.errors import CodeNotGenuine, PhoneCodeRefused, PhoneLoginDisabled, WeChatNotConfigured
from bcone.codes.messages import CODES_MESSAGES
from bcone.codes.messages import register as _register_messages
from bcone.codes.schemas import BatchIn, CheckOut, CodeSettingsUpdate, Location, PackingLevel, VoidIn
from bcone.codes.service import ConsumerIdentity
from bcone.core.auth import BRAND_ROLES, Principal, Role
from bcone.core.db import Database, end_unit_of_work, run_blocking
from bcone.core.deps import PageDep, SessionDep, SettingsDep, require_roles
from bcone.core.errors import BconeError, ValidationFailed, problem_response
from bcone.core.pagination import PageParams
from bcone.core.settings import Settings, get_settings
from bcone.core.tenancy import bind_tenant
from bcone.web.deps import ConsolePrincipal
from bcone.web.i18n import request_locale
from bcone.web.nav import NavItem, register_nav_item
from bcone.web.templating import DISPLAY_TIMEZONE, flash, redirect_to, render, render_list

_register_messages()
register_nav_item(NavItem("nav.codes", "/codes", "box", 45))

router = APIRouter(include_in_schema=False)
# The consumers' routes (the printed URL and its login): mounted first by the app, since the
# scan is the hottest route and FastAPI tries routes in order (hundreds of console and API
# routes before it otherwise: a fifth of a scan's CPU went to route matching).
scan_router = APIRouter(include_in_schema=False)
T = TypeVar("T")

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


# Identity keys a client must not set itself outside development (the dev adapter's shortcut).
_IDENTITY_KEYS = ("openid", "owner_type", "identity_via", "identities")
_SCAN_PATH = re.compile(r"^/01/(\d{8,14})/21/([0-9A-Za-z]{1,64})$")


def _consumer(request: Request, secret_key: str) -> ConsumerIdentity | None:
    return service.read_identity(request.cookies.get(service.CONSUMER_COOKIE), secret_key=secret_key)


def _development(settings: Settings) -> bool:
    return settings.environment != "production"


@scan_router.get("/01/{gtin}/21/{serial}")
async def scan(
    request: Request,
    gtin: str,
    serial: str,
    settings: SettingsDep,
    lat: Annotated[float | None, Query()] = None,
    lng: Annotated[float | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=6)] = None,
) -> Response:
    """The printed URL: checks the code, records the check and answers a phone (H5 page) or an
    app (``Accept: application/json``: the check as JSON, 404 problem+json when not genuine).

    The consumer is who the signed ``bcone_consumer`` cookie says (WeChat OAuth, or phone and
    one-time code in development); inside WeChat without one, the page first sends the browser
    through WeChat's OAuth when the brand has configured its official account. In development
    the ``openid`` query parameter or cookie still names a consumer (never in production).

    The unit of work runs in a database thread (``run_blocking``: a thinner hop than FastAPI's
    thread pool for sync routes), so the event loop only parses and renders."""
    wants_json = _wants_json(request)
    db: Database = request.app.state.db
    identity = _consumer(request, settings.secret_key)
    try:
        location = _location(lat, lng, region)
        if identity is None and not wants_json and "MicroMessenger" in request.headers.get("user-agent", ""):
            login = await run_blocking(
                _wechat_login,
                request.url.path,
                str(request.base_url),
                session=db.open_session(write=False),
                secret_key=settings.secret_key,
            )
            if login is not None:
                return _redirect_to_wechat(login, settings)
        context = {**request.cookies, **request.query_params, "locale": request_locale(request)}
        if not _development(settings):
            for key in _IDENTITY_KEYS:
                context.pop(key, None)
        # Opening a session does no I/O; the unit of work runs in the scans' own threads.
        session = db.open_session(write=True)
        result, extras, page = await _in_scan_thread(
            _scan_unit,
            gtin,
            serial,
            location,
            context,
            identity,
            session=session,
            secret_key=settings.secret_key,
            development=_development(settings),
        )
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
        answer = {**result.model_dump(mode="json"), **extras}
        if page.get("survey_url"):
            answer["survey_url"] = page["survey_url"]
        return JSONResponse(answer, status_code=status)
    return render(
        request,
        "codes/scan.html",
        {**_scan_context(result), "scan_extras": extras, "page": page},
        status_code=status,
    )


# Scans run in a small pool of their own rather than the 40 database writer threads: a scan is
# mostly Python holding the GIL, and every extra thread contending for it costs CPU (measured:
# about a third more CPU per scan with 16 scans in flight on 40 threads than on 4). Four threads
# per process keep the database busy while one waits for it. BCONE_SCAN_THREADS changes it.
_scan_pool: list[ThreadPoolExecutor] = []
_scan_pool_lock = threading.Lock()


async def _in_scan_thread(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    if not _scan_pool:
        with _scan_pool_lock:
            if not _scan_pool:
                threads = get_settings().scan_threads
                _scan_pool.append(ThreadPoolExecutor(threads, thread_name_prefix="bcone-scan"))
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_scan_pool[0], call)


def _scan_unit(
    gtin: str,
    serial: str,
    location: Location,
    context: dict[str, str],
    identity: ConsumerIdentity | None,
    *,
    session: Session,
    secret_key: str,
    development: bool,
) -> tuple[CheckOut, dict[str, object], dict[str, Any]]:
    """One scan's unit of work: the check and the scan listeners, committed once; with what the
    page shows besides (login links, survey link)."""
    try:
        identities: list[tuple[str, str]] = []
        identity_tenant: str | None = None
        if identity is not None:
            identities, identity_tenant = identity.identities(), identity.tenant_id
        elif development and context.get("openid"):
            dev = ConsumerIdentity(tenant_id="", via="development", openid=context["openid"][:64])
            identities = dev.identities()
        if context.get("device"):
            identities.append(("device", context["device"][:128]))
        result = service.check_code(
            gtin,
            serial,
            location,
            session=session,
            secret_key=secret_key,
            identities=identities,
            identity_tenant=identity_tenant,
        )
        tenant_id = session.info.get("tenant_id")
        if identity is not None and identity.tenant_id == tenant_id:
            context = {**context, **identity.context(), "identities": json.dumps(identities)}
        elif development and context.get("openid"):
            context = {**context, "identity_via": "development", "identities": json.dumps(identities)}
        extras = service.notify_scan_listeners(result, context, session=session)
        page = _page_extras(result, session, secret_key, identity, tenant_id, development, context)
    except BaseException:
        end_unit_of_work(session, commit=False)
        raise
    end_unit_of_work(session, commit=True)
    return result, extras, page


def _page_extras(
    result: CheckOut,
    session: Session,
    secret_key: str,
    identity: ConsumerIdentity | None,
    tenant_id: Any,
    development: bool,
    context: dict[str, str],
) -> dict[str, Any]:
    if not isinstance(tenant_id, str) or not result.genuine:
        return {}
    page_settings = service.scan_page_settings(session, tenant_id, secret_key)
    page: dict[str, Any] = {}
    if identity is not None and identity.tenant_id == tenant_id:
        page["consumer"] = identity.phone_masked or (identity.openid or "")[:6] + "…"
    elif not context.get("openid"):
        if page_settings.wechat is not None:
            page["wechat_login"] = True
        elif development:
            page["phone_login"] = True
    if page_settings.nps_survey_url:
        page["survey_url"] = service.survey_link(
            page_settings.nps_survey_url,
            {
                "org_id": service.holder_of(result.serial, session=session),
                "sku": result.product.sku_code if result.product else None,
                "region": result.first_region,
                "serial": result.serial,
            },
        )
    return page


def _wechat_login(path: str, base_url: str, *, session: Session, secret_key: str) -> tuple[str, str] | None:
    """(WeChat's authorize URL, the nonce for the browser's cookie) when the code's brand logs its
    consumers in with WeChat; None otherwise."""
    try:
        match = _SCAN_PATH.match(path)
        if match is None:
            return None
        tenant_id = service.tenant_of(match.group(1), match.group(2), session=session, secret_key=secret_key)
        if tenant_id is None:
            return None
        app = service.scan_page_settings(session, tenant_id, secret_key).wechat
        if app is None:
            return None
        nonce = service.new_nonce()
        state = service.make_state(secret_key=secret_key, nonce=nonce, tenant_id=tenant_id, next_path=path)
        callback = f"{base_url.rstrip('/')}/consumer/wechat/callback?{urlencode({'next': path})}"
        return app.authorize(callback, state), nonce
    finally:
        end_unit_of_work(session, commit=False)


def _redirect_to_wechat(login: tuple[str, str], settings: Settings) -> Response:
    authorize, nonce = login
    response = RedirectResponse(authorize, status_code=302)
    response.set_cookie(
        service.NONCE_COOKIE,
        nonce,
        max_age=600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def _set_consumer(response: Response, identity: ConsumerIdentity, settings: Settings) -> Response:
    response.set_cookie(
        service.CONSUMER_COOKIE,
        service.sign_identity(identity, secret_key=settings.secret_key),
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return response


def _next_path(value: str | None) -> tuple[str, str, str]:
    """A scan path to return to (never another site): (path, gtin, serial); 422 otherwise."""
    match = _SCAN_PATH.match(value or "")
    if match is None:
        raise ValidationFailed(
            "next must be the path of a scanned code (/01/{gtin}/21/{serial})", field="next"
        )
    return match.group(0), match.group(1), match.group(2)


@scan_router.get("/consumer/wechat/login")
async def wechat_login(
    request: Request, settings: SettingsDep, next: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Send the browser to WeChat's OAuth for the brand of the code at ``next``."""
    try:
        path, _, _ = _next_path(next)
        db: Database = request.app.state.db
        login = await run_blocking(
            _wechat_login,
            path,
            str(request.base_url),
            session=db.open_session(write=False),
            secret_key=settings.secret_key,
        )
        if login is None:
            raise WeChatNotConfigured("this brand has no WeChat official account configured", field="next")
    except BconeError as exc:
        return problem_response(exc, request)
    return _redirect_to_wechat(login, settings)


@scan_router.get("/consumer/wechat/callback")
async def wechat_callback(
    request: Request,
    settings: SettingsDep,
    code: Annotated[str, Query(max_length=128)] = "",
    state: Annotated[str, Query(max_length=128)] = "",
    next: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """WeChat's redirect after OAuth: check the signed state against this browser's nonce,
    exchange the code for the openid (and unionid), keep it in the signed cookie, go back."""
    try:
        path, gtin, serial = _next_path(next)
        db: Database = request.app.state.db
        identity = await run_blocking(
            _wechat_exchange,
            gtin,
            serial,
            path,
            code,
            state,
            request.cookies.get(service.NONCE_COOKIE),
            session=db.open_session(write=False),
            secret_key=settings.secret_key,
        )
    except BconeError as exc:
        return problem_response(exc, request)
    response = _set_consumer(RedirectResponse(path, status_code=303), identity, settings)
    response.delete_cookie(service.NONCE_COOKIE)
    return response


def _wechat_exchange(
    gtin: str,
    serial: str,
    path: str,
    code: str,
    state: str,
    nonce: str | None,
    *,
    session: Session,
    secret_key: str,
) -> ConsumerIdentity:
    try:
        tenant_id = service.tenant_of(gtin, serial, session=session, secret_key=secret_key)
        if tenant_id is None:
            raise ValidationFailed("not a code of any brand here", field="next")
        service.check_state(
            state, secret_key=secret_key, nonce_cookie=nonce, tenant_id=tenant_id, next_path=path
        )
        app = service.scan_page_settings(session, tenant_id, secret_key).wechat
        if app is None:
            raise WeChatNotConfigured("this brand has no WeChat official account configured", field="next")
        return app.exchange(code, tenant_id)
    finally:
        end_unit_of_work(session, commit=False)


@scan_router.get("/consumer/phone")
def phone_login_page(
    request: Request, settings: SettingsDep, next: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Development adapter: type a phone number, then the one-time code written to the log."""
    if not _development(settings):
        return problem_response(PhoneLoginDisabled("phone login is a development adapter"), request)
    try:
        path, _, _ = _next_path(next)
    except BconeError as exc:
        return problem_response(exc, request)
    return render(
        request, "codes/consumer_phone.html", {"next": path, "step": "phone", "phone": "", "error": None}
    )


@scan_router.post("/consumer/phone")
async def phone_login(
    request: Request,
    settings: SettingsDep,
    next: Annotated[str, Form(max_length=200)] = "",
    phone: Annotated[str, Form(max_length=32)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Send a code (no ``code`` field) or check one; a proven phone goes into the signed cookie."""
    if not _development(settings):
        return problem_response(PhoneLoginDisabled("phone login is a development adapter"), request)
    db: Database = request.app.state.db
    try:
        path, gtin, serial = _next_path(next)
        outcome, identity, left = await run_blocking(
            _phone_unit,
            gtin,
            serial,
            phone,
            code,
            session=db.open_session(write=True),
            secret_key=settings.secret_key,
        )
    except BconeError as exc:
        if _wants_json(request):
            return problem_response(exc, request)
        step = "code" if code else "phone"
        error = {"field": exc.field, "detail": exc.detail, "code": exc.code}
        return render(
            request,
            "codes/consumer_phone.html",
            {"next": next, "step": step, "phone": phone, "error": error},
            status_code=exc.status,
        )
    if outcome == "sent":
        return render(
            request,
            "codes/consumer_phone.html",
            {"next": path, "step": "code", "phone": phone, "error": None},
        )
    if identity is None:
        refused = PhoneCodeRefused(
            f"the code is {outcome}" + (f"; {left} tries left" if outcome == "wrong" else ""),
            field="code",
            outcome=outcome,
            tries_left=left,
        )
        if _wants_json(request):
            return problem_response(refused, request)
        return render(
            request,
            "codes/consumer_phone.html",
            {
                "next": path,
                "step": "phone" if outcome != "wrong" else "code",
                "phone": phone,
                "error": {"field": "code", "detail": refused.detail, "code": outcome},
            },
            status_code=refused.status,
        )
    return _set_consumer(RedirectResponse(path, status_code=303), identity, settings)


def _phone_unit(
    gtin: str, serial: str, phone: str, code: str, *, session: Session, secret_key: str
) -> tuple[str, ConsumerIdentity | None, int]:
    """Send or check a code in the code's tenant; committed even when the code is wrong (the try counts)."""
    try:
        tenant_id = service.tenant_of(gtin, serial, session=session, secret_key=secret_key)
        if tenant_id is None:
            raise ValidationFailed("not a code of any brand here", field="next")
        bind_tenant(session, tenant_id)
        if not code.strip():
            service.start_phone_login(phone, session=session, secret_key=secret_key)
            answer: tuple[str, ConsumerIdentity | None, int] = ("sent", None, 0)
        else:
            answer = service.verify_phone_login(phone, code, session=session, secret_key=secret_key)
    except BaseException:
        end_unit_of_work(session, commit=False)
        raise
    end_unit_of_work(session, commit=True)
    return answer


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
    values = form or {
        "resolver_host": current.resolver_host,
        "warn_threshold": str(current.warn_threshold),
        "nps_survey_url": current.nps_survey_url or "",
        "wechat_appid": current.wechat_appid or "",
        "wechat_scope": current.wechat_scope or "snsapi_base",
        "wechat_open_platform_id": current.wechat_open_platform_id or "",
    }
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
    nps_survey_url: Annotated[str, Form()] = "",
    wechat_appid: Annotated[str, Form()] = "",
    wechat_secret: Annotated[str, Form()] = "",
    wechat_scope: Annotated[str, Form()] = "snsapi_base",
    wechat_open_platform_id: Annotated[str, Form()] = "",
) -> Response:
    """Save the settings, or show the form again with the errors next to their fields.

    The WeChat app secret is write-only: left empty, the stored one is kept."""
    form = {
        "resolver_host": resolver_host,
        "warn_threshold": warn_threshold,
        "nps_survey_url": nps_survey_url,
        "wechat_appid": wechat_appid,
        "wechat_scope": wechat_scope,
        "wechat_open_platform_id": wechat_open_platform_id,
    }
    values: dict[str, Any] = {
        "resolver_host": resolver_host.strip() or None,
        "warn_threshold": warn_threshold.strip() or None,
        "nps_survey_url": nps_survey_url.strip(),
        "wechat_appid": wechat_appid.strip(),
        "wechat_scope": wechat_scope or "snsapi_base",
        "wechat_open_platform_id": wechat_open_platform_id.strip(),
    }
    if wechat_secret.strip():
        values["wechat_secret"] = wechat_secret.strip()
    try:
        data = CodeSettingsUpdate.model_validate(values)
        service.update_code_settings(data, session=session, secret_key=settings.secret_key)
    except ValidationError as exc:
        errors = {str(e["loc"][0]): "codes.error.invalid" for e in exc.errors() if e["loc"]}
        return _settings_page(request, session, form, errors, status=422)
    except BconeError as exc:
        session.rollback()
        return _settings_page(request, session, form, {exc.field or "form": exc.detail}, status=exc.status)
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
    op: dict[str, str] | None = None,
) -> Response:
    ctx = {
        "events": service.recent_events(session, limit=50),
        "organizations": _organizations(session),
        "can_edit": principal.has_role(Role.marketer),
        "form": form,
        "errors": errors,
        "op": op or {},
    }
    return render(request, "codes/packing.html", ctx, status_code=status)


_PACKING_ACTIONS = ("commission", "aggregate", "disaggregate", "receive")


@router.post("/codes/packing/op/{action}")
def packing_form(
    request: Request,
    action: str,
    _: ConsolePrincipal,
    principal: Editor,
    session: SessionDep,
    settings: SettingsDep,
    serials: Annotated[str, Form()] = "",
    parent: Annotated[str, Form()] = "",
    org_id: Annotated[str, Form()] = "",
) -> Response:
    """Commission pasted codes, pack children into a case or pallet, unpack one, or receive
    shipped goods at an organisation; the first bad code is shown with the form, nothing written."""
    codes = serials.replace(",", " ").split()
    op = {"action": action, "serials": serials, "parent": parent, "org_id": org_id}
    key = settings.secret_key
    try:
        if action == "commission":
            result = service.commission(codes, session=session, secret_key=key)
        elif action == "aggregate":
            if not parent.strip():
                raise ValidationFailed("the case or pallet code is required", field="parent")
            result = service.aggregate(parent.strip(), codes, session=session, secret_key=key)
        elif action == "disaggregate":
            result = service.disaggregate(parent.strip(), session=session, secret_key=key)
        elif action == "receive":
            result = service.receive(codes, org_id, session=session, secret_key=key)
        else:
            raise ValidationFailed(
                f"unknown action {action!r} (one of {', '.join(_PACKING_ACTIONS)})", field="action"
            )
    except BconeError as exc:
        session.rollback()
        detail = (
            exc.detail if not exc.field or exc.detail.startswith(exc.field) else f"{exc.field}: {exc.detail}"
        )
        op.update(field=exc.field or "", detail=detail)
        return _packing_page(request, session, principal, {}, {}, exc.status, op)
    response = redirect_to("/codes/packing")
    flash(request, response, f"codes.packing.done.{action}", count=str(result.count))
    return response


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
    principal: Reader,
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
            weights[spot] = weights.get(spot, 0) + a.occurrences
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
        "can_edit": principal.has_role(Role.marketer),
    }
    return render(request, "codes/diversion.html", ctx)


@router.post("/codes/diversion/alerts/{alert_id}/close")
def close_alert_form(
    request: Request, alert_id: str, _: ConsolePrincipal, __: Editor, session: SessionDep
) -> Response:
    """Mark an alert handled (its next occurrence opens a new one)."""
    service.close_alert(alert_id, session=session)
    response = redirect_to("/codes/diversion")
    flash(request, response, "codes.diversion.closed_flash")
    return response


@router.get("/codes/assets/diversion.js")
def diversion_script() -> FileResponse:
    """The diversion page's chart code."""
    return FileResponse(
        _DIVERSION_JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"}
    )
