"""The application's route list, as tests that must cover every route read it."""

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute


def api_routes(app: Any) -> Iterator[tuple[str, APIRoute]]:
    """(full path, route) for every API route, through included routers at any depth."""
    yield from _walk(app.routes, "")


def _walk(routes: list[Any], prefix: str) -> Iterator[tuple[str, APIRoute]]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path_format, route  # /{id}, not /{id:uuid}
        elif hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)
