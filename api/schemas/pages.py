"""The shape of every paged list's answer (its query parameters: api/paging.py; how paging
works: services/pages.py)."""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

MAX_LIMIT = 200

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    data: list[Item]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` for the next page; null on the last page."
    )
