"""Every error leaves as JSON that names the field and the problem; never a traceback."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("herald.api")


class ApiError(Exception):
    """A domain-level refusal the API turns into a 4xx/5xx."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def field_error(field: str, message: str, status: int = 422) -> ApiError:
    return ApiError(status, "validation_error", f"{field}: {message}", field)


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


def _body(code: str, message: str, errors: list[dict] | None = None) -> dict:
    body = {"error": {"code": code, "message": message}}
    if errors:
        body["error"]["fields"] = errors
    return body


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_name(e["loc"]), "message": _clean(e["msg"])} for e in exc.errors()]
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse(_body("validation_error", message, errors), status_code=422)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.message}] if exc.field else None
        return JSONResponse(_body(exc.code, exc.message, errors), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            _body("http_error", str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(_body("internal_error", "an internal error occurred"), status_code=500)
