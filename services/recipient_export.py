"""A person's data export (GET /v1/recipients/{external_id}/export): everything Herald holds
about one recipient, as one JSON document written while it is read.

The document, in this order (every list newest first):

    {"generated_at": ..., "recipient": {contact details, chat addresses, timezone, locale},
     "preferences": {"effective": ..., "overrides": ..., "unsubscribed": [...]},
     "devices": [...], "topic_subscriptions": [...], "suppressions": [...],
     "invalid_addresses": [...], "consent_events": [...], "bookings": [...],
     "in_app_messages": [...], "notifications": [{..., "deliveries": [...]}]}

Bounded whatever the history: the lists are read a page at a time (db/recipient_export.py,
keyset pages of PAGE_ROWS, each in its own short session, so a slow download holds no
connection or transaction) and each page is written out before the next is read. The pages
are not one snapshot: a notification sent during the download may or may not be in it; all
of it existed at some moment after `generated_at`. A download cut short is not valid JSON (its
closing brace comes last), so a partial file cannot pass for a whole one."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import recipient_export as store
from db.recipient_export import Listing, Person
from db.session import autocommit
from domain.preferences import as_document
from domain.tenants import TenantIdentity
from services.preferences import get_preferences
from services.recipients import find_recipient

# Rows per page: a notification's context and its deliveries are a few KiB at most, so a page
# is well under a few MiB of memory.
PAGE_ROWS = 200

# The lists after the recipient and their preferences, in the document's order; the
# notifications (with their deliveries) come last.
LISTINGS = (
    store.DEVICES,
    store.TOPIC_SUBSCRIPTIONS,
    store.SUPPRESSIONS,
    store.INVALID_ADDRESSES,
    store.CONSENT_EVENTS,
    store.BOOKINGS,
    store.IN_APP_MESSAGES,
)


@dataclass(frozen=True)
class RecipientExport:
    filename: str
    chunks: AsyncIterator[bytes]  # the JSON document, a page at a time


async def export_recipient(
    sessions: async_sessionmaker[AsyncSession], tenant: TenantIdentity, external_id: str
) -> RecipientExport:
    """The export of the tenant's recipient `external_id`; NotFound (before anything is
    written) when the tenant has no such recipient."""
    async with sessions() as session:
        recipient = await find_recipient(session, tenant, external_id)
        preferences = await get_preferences(session, tenant, external_id)
    head = {
        "generated_at": datetime.now(UTC),
        "recipient": {
            "id": recipient.id,
            "external_id": recipient.external_id,
            "name": recipient.name,
            "email": recipient.email,
            "phone": recipient.phone,
            "chat_addresses": recipient.chat_addresses,
            "timezone": recipient.timezone,
            "locale": recipient.locale,
            "created_at": recipient.created_at,
            "updated_at": recipient.updated_at,
        },
        "preferences": {
            "effective": preferences.model_dump(mode="json", exclude={"unsubscribed"}),
            "overrides": as_document(recipient.preference_overrides),
            "unsubscribed": preferences.model_dump(mode="json")["unsubscribed"],
        },
    }
    person = Person(
        tenant.id, recipient.id, recipient.external_id, recipient.email, recipient.phone
    )
    return RecipientExport(
        filename=f"herald-recipient-{recipient.id}.json",
        chunks=_document(sessions, person, head),
    )


async def _document(
    sessions: async_sessionmaker[AsyncSession], person: Person, head: dict[str, Any]
) -> AsyncIterator[bytes]:
    yield to_json(head)[:-1]  # the object left open: the lists follow
    for listing in LISTINGS:
        yield b',"' + listing.name.encode() + b'":['
        async for chunk in _rows(sessions, listing, person):
            yield chunk
        yield b"]"
    yield b',"notifications":['
    async for chunk in _rows(sessions, store.NOTIFICATIONS, person, with_deliveries=True):
        yield chunk
    yield b"]}"


async def _rows(
    sessions: async_sessionmaker[AsyncSession],
    listing: Listing,
    person: Person,
    with_deliveries: bool = False,
) -> AsyncIterator[bytes]:
    """The listing's rows as JSON array items, a page per chunk."""
    after = None
    first = True
    while True:
        async with autocommit(sessions) as session:
            rows = await store.page_of(session, listing, person, after, PAGE_ROWS)
            if with_deliveries and rows:
                await _attach_deliveries(session, person.tenant_id, rows)
        if not rows:
            return
        items = b",".join(to_json(row) for row in rows)
        yield items if first else b"," + items
        first = False
        if len(rows) < PAGE_ROWS:
            return
        after = listing.position(rows[-1])


async def _attach_deliveries(
    session: AsyncSession, tenant_id: uuid.UUID, notifications: list[dict[str, Any]]
) -> None:
    found = await store.deliveries_of(session, tenant_id, [n["id"] for n in notifications])
    for notification in notifications:
        notification["deliveries"] = found.get(notification["id"], [])
