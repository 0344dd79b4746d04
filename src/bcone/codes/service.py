"""The codes domain's behaviour: the only entry other domains may call.

Every function takes the unit of work as ``session=``; those that touch code keys also take the
deployment's ``secret_key`` (``Settings.secret_key``), which seals the keys at rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from bcone.codes._batches import create_batch, get_batch, list_batches, void_batch
from bcone.codes._cache import TtlCache, database_key
from bcone.codes._checks import EVENT_TYPE, check_code, lookup_code, tenant_of
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
from bcone.codes.schemas import CheckOut, ExportFormat, Whereabouts
from bcone.core.tenancy import TENANT_KEY, current_tenant


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


# Scan listeners: domains above codes (promotions) act on a check inside its unit of work without
# codes importing them. A listener gets the check, the request's context (query parameters and
# cookies such as ``openid``, ``device``, ``store_id``, plus ``locale``) and the session, bound to
# the code's tenant; the mappings listeners return are merged, shown on the scan page and added to
# its JSON. Listeners run for every check of a known tenant (genuine or not) and decide themselves.
ScanListener = Callable[[CheckOut, Mapping[str, str], Session], Mapping[str, object] | None]
_SCAN_LISTENERS: list[ScanListener] = []


def register_scan_listener(listener: ScanListener) -> None:
    """Call ``listener`` after every check of a known tenant (once, however often registered)."""
    if listener not in _SCAN_LISTENERS:
        _SCAN_LISTENERS.append(listener)


def notify_scan_listeners(
    result: CheckOut, context: Mapping[str, str], *, session: Session
) -> dict[str, object]:
    """Run the registered listeners in the check's unit of work; their merged answers."""
    extras: dict[str, object] = {}
    if session.info.get(TENANT_KEY) is None:
        return extras
    for listener in list(_SCAN_LISTENERS):
        answer = listener(result, context, session)
        if answer:
            extras.update(answer)
    return extras


__all__ = [
    "DEFAULT_RESOLVER_HOST",
    "EVENT_TYPE",
    "MAX_QR_CODES",
    "CodeExport",
    "ParsedLink",
    "TtlCache",
    "check_code",
    "code_settings",
    "create_batch",
    "database_key",
    "get_batch",
    "list_batches",
    "lookup_code",
    "notify_scan_listeners",
    "open_export",
    "parse_digital_link",
    "qr_zip",
    "register_scan_listener",
    "rotate_key",
    "sample_urls",
    "update_code_settings",
    "void_batch",
]

# Packing, shipping, EPCIS history and channel diversion (窜货).
from bcone.codes._diversion import (  # noqa: E402
    add_exception,
    alert_groups,
    close_alert,
    list_alerts,
    list_exceptions,
    set_rules,
    tolerance_km,
)
from bcone.codes._epcis import code_history  # noqa: E402
from bcone.codes._packing import (  # noqa: E402
    MAX_CODES_PER_CALL,
    aggregate,
    aggregate_many,
    commission,
    commission_range,
    disaggregate,
    open_case,
    receive,
    recent_events,
    ship,
    whereabouts,
)

__all__ += [
    "MAX_CODES_PER_CALL",
    "add_exception",
    "aggregate",
    "aggregate_many",
    "alert_groups",
    "close_alert",
    "code_history",
    "commission",
    "commission_range",
    "disaggregate",
    "list_alerts",
    "list_exceptions",
    "open_case",
    "receive",
    "recent_events",
    "set_rules",
    "ship",
    "tolerance_km",
    "whereabouts",
]

# The consumer identity of the scan page (a port: WeChat OAuth, or phone + one-time code in
# development) and the scan page's settings (survey link).
from bcone.codes._identity import (  # noqa: E402
    COOKIE as CONSUMER_COOKIE,
)
from bcone.codes._identity import (  # noqa: E402
    NONCE_COOKIE,
    ConsumerIdentity,
    HttpClient,
    HttpxClient,
    check_state,
    configure_wechat,
    make_state,
    new_nonce,
    phone_hash,
    read_identity,
    sign_identity,
    start_phone_login,
    verify_phone_login,
)
from bcone.codes._space import ScanPageSettings, scan_page_settings, survey_link  # noqa: E402

__all__ += [
    "CONSUMER_COOKIE",
    "NONCE_COOKIE",
    "ConsumerIdentity",
    "HttpClient",
    "HttpxClient",
    "ScanPageSettings",
    "check_state",
    "configure_wechat",
    "make_state",
    "new_nonce",
    "phone_hash",
    "read_identity",
    "scan_page_settings",
    "sign_identity",
    "start_phone_login",
    "survey_link",
    "tenant_of",
    "verify_phone_login",
]


def unit_whereabouts(serial: str, *, session: Session) -> Whereabouts | None:
    """Where a checked (canonical) serial is: its containers and holder; None if never commissioned."""
    from bcone.codes._packing import whereabouts_of

    return whereabouts_of(session, serial)


def holder_of(serial: str, *, session: Session) -> str | None:
    """The organisation a code's unit (or its case or pallet) was last shipped to or received by."""
    where = unit_whereabouts(serial, session=session)
    return where.holder_org_id if where else None


__all__ += ["holder_of", "unit_whereabouts"]
