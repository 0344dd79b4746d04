"""Errors of the codes domain, each with a stable ``code``."""

from __future__ import annotations

from bcone.core.errors import BconeError, Conflict, NotFound, ValidationFailed


class BatchNotFound(NotFound):
    code = "code_batch_not_found"
    title = "Code batch not found"


class UnknownSku(ValidationFailed):
    code = "unknown_sku"
    title = "Unknown SKU"


class SkuWithoutGtin(ValidationFailed):
    """Codes are GS1 Digital Link URLs, which need the SKU's GTIN."""

    code = "sku_without_gtin"
    title = "The SKU has no GTIN"


class BatchVoided(Conflict):
    code = "code_batch_voided"
    title = "The batch is voided"


class KeyVersionsExhausted(Conflict):
    code = "code_key_versions_exhausted"
    title = "No key version left"


class InvalidDigitalLink(ValidationFailed):
    """Not a GS1 Digital Link URL of a unit (``/01/{GTIN}/21/{serial}``), or a wrong GTIN."""

    code = "invalid_digital_link"
    title = "Invalid GS1 Digital Link"


class InvalidSerial(ValidationFailed):
    code = "invalid_serial"
    title = "Invalid serial"


class TooManyForQr(ValidationFailed):
    """QR images are for small batches and samples; printers take the CSV export."""

    code = "too_many_qr_codes"
    title = "Too many codes for QR images"


class CodeNotGenuine(NotFound):
    """A checked code that is not one of ours (unknown, forged, mistyped or voided)."""

    code = "code_not_genuine"
    title = "Code not genuine"


class CodeKeyUnavailable(BconeError):
    """A stored key does not open with this deployment's secret key."""

    code = "code_key_unavailable"
    status = 500
    title = "Code key cannot be opened"


class CodeNotUsable(ValidationFailed):
    """A code in a packing, shipping or commissioning request that cannot take part (422)."""

    code = "code_not_usable"
    title = "Code cannot be used here"


class CodeStateConflict(Conflict):
    """A code whose current state forbids the operation (already packed, elsewhere, ...)."""

    code = "code_state_conflict"
    title = "Code state conflict"


class UnknownOrganization(ValidationFailed):
    code = "unknown_organization"
    title = "Unknown organisation"


class ConsumerLoginFailed(ValidationFailed):
    """A consumer's login on the scan page failed (bad OAuth state or code, wrong one-time code)."""

    code = "consumer_login_failed"
    title = "Consumer login failed"


class TooManyLoginCodes(BconeError):
    """Too many one-time codes for one phone, or too many wrong tries of one code (429)."""

    code = "too_many_login_codes"
    title = "Too many login attempts"
    status = 429


class WeChatNotConfigured(Conflict):
    code = "wechat_not_configured"
    title = "WeChat is not configured"


class PhoneLoginDisabled(NotFound):
    """Phone and one-time code is the development adapter: not served in production."""

    code = "phone_login_disabled"
    title = "Phone login is not available"


class PhoneCodeRefused(ValidationFailed):
    """A one-time code that was wrong, expired or tried too often (``outcome`` says which)."""

    code = "phone_code_refused"
    title = "One-time code refused"


class DiversionAlertNotFound(NotFound):
    code = "diversion_alert_not_found"
    title = "Diversion alert not found"
