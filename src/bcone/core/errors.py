"""Domain errors with a stable ``code``, rendered as ``application/problem+json`` (RFC 9457)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class BconeError(Exception):
    """Base of every domain error. Subclasses set ``code``, ``status`` and ``title``."""

    code = "error"
    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://bcone.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.field is not None:
            body["field"] = self.field
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class ValidationFailed(BconeError):
    code = "validation_failed"
    status = 422
    title = "Invalid input"


class NotFound(BconeError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(BconeError):
    code = "conflict"
    status = 409
    title = "Conflict"


class Unauthenticated(BconeError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class Forbidden(BconeError):
    code = "forbidden"
    status = 403
    title = "Forbidden"


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    title = "CSRF check failed"


def problem_response(error: BconeError, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(
        error.to_problem(str(request.url.path)),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _loc_to_field(loc: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    """One place that turns every error into problem+json."""

    @app.exception_handler(BconeError)
    async def _bcone(request: Request, exc: BconeError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _loc_to_field(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        err = ValidationFailed(
            f"{first['field']}: {first['message']}", field=str(first["field"]), errors=errors
        )
        return problem_response(err, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        err = BconeError(str(exc.detail))
        err.status = exc.status_code
        err.code = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}.get(
            exc.status_code, "http_error"
        )
        err.title = str(exc.detail)
        return problem_response(err, request)
