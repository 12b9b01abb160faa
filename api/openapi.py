"""The OpenAPI document as the API behaves: every refusal a route can give, documented as the
problem details it is (api/errors.py), and operation ids a generated client can use as method
names (`create_notification`, `list_logs`).

Most refusals follow from what a route takes, so they are worked out here, not declared route by
route: an API key (401), Temporal (503), a path id (404), any input (422), a body (400, 413).
A route declares only the refusals of its own use case, `responses={409: {"description": ...}}`;
the problem schema is attached to those too."""

import copy
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security.base import SecurityBase

from api.deps import get_temporal, require_operator
from api.schemas.problems import PROBLEM_JSON, Problem

COMPONENTS = "#/components/schemas/"


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


# What each refusal means, in the words of the OpenAPI document.
INTERNAL: dict[str, Any] = {
    "description": "An unexpected error (`internal_error`); no internals in it."
}
UNAUTHORIZED: dict[str, Any] = {
    "description": "No valid key (`unauthorized`); `WWW-Authenticate` says how to send one.",
    "headers": {
        "WWW-Authenticate": _header(
            '`Bearer realm="herald"`, with `error="invalid_token"` when the key sent is not valid.'
        )
    },
}
NO_OPERATOR_TOKEN: dict[str, Any] = {
    "description": "No METRICS_TOKEN is set, so the route does not exist (`not_found`)."
}
NOT_FOUND: dict[str, Any] = {"description": "Nothing with this id, for this tenant (`not_found`)."}
INVALID: dict[str, Any] = {
    "description": "An input is invalid (`validation_error`); `errors` names each one and its "
    "problem."
}
MALFORMED: dict[str, Any] = {
    "description": "The body is not JSON (`malformed_body`); `detail` says where it stops being."
}
TOO_LARGE: dict[str, Any] = {
    "description": "The body is larger than the limit (`payload_too_large`)."
}
TEMPORAL_DOWN: dict[str, Any] = {
    "description": "Temporal could not be reached (`temporal_unavailable`); retry (with the same "
    "Idempotency-Key or event id, if the request had one).",
    "headers": {"Retry-After": _header("Seconds to wait before retrying.")},
}


def operation_id(route: APIRoute) -> str:
    """The route function's name, which is unique and says what the route does."""
    return route.name


def routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of the app, through included routers, with its full path (`path_format`)
    and all its dependencies, the app's and its routers' included."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def refusals(route: Any) -> dict[int, dict[str, Any]]:
    """The problem responses a route can give because of what it takes."""
    calls = [d.call for d in _dependants(route.dependant)]
    found: dict[int, dict[str, Any]] = {500: INTERNAL}
    if any(isinstance(call, SecurityBase) for call in calls):
        found[401] = UNAUTHORIZED
    if require_operator in calls:
        found[404] = NO_OPERATOR_TOKEN
    if get_temporal in calls:
        found[503] = TEMPORAL_DOWN
    if route.dependant.path_params:
        found[404] = NOT_FOUND
    if get_flat_params(route.dependant) or route.body_field:
        found[422] = INVALID
    if route.body_field:
        found[400] = MALFORMED
    if route.body_field or route.methods & {"POST", "PUT", "PATCH"}:
        found[413] = TOO_LARGE
    return found


def _is_error(status: str) -> bool:
    return status == "default" or (status.isdigit() and int(status) >= 400)


def document_problems(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Adds each route's refusals to `schema`, every error response as a Problem, and takes out
    FastAPI's default 422 body (`HTTPValidationError`), which this API never sends."""
    problem = {PROBLEM_JSON: {"schema": {"$ref": COMPONENTS + "Problem"}}}
    for route in routes(app):
        if not route.include_in_schema:
            continue
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            responses = {
                status: response
                for status, response in operation["responses"].items()
                if "HTTPValidationError" not in str(response)
            }
            for status, refusal in refusals(route).items():
                responses.setdefault(str(status), copy.deepcopy(refusal))
            for status, response in responses.items():
                if _is_error(status) and not response.get("content"):
                    response["content"] = problem
            operation["responses"] = dict(sorted(responses.items()))
    definitions = Problem.model_json_schema(ref_template=COMPONENTS + "{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(definitions.pop("$defs", {}), Problem=definitions)
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema


def install_openapi(app: FastAPI) -> None:
    """/openapi.json (and /docs) serve FastAPI's document with the refusals above added."""
    generate = app.openapi  # FastAPI's own: builds once, again only when routes are added

    def openapi() -> dict[str, Any]:
        return document_problems(generate(), app)  # idempotent: adds only what is missing

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
