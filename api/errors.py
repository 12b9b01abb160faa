"""Every error leaves as JSON that names the field and the problem; never a traceback."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from services import errors

log = logging.getLogger("herald.api")

STATUS = {
    errors.Invalid: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Gone: 410,
    errors.Forbidden: 403,
    errors.Unavailable: 503,
}


class ApiError(Exception):
    """A refusal that belongs to HTTP itself (authentication, a header), not to a use case."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def field_error(field: str, message: str, status: int = 422) -> ApiError:
    return ApiError(status, "validation_error", f"{field}: {message}", field)


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


def _body(
    code: str, message: str, field: str | None = None, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    fields = errors or ([{"field": field, "message": message}] if field else None)
    if fields:
        body["error"]["fields"] = fields
    return body


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field_name(e["loc"]), "message": _clean(e["msg"])} for e in exc.errors()
        ]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(_body("validation_error", message, errors=errors), status_code=422)

    @app.exception_handler(errors.ServiceError)
    async def refused(request: Request, exc: errors.ServiceError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        return JSONResponse(_body(exc.code, exc.message, exc.field), status_code=status)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message, exc.field), status_code=exc.status)

    @app.exception_handler(RPCError)
    async def temporal_unreachable(request: Request, exc: RPCError) -> JSONResponse:
        # Whatever the route: nothing it stored is lost (starts and signals are idempotent by
        # workflow id, events by their id), so the caller's retry completes the request.
        log.warning(
            "Temporal call failed on %s %s: %s", request.method, request.url.path, exc.message
        )
        message = (
            f"Temporal could not be reached ({exc.message}); retry the request "
            "(with the same Idempotency-Key or event id, if it had one)"
        )
        return JSONResponse(
            _body("temporal_unavailable", message), status_code=503, headers={"Retry-After": "5"}
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body("http_error", str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body("internal_error", "an internal error occurred"), status_code=500)
