"""The query parameters of every paged list: `limit` and `cursor` (the page they answer:
api/schemas/pages.py; how paging works: services/pages.py)."""

from typing import Annotated

from fastapi import Query

from api.schemas.pages import MAX_LIMIT

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=200,
        description="The previous page's `next_cursor`; left out, the first page.",
    ),
]
