"""What no request may carry, whatever the route: text PostgreSQL or UTF-8 cannot hold, numbers
JSON or a bigint cannot hold, and JSON nested past any real use.

Python's `json` accepts `NaN`, `Infinity`, `1e999` (infinity), lone surrogates (`"\\ud800"`) and
integers of any size, and a percent-encoded `%00` reaches a path or query parameter as a NUL
character. Each got as far as the database (or the response encoder) and became a 500. Rather
than a rule per field, one app-wide dependency walks every path and query parameter and the
parsed JSON body (dict keys and free-form `context`, event `data` and preferences included)
before any route runs, and refuses the request with a 422 naming the field.
"""

import math
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from api.schemas.common import INT64_MAX, INT64_MIN

# Deeper than any body Herald takes (preferences nest four levels); a deeper one would cost
# recursion in every encoder it passes through, up to the response's.
MAX_JSON_DEPTH = 32

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why PostgreSQL (NUL) or UTF-8 (a lone surrogate) cannot hold `text`, if either."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000), which cannot be stored"
    return f"contains a lone surrogate ({ascii(found.group())[1:-1]}), which is not valid Unicode"


def json_problem(document: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The first value of a parsed JSON document Herald refuses, as (its location, why), or None.

    Iterative, so a document nested as deep as the parser allows cannot exhaust the stack here;
    a location is built only for containers and for the value refused (a 256 KiB body of 40,000
    numbers is checked in a few milliseconds). json.loads gives exact types, hence `type() is`."""
    if type(document) is not dict and type(document) is not list:
        found = _scalar_problem(document)
        return ((), found) if found else None
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while pending:
        location, value = pending.pop()
        if len(location) >= MAX_JSON_DEPTH:
            return location, f"nests deeper than {MAX_JSON_DEPTH} levels"
        if type(value) is dict:
            for key in value:
                if _UNSTORABLE.search(key):
                    return location, f"has a key that {text_problem(key)}"
            items: Any = value.items()
        else:
            items = enumerate(value)
        for key, item in items:
            kind = type(item)
            if kind is dict or kind is list:
                pending.append(((*location, key), item))
            elif (kind is str or kind is int or kind is float) and (found := _scalar_problem(item)):
                return (*location, key), found
    return None


def _scalar_problem(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        return text_problem(value)
    if kind is int and not INT64_MIN <= value <= INT64_MAX:
        return "is an integer outside the 64-bit range (-2^63 to 2^63-1)"
    if kind is float and not math.isfinite(value):
        return "is not a finite number (NaN and Infinity are not JSON)"
    return None


def _refuse(location: tuple[str | int, ...], problem: str) -> RequestValidationError:
    # Reported like pydantic's own errors, so the API's one validation handler names the field.
    return RequestValidationError([{"type": "value_error", "loc": location, "msg": problem}])


async def refuse_unstorable_input(request: Request) -> None:
    """App-wide dependency: runs after routing (so parameters are known by name) and after
    FastAPI has parsed the JSON body, before the route's own validation."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and (problem := text_problem(value)):
            raise _refuse(("path", name), problem)
    for name, value in request.query_params.multi_items():
        if problem := text_problem(name):
            raise _refuse(("query", ascii(name)[1:-1]), f"has a name that {problem}")
        if problem := text_problem(value):
            raise _refuse(("query", name), problem)
    route = request.scope.get("route")
    if not (isinstance(route, APIRoute) and route.body_field and await request.body()):
        return
    try:
        # What FastAPI parsed for the route, cached on the request: not parsed a second time.
        document = await request.json()
    except (ValueError, RecursionError):
        return  # not JSON (another content type): the route's validation refuses it
    found = json_problem(document)
    if found is not None:
        raise _refuse(("body", *found[0]), found[1])
