"""In-app messages for the inbox tests: sent as a tenant's backend sends them (POST
/v1/notifications with channel in_app, through the workflow), or, where a test needs many,
copied in SQL from one that was sent.

    ann = await new_inbox(stack)        # a recipient, its id, a client with its token
    message_id = await send_in_app(stack, ann.external_id, title="Hi")
    ids = await copy_message(sessions, message_id, 120)
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text

from db.inbox_events import StoredInboxEvent, events_after, last_event_number
from tests.conftest import Stack
from tests.e2e.inbox_factory import as_recipient, recipient_token_answer


@dataclass
class Inbox:
    external_id: str
    recipient_id: str
    client: httpx.AsyncClient  # sends the recipient's token


async def new_inbox(stack: Stack) -> Inbox:
    """A new recipient of the stack's tenant, with a token for its inbox."""
    external_id = f"inbox-{uuid.uuid4().hex[:10]}"
    answer = await recipient_token_answer(stack.api, external_id)
    return Inbox(external_id, answer["recipient_id"], as_recipient(stack, answer["token"]))


async def send_in_app(
    stack: Stack,
    external_id: str,
    title: str = "Hello",
    event_key: str = "inbox.note",
    priority: str = "normal",
    action_url: str | None = None,
    inbox: dict[str, Any] | None = None,
) -> str:
    """Sends one in-app message to the recipient and waits for it to be stored; its id (the
    delivery's id)."""
    context: dict[str, Any] = {"title": title, "message": f"{title}: the body"}
    if action_url is not None:
        context["action_url"] = action_url
    body: dict[str, Any] = {
        "recipient": {"external_id": external_id},
        "event_key": event_key,
        "priority": priority,
        "channels": ["in_app"],
        "context": context,
    }
    if inbox is not None:
        body["inbox"] = inbox
    accepted = await stack.api.post("/v1/notifications", json=body)
    assert accepted.status_code == 202, accepted.text
    notification = await stack.wait_for_status(accepted.json()["id"], "sent")
    [delivery] = notification["deliveries"]
    assert delivery["status"] == "delivered", delivery
    return delivery["id"]


async def copy_message(
    sessions, message_id: str, count: int, created_at: datetime | None = None
) -> list[str]:
    """`count` copies of a stored message (new ids; its creation time, or `created_at` for all
    of them), without events: for tests that need many messages, not their arrival."""
    async with sessions.begin() as session:
        rows = await session.execute(
            text("""
                INSERT INTO in_app_messages
                    (id, tenant_id, recipient_id, notification_id, title, body, action_url,
                     priority, category, tags, expires_at, created_at)
                SELECT gen_random_uuid(), tenant_id, recipient_id, notification_id,
                       title || ' #' || n, body, action_url, priority, category, tags,
                       expires_at, coalesce(:created_at, now())
                FROM in_app_messages, generate_series(1, :count) AS n
                WHERE id = :id
                RETURNING id
            """),
            {"id": uuid.UUID(message_id), "count": count, "created_at": created_at},
        )
        return [str(row.id) for row in rows]


async def set_message(sessions, message_id: str, **columns: Any) -> None:
    """Sets columns of a stored message directly (`snoozed_until`, `expires_at`...)."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    async with sessions.begin() as session:
        await session.execute(
            text(f"UPDATE in_app_messages SET {assignments} WHERE id = :id"),
            {"id": uuid.UUID(message_id), **columns},
        )


async def inbox_events(sessions, recipient_id: str, after: int = 0) -> list[StoredInboxEvent]:
    async with sessions() as session:
        return await events_after(session, uuid.UUID(recipient_id), after)


async def last_event(sessions, recipient_id: str) -> int:
    async with sessions() as session:
        return await last_event_number(session, uuid.UUID(recipient_id))
