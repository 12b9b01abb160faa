"""The in-app inbox, as its recipient sees it (a recipient token, never a tenant key): the list,
counts, recent messages, and the changes the recipient makes (read, unread, seen, archive,
unarchive, delete the read ones, follow a link). The use cases: services/inbox.py (reading) and
services/inbox_changes.py (changing)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import InboxRecipientDep, SessionDep, TemporalDep
from api.paging import Cursor, Limit
from api.schemas.inbox import (
    MAX_RECENT,
    MAX_TAGS,
    BulkChange,
    ChangeResult,
    ClickResult,
    CountsList,
    CountsRequest,
    DeleteResult,
    InboxCountsPublic,
    MessagePage,
    RecentMessages,
    Tag,
)
from domain.filters import InboxFilter
from domain.inbox import InboxChange
from domain.types import EVENT_KEY_PATTERN, Priority
from services import inbox, inbox_changes

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


async def _query_filter(
    read: Annotated[
        bool | None, Query(description="true: only read messages; false: only unread.")
    ] = None,
    archived: Annotated[bool, Query(description="true: the archived messages instead.")] = False,
    snoozed: Annotated[bool, Query(description="true: only the messages snoozed now.")] = False,
    priority: Priority | None = None,
    category: Annotated[
        str | None,
        Query(max_length=200, pattern=EVENT_KEY_PATTERN.pattern, description="An event key."),
    ] = None,
    tag: Annotated[
        list[Tag] | None,
        Query(
            max_length=MAX_TAGS,
            description="Repeatable: the messages carrying every tag given.",
        ),
    ] = None,
) -> InboxFilter:
    return InboxFilter(read, archived, snoozed, priority, category, tuple(tag or ()))


QueryFilter = Annotated[InboxFilter, Depends(_query_filter)]


@router.get("", response_model=MessagePage)
async def list_inbox(
    recipient: InboxRecipientDep,
    session: SessionDep,
    where: QueryFilter,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> MessagePage:
    """The recipient's messages, newest first. Without filters, the feed: not archived, not
    snoozed. Expired messages are never listed."""
    return await inbox.list_inbox(session, recipient, where, cursor, limit)


@router.get("/counts", response_model=InboxCountsPublic)
async def get_inbox_counts(
    recipient: InboxRecipientDep, session: SessionDep, where: QueryFilter
) -> InboxCountsPublic:
    """Total, unread and unseen (uncapped) over what GET /v1/inbox lists with the same filters."""
    return await inbox.counts(session, recipient, where)


@router.post("/counts", response_model=CountsList)
async def count_inbox_filters(
    body: CountsRequest, recipient: InboxRecipientDep, session: SessionDep
) -> CountsList:
    """The counts of several filters at once (up to 20), in the order given."""
    return await inbox.counts_per_filter(session, recipient, body.filters)


@router.get("/recent", response_model=RecentMessages)
async def recent_inbox(
    recipient: InboxRecipientDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_RECENT)] = 10,
) -> RecentMessages:
    """The newest messages of the feed, read or not."""
    return await inbox.recent(session, recipient, limit)


def _bulk_change(change: InboxChange, path: str, name: str, summary: str) -> None:
    """POST /v1/inbox/<action>: one change for `ids` or for every message a `filter` lists."""

    async def endpoint(
        body: BulkChange, recipient: InboxRecipientDep, session: SessionDep, temporal: TemporalDep
    ) -> ChangeResult:
        where = body.filter.as_filter() if body.filter is not None else None
        return await inbox_changes.change_messages(
            session, temporal, recipient, change, body.ids, where
        )

    endpoint.__name__ = endpoint.__qualname__ = name  # the operation id (api/openapi.py)
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        response_model=ChangeResult,
        name=name,
        description=summary + " Body: exactly one of `ids` (1 to 500) or `filter`. One "
        "`messages.updated` event names the messages that changed; none changed, no event.",
    )


_bulk_change(
    InboxChange.READ,
    "/read",
    "mark_inbox_read",
    "Mark read (and seen). A message's first read moves its delivery to `opened` and tells "
    "its notification's workflow, as an email's open does.",
)
_bulk_change(InboxChange.UNREAD, "/unread", "mark_inbox_unread", "Mark unread.")
_bulk_change(InboxChange.SEEN, "/seen", "mark_inbox_seen", "Mark seen (shown, not yet read).")
_bulk_change(
    InboxChange.ARCHIVED, "/archive", "archive_inbox_messages", "Archive: out of the feed."
)
_bulk_change(InboxChange.UNARCHIVED, "/unarchive", "unarchive_inbox_messages", "Back to the feed.")


@router.post("/messages/{message_id}/click", response_model=ClickResult)
async def click_inbox_message(
    message_id: uuid.UUID, recipient: InboxRecipientDep, session: SessionDep, temporal: TemporalDep
) -> ClickResult:
    """The recipient follows the message's link: it is read, its delivery moves to `clicked`
    (the workflow is told), and the answer says where the link leads."""
    return await inbox_changes.click(session, temporal, recipient, message_id)


@router.delete("/read", response_model=DeleteResult)
async def delete_read_inbox_messages(
    recipient: InboxRecipientDep, session: SessionDep
) -> DeleteResult:
    """Delete every read message (a `messages.deleted` event names them)."""
    return await inbox_changes.delete_read(session, recipient)
