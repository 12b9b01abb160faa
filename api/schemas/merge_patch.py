"""PATCH bodies: JSON merge patches (RFC 7396), as `application/merge-patch+json` or JSON."""

from typing import Any

from fastapi import Body

MERGE_PATCH_JSON = "application/merge-patch+json"


def merge_patch_body(of_what: str, then: str, examples: dict[str, Any]) -> Any:
    """The `Body(...)` of a PATCH route: a JSON object merged into `of_what` (FastAPI reads
    any `application/*+json` body as JSON)."""
    return Body(
        media_type=MERGE_PATCH_JSON,
        description=f"A JSON merge patch (RFC 7396) of {of_what}, as `{MERGE_PATCH_JSON}` or "
        f"`application/json`: `null` removes a field ({then}), objects merge, arrays and other "
        "values replace, and a field left out keeps its value.",
        openapi_examples={name: {"value": value} for name, value in examples.items()},
    )
