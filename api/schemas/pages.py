"""What every paged list shares: its query parameters and the shape of its page
(how paging works: services/pages.py)."""

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

MAX_LIMIT = 200

Item = TypeVar("Item")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page, 1 to {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=200,
        description="The previous page's `next_cursor`; left out, the first page.",
    ),
]


class Page(BaseModel, Generic[Item]):
    data: list[Item]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` for the next page; null on the last page."
    )
