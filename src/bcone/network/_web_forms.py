"""Helpers of the network's console pages: reading form fields, showing errors next to them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from bcone.core.auth import Principal, Role
from bcone.core.deps import require_roles
from bcone.core.errors import ValidationFailed
from bcone.core.geo import Division, UnknownDivision, find_divisions, get_division
from bcone.network.errors import AmbiguousDivision, NotANumber
from bcone.web.forms import field_errors as _field_errors

Reader = Annotated[Principal, Depends(require_roles(*Role))]
Manager = Annotated[Principal, Depends(require_roles(Role.sales_manager))]

PREFIX = "network.error."
# Service fields that a form shows under another input.
FORM_FIELD = {"org_id": "org_code", "assigned_org_ids": "assigned_org_codes", "staff_id": "form"}
_PYDANTIC_MESSAGES = {"missing": "required", "string_too_short": "required", "float_parsing": "number"}


def field_errors(exc: Exception, locale: str) -> dict[str, str]:
    """``{form field: message}`` for what a network form submission raised."""
    return _field_errors(exc, locale, prefix=PREFIX, pydantic_key=_pydantic_key, form_field=FORM_FIELD)


def _pydantic_key(field: str, kind: str) -> str:
    if (field.endswith("phone") and kind == "value_error") or kind == "phone":
        return "phone"
    return _PYDANTIC_MESSAGES.get(kind, "invalid")


def report_key(code: str) -> str:
    """The message key of an import error code."""
    return PREFIX + _PYDANTIC_MESSAGES.get(code, "invalid" if code.endswith("_error") else code)


def resolve_division(text: str, *, field: str = "division_code") -> str:
    """A division code from what a person typed: the code, a name, or names from the province down.

    ``440305``, ``南山区`` and ``广东省 深圳市 南山区`` all give 440305; a name shared by several
    divisions (朝阳区) needs its province or city in front.
    """
    text = text.strip()
    if not text:
        raise ValidationFailed("a division is required", field=field)
    if text.isdigit():
        if get_division(text) is None:
            raise _unknown(text, field)
        return text
    parent: Division | None = None
    for token in text.split():
        matches = find_divisions(token, parent_code=parent.code if parent else None)
        if not matches:
            raise _unknown(text, field)
        if len(matches) > 1:
            names = ", ".join(f"{m.code} {m.name}" for m in matches[:5])
            raise AmbiguousDivision(f"{token!r} names several divisions: {names}", field=field)
        parent = matches[0]
    assert parent is not None
    return parent.code


def _unknown(text: str, field: str) -> UnknownDivision:
    return UnknownDivision(f"{text!r} is not a known division code or name", field=field)


def optional_float(value: str, field: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise NotANumber(f"{value!r} is not a number", field=field) from None
