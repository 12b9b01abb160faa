"""GET /v1/inbox/widget.js: the embeddable bell (`<herald-inbox>`), one plain script.

Public (it holds no data; the recipient's token is what the element sends), loadable from any
origin, and cached by version: the ETag is a hash of the file, so a browser revalidates cheaply
and an upgrade of Herald reaches pages within the max-age.
"""

from typing import Annotated

from fastapi import APIRouter, Header, Response

from web.assets import asset

router = APIRouter(tags=["inbox"])

WIDGET = "inbox/herald-inbox.js"
# Short: the URL does not change between versions, so this bounds how long a page runs an old
# widget after an upgrade; the ETag makes each revalidation a 304 of no body.
MAX_AGE_SECONDS = 300


@router.get(
    "/v1/inbox/widget.js",
    response_class=Response,
    responses={
        200: {
            "content": {"text/javascript": {"schema": {"type": "string"}}},
            "description": "The script defining `<herald-inbox>` (README: the embeddable bell).",
        },
        304: {"description": "The copy the browser holds (`If-None-Match`) is current."},
    },
)
async def get_inbox_widget(
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """The inbox widget's script. No key needed; `Access-Control-Allow-Origin: *` (added with
    every /v1/inbox/* answer's CORS headers, api/inbox_cors.py)."""
    return script_answer(WIDGET, if_none_match)


def script_answer(
    relative_path: str, if_none_match: str | None, headers: dict[str, str] | None = None
) -> Response:
    """A script of web/static/ as the inbox serves it to pages of any origin: cached by
    version (its ETag; 304 to a browser holding the current one)."""
    script = asset(relative_path)
    headers = {
        "ETag": script.etag,
        "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
        # Pages that isolate themselves (Cross-Origin-Embedder-Policy) may still load it.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
        **(headers or {}),
    }
    if if_none_match and script.etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(script.content, media_type="text/javascript; charset=utf-8", headers=headers)
