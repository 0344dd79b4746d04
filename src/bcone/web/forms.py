"""Console forms of every domain: the values a form shows, the errors next to its fields, saving it.

A domain's ``web.py`` describes each of its forms once with a :class:`FormPage` (template, URL,
messages) and an error mapping built on :func:`field_errors`; the create and update handlers
then only say which service call saves the form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from fastapi import Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from bcone.core.errors import BconeError
from bcone.core.imports import MAX_IMPORT_BYTES, ImportMode, ImportReport, validation_message
from bcone.web.i18n import has_message, request_locale, translate
from bcone.web.templating import flash, redirect_to, render

# What saving a form may raise and the form shows next to its fields: a rule of the service, or
# the schema refusing a value before the service is called.
FORM_ERRORS = (BconeError, PydanticValidationError)

ErrorMapping = Callable[[Exception, str], dict[str, str]]


class Record(Protocol):
    """What a saved form hands back: enough to redirect to it and to name it in the flash."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


R = TypeVar("R", bound=Record)


def locale_of(request: Request) -> str:
    """The language the request's page is shown in."""
    return request_locale(request, request.app.state.settings.default_locale)


def error_message(key: str, detail: str, locale: str) -> str:
    """The message of one error: the translation of ``key``, or in English the precise ``detail``."""
    # The English interface shows the service's precise message; other languages the translation.
    if locale == "en" or not has_message(key):
        return detail
    return translate(key, locale)


def field_errors(
    exc: Exception,
    locale: str,
    *,
    prefix: str,
    pydantic_key: Callable[[str, str], str],
    form_field: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``{form field: message}`` for what a form submission raised (re-raises anything else).

    Message keys are ``prefix`` + the error's code; for a schema error ``pydantic_key(field,
    type)`` names the code. ``form_field`` moves a service field to the input that shows it.
    """
    moved = form_field or {}
    if isinstance(exc, PydanticValidationError):
        out: dict[str, str] = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err.get("loc") else "form"
            key = prefix + pydantic_key(name, err["type"])
            out.setdefault(moved.get(name, name), error_message(key, validation_message(err), locale))
        return out
    if isinstance(exc, BconeError):
        name = exc.field or "form"
        return {moved.get(name, name): error_message(prefix + exc.code, exc.detail, locale)}
    raise exc


def form_values(model: BaseModel) -> dict[str, str]:
    """A form as plain strings, to fill it in again (next to its errors, or from a record)."""
    return {k: str(v) for k, v in model.model_dump().items()}


def typed(request: Request, *names: str) -> str:
    """What was typed into a picker: HTMX sends the input under its own name."""
    for name in ("q", *names):
        value = request.query_params.get(name, "").strip()
        if value:
            return value
    return ""


@dataclass(frozen=True)
class FormPage:
    """One record's create/edit form: ``<base_url>/new`` creates, ``<base_url>/<id>`` saves.

    The template gets ``form`` (values), ``errors``, ``action``, the record under
    ``record_name`` (None on a new form) and ``context``. After saving, the browser goes to the
    record's page with the flash ``<messages>.created`` or ``<messages>.saved``.
    """

    template: str
    record_name: str
    base_url: str
    messages: str
    errors: ErrorMapping
    context: Mapping[str, Any] = field(default_factory=dict)

    def show(
        self,
        request: Request,
        form: dict[str, str],
        *,
        record: Record | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        """The form filled with ``form``, and ``errors`` next to their fields."""
        ctx = {
            **self.context,
            "form": form,
            self.record_name: record,
            "errors": errors or {},
            "action": f"{self.base_url}/{record.id}" if record else f"{self.base_url}/new",
        }
        return render(request, self.template, ctx, status_code=status_code)

    def submit(
        self, request: Request, form: BaseModel, save: Callable[[], R], *, record: Record | None = None
    ) -> Response:
        """Save with ``save()`` and redirect to the record, or show the form again with its errors (422)."""
        try:
            saved = save()
        except FORM_ERRORS as exc:
            errors = self.errors(exc, locale_of(request))
            return self.show(request, form_values(form), record=record, errors=errors, status_code=422)
        response = redirect_to(f"{self.base_url}/{saved.id}")
        flash(request, response, f"{self.messages}.{'saved' if record else 'created'}", name=saved.name)
        return response


# --- file imports -------------------------------------------------------------------------------


def import_mode(value: str) -> ImportMode:
    """The import mode a form chose; anything unknown is the safe all-or-nothing."""
    return ImportMode(value) if value in ImportMode.__members__ else ImportMode.all_or_nothing


def read_upload(file: UploadFile) -> bytes:
    """The uploaded file, one byte past the limit at most (so the import can refuse it as too big)."""
    return file.file.read(MAX_IMPORT_BYTES + 1)


def import_status(mode: ImportMode, report: ImportReport) -> int:
    """422 when the import wrote nothing because of bad rows, else 200."""
    return 422 if mode is ImportMode.all_or_nothing and not report.imported else 200


def report_rows(report: ImportReport, locale: str, key_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """The report's errors for the shared report table: the translated problem and the precise one.

    ``key_of(code)`` is the message key of an error code; without a translation (and in English)
    the summary stays empty and the precise message says it all.
    """
    rows = []
    for e in report.errors:
        key = key_of(e.code)
        summary = translate(key, locale) if locale != "en" and has_message(key) else ""
        rows.append(
            {
                "row": e.row,
                "column": e.column or "",
                "value": e.value or "",
                "summary": summary,
                "detail": e.message,
            }
        )
    return rows
