"""A call to Herald as data: built without I/O, sent by the sync or the async client alike.

Every operation is a function returning a `Call` (herald_client/operations/); the clients only
send it (`Herald._run`, `AsyncHerald._run`) and read the answer with `result_of`, so the request
building and error mapping exist once for both.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx
import pydantic
from pydantic import BaseModel

from herald_client.errors import FieldProblem, ValidationError, error_for, unreachable

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    route: str  # the OpenAPI path template, `/v1/notifications/{notification_id}`
    path: str  # the route with its parameters filled in
    read: Callable[[Any], T]  # the decoded JSON answer (None when empty) -> the result
    body: bytes | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    # Safe to send again when the first answer was lost (a timeout): the same outcome, not a
    # second one. Keyed POSTs are; a template's test send is not.
    idempotent: bool = True
    # What makes a repeat a replay Herald answers as the first: the Idempotency-Key sent, or
    # an event's id. The outbox keeps it with the request.
    replay_key: str | None = None
    # What the body and the answer are, for the test that checks them against /openapi.json.
    body_model: type[BaseModel] | None = None
    result_model: type[BaseModel] | None = None

    def httpx_args(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.path,
            "params": dict(self.params),
            "content": self.body,
            "headers": dict(self.headers),
        }


def result_of(call: Call[T], outcome: httpx.Response | httpx.TransportError) -> T:
    """The call's result, or the typed error its answer (or failure) means."""
    if isinstance(outcome, httpx.TransportError):
        raise unreachable(outcome) from outcome
    if not outcome.is_success:
        raise error_for(outcome)
    return call.read(json.loads(outcome.content) if outcome.content else None)


def path(route: str, **params: object) -> str:
    """`route` with each `{name}` replaced by its value, percent-encoded."""
    return route.format(**{name: quote(str(value), safe="") for name, value in params.items()})


def model(cls: type[M], **fields: Any) -> M:
    """A request model from the caller's arguments; what does not fit is the client's
    ValidationError naming the field, before anything is sent."""
    try:
        return cls(**fields)
    except pydantic.ValidationError as exc:
        raise invalid(exc) from None


def invalid(exc: pydantic.ValidationError) -> ValidationError:
    errors = [
        FieldProblem(".".join(str(part) for part in error["loc"]) or "body", error["msg"])
        for error in exc.errors()
    ]
    return ValidationError(
        "; ".join(f"{e.field}: {e.problem}" for e in errors), status=None, errors=errors
    )


def encode(body: BaseModel | Mapping[str, Any]) -> bytes:
    """A request body as JSON: a model without its None fields (Herald's defaults apply), a
    mapping as it is (a merge patch's nulls mean "remove")."""
    if isinstance(body, BaseModel):
        return body.model_dump_json(exclude_none=True, by_alias=True).encode()
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def reader(cls: type[M]) -> Callable[[Any], M]:
    return cls.model_validate


def nothing(_: Any) -> None:
    return None


def get(
    route: str, result: type[M], *, params: Mapping[str, Any] | None = None, **path_params: object
) -> Call[M]:
    return Call(
        "GET",
        route,
        path(route, **path_params),
        reader(result),
        params={k: _query(v) for k, v in (params or {}).items() if v is not None},
        result_model=result,
    )


def send(
    method: str,
    route: str,
    result: type[M],
    body: BaseModel | Mapping[str, Any] | None = None,
    *,
    content_type: str = JSON,
    idempotency_key: str | None = None,
    replay_key: str | None = None,
    idempotent: bool = True,
    **path_params: object,
) -> Call[M]:
    """A POST, PUT, PATCH or DELETE with a JSON body (or none) answered by `result`; with
    `idempotency_key`, sent as the Idempotency-Key header (and the call's key)."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    return Call(
        method,
        route,
        path(route, **path_params),
        reader(result),
        body=None if body is None else encode(body),
        headers={**({"Content-Type": content_type} if body is not None else {}), **headers},
        idempotent=idempotent,
        replay_key=idempotency_key or replay_key,
        body_model=type(body) if isinstance(body, BaseModel) else None,
        result_model=result,
    )


def delete(route: str, **path_params: object) -> Call[None]:
    """A DELETE answered by 204 No Content."""
    return Call("DELETE", route, path(route, **path_params), nothing)


def _query(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)
