"""Every error leaves as RFC 9457 problem details naming the field and the problem; never a
traceback. `problem_response` is the one place that body is built: the handlers below, the
body-size middleware and anything else that refuses a request call it."""

import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.service import RPCError

from api.schemas.problems import PROBLEM_JSON, FieldProblem, Problem
from services import errors

log = logging.getLogger("herald.api")

PROBLEM_TYPE = "tag:herald,2026:problem:"  # + code; RFC 9457 §4: a tag URI, not a link

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

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers


def field_error(field: str, message: str, status: int = 422) -> ApiError:
    return ApiError(status, "validation_error", f"{field}: {message}", field)


def problem_response(
    status: int,
    code: str,
    detail: str,
    errors: Iterable[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The response for a refusal: `code` names the kind of problem (`validation_error`,
    `not_found`...), `detail` says what went wrong this time, `errors` names each input at
    fault."""
    problem = Problem(
        type=PROBLEM_TYPE + code,
        # RFC 9457: a title belongs to the type, the same whatever the occurrence.
        title=code.replace("_", " ").capitalize(),
        status=status,
        detail=detail,
        code=code,
        errors=list(errors),
    )
    return JSONResponse(
        problem.model_dump(), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")


def _named_field(field: str | None, message: str) -> list[FieldProblem]:
    """A refusal about one field; its message starts with the field (`send_at: is in the
    past`), which the problem does not repeat."""
    if field is None:
        return []
    return [FieldProblem(field=field, problem=message.removeprefix(f"{field}: "))]


def _position(document: str | bytes, offset: int) -> str:
    """`line 3, column 14` (both from 1) of a character offset in a JSON document."""
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _malformed_json(exc: RequestValidationError, error: dict[str, Any]) -> JSONResponse:
    """400: the body is not JSON at all, so no field of it can be named; FastAPI's error
    carries the decoder's character offset, which becomes a line and column in the detail."""
    offset = error["loc"][-1] if isinstance(error["loc"][-1], int) else 0
    reason = error.get("ctx", {}).get("error", "not JSON")
    problem = f"is not valid JSON: {reason} at {_position(exc.body or '', offset)}"
    return problem_response(
        400, "malformed_body", f"body: {problem}", [FieldProblem(field="body", problem=problem)]
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path: GET and POST /v1/api-keys are two routes."""
    methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
    return [
        method
        for method in methods
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    ]


def _unreadable(error: UnicodeDecodeError | RecursionError | ValueError) -> JSONResponse:
    """400 for what FastAPI reports as a bare "error parsing the body": bytes that are not
    UTF-8 (JSON is UTF-8 text, RFC 8259), nesting deeper than the decoder goes, or an integer
    longer than Python converts (4,300 digits)."""
    if isinstance(error, UnicodeDecodeError):
        problem = f"is not valid JSON: not UTF-8 text at byte {error.start + 1}"
    elif isinstance(error, RecursionError):
        problem = "is not valid JSON Herald reads: nested too deeply"
    else:
        problem = "is not valid JSON Herald reads: a number with too many digits"
    return problem_response(
        400, "malformed_body", f"body: {problem}", [FieldProblem(field="body", problem=problem)]
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = exc.errors()
        malformed = next((e for e in found if e.get("type") == "json_invalid"), None)
        if malformed is not None:
            return _malformed_json(exc, malformed)
        fields = [
            FieldProblem(field=_field_name(e["loc"]), problem=_clean(e["msg"])) for e in found
        ]
        detail = "; ".join(f"{f.field}: {f.problem}" for f in fields)
        return problem_response(422, "validation_error", detail, fields)

    @app.exception_handler(errors.ServiceError)
    async def refused(request: Request, exc: errors.ServiceError) -> JSONResponse:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        fields = [FieldProblem(field=field, problem=problem) for field, problem in exc.problems]
        named = fields or _named_field(exc.field, exc.message)
        return problem_response(status, exc.code, exc.message, named)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        fields = _named_field(exc.field, exc.message)
        return problem_response(exc.status, exc.code, exc.message, fields, exc.headers)

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
        return problem_response(503, "temporal_unavailable", message, headers={"Retry-After": "5"})

    @app.exception_handler(sqlalchemy.exc.OperationalError)
    @app.exception_handler(sqlalchemy.exc.InterfaceError)
    @app.exception_handler(sqlalchemy.exc.TimeoutError)
    async def database_unreachable(request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL restarting or unreachable, a broken connection, a full pool: the request
        # wrote nothing it committed half-way (each use case commits once), so a retry is safe.
        # The pool drops connections a disconnect invalidated and reconnects by itself.
        log.warning(
            "database unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(getattr(exc, "orig", None) or exc).__name__,
        )
        message = "the database could not be reached; retry the request in a few seconds"
        return problem_response(503, "database_unavailable", message, headers={"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals: no route (404), a method the route lacks (405)..."""
        # FastAPI's "error parsing the body" (JSONDecodeError is a RequestValidationError)
        if isinstance(exc.__cause__, UnicodeDecodeError | RecursionError | ValueError):
            return _unreadable(exc.__cause__)
        phrase = HTTPStatus(exc.status_code).phrase
        detail = str(exc.detail)
        if detail == phrase:  # Starlette's default says nothing the status does not
            detail = f"{phrase}: {request.method} {request.url.path}"
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        headers = exc.headers
        if exc.status_code == 405:  # Starlette's Allow names the first matching route's only
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return problem_response(exc.status_code, code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal_error", "an internal error occurred")
