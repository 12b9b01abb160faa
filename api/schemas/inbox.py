"""The in-app inbox: what a recipient's client sends to /v1/inbox and gets back, and the inbox
options a notification carries (POST /v1/notifications `inbox`)."""

import uuid
from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from api.schemas.common import AwareDateTime, EventKey, InputModel
from api.schemas.pages import Page
from domain.filters import InboxFilter
from domain.types import Priority

MAX_TAGS = 10
MAX_IDS = 500  # per bulk change
MAX_COUNT_FILTERS = 20  # per POST /v1/inbox/counts
MAX_RECENT = 50

Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]


class InboxOptions(InputModel):
    """What a notification asks of its in-app message."""

    tags: Tags = Field(default_factory=list, description="Up to 10 tags of up to 50 characters.")
    expires_at: AwareDateTime | None = Field(
        default=None,
        description="Aware ISO 8601, in the future: from then on the message is hidden from "
        "the inbox (its list, counts and recent).",
    )


class InboxFilterFields(InputModel):
    """Which messages: the same fields as GET /v1/inbox's query (`tags` for its `tag`). Left
    empty, the feed: not archived, not snoozed, not expired."""

    read: StrictBool | None = Field(default=None, description="true: read ones; false: unread.")
    archived: StrictBool = Field(default=False, description="true: the archived ones instead.")
    snoozed: StrictBool = Field(default=False, description="true: only those snoozed now.")
    priority: Priority | None = None
    category: EventKey | None = Field(default=None, description="The notification's event key.")
    tags: Tags = Field(default_factory=list, description="Messages carrying every one of these.")

    def as_filter(self) -> InboxFilter:
        return InboxFilter(
            read=self.read,
            archived=self.archived,
            snoozed=self.snoozed,
            priority=self.priority,
            category=self.category,
            tags=tuple(self.tags),
        )


class BulkChange(InputModel):
    """Exactly one of `ids` (the recipient's messages; others' ids change nothing) or `filter`
    (every message GET /v1/inbox lists with it)."""

    ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_IDS)] | None = None
    filter: InboxFilterFields | None = None


class CountsRequest(InputModel):
    filters: Annotated[list[InboxFilterFields], Field(min_length=1, max_length=MAX_COUNT_FILTERS)]


class InboxCountsPublic(BaseModel):
    """Uncapped (a badge shows 99+ itself, if it wants)."""

    total: int
    unread: int
    unseen: int


class FilterCounts(InboxCountsPublic):
    filter: InboxFilterFields


class CountsList(BaseModel):
    data: list[FilterCounts] = Field(description="One per filter asked, in the same order.")


# Times as domain.inbox.InboxMessage.as_json writes them, the form the live stream carries too.
Stamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


class MessagePublic(BaseModel):
    id: uuid.UUID
    notification_id: uuid.UUID
    title: str
    body: str
    action_url: str | None
    priority: Priority
    category: str | None
    tags: list[str]
    created_at: Stamp
    read_at: Stamp | None
    seen_at: Stamp | None
    archived_at: Stamp | None
    snoozed_until: Stamp | None
    expires_at: Stamp | None


class MessagePage(Page[MessagePublic]):
    pass


class RecentMessages(BaseModel):
    data: list[MessagePublic]


class ChangeResult(BaseModel):
    updated: int = Field(description="How many messages changed (those already so are not).")
    counts: InboxCountsPublic = Field(description="The feed's counts after the change.")


class DeleteResult(BaseModel):
    deleted: int
    counts: InboxCountsPublic = Field(description="The feed's counts after the deletion.")


class ClickResult(BaseModel):
    action_url: str | None = Field(description="Where the message's link leads; null if none.")
