"""What Herald holds about one recipient, read for their export a page at a time
(services/recipient_export.py): each list newest first, seeking past the previous page's last
row (keyset), so no page costs more than its own rows however long the history.

Every query names the tenant, and either the recipient's id or, for what is kept by address or
name rather than by recipient (suppressions, invalid-address marks, bookings), the recipient's
own addresses and external id within the tenant."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.inbox import MESSAGE_COLUMNS

Position = tuple[Any, ...]


@dataclass(frozen=True)
class Person:
    """Who the export is of: the recipient, and what other tables know them by."""

    tenant_id: uuid.UUID
    recipient_id: uuid.UUID
    external_id: str
    email: str | None
    phone: str | None

    def parameters(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "recipient_id": self.recipient_id,
            "external_id": self.external_id,
            "email": self.email,
            "phone": self.phone,
        }


@dataclass(frozen=True)
class Listing:
    """One list of the export: `query` selects the person's rows (its WHERE names the
    parameters of Person.parameters); `order` the columns of a row's position, newest first,
    unique together."""

    name: str
    query: str
    order: tuple[str, ...]

    def position(self, row: dict[str, Any]) -> Position:
        return tuple(row[column] for column in self.order)


_BY_RECIPIENT = "tenant_id = :tenant_id AND recipient_id = :recipient_id"
# Addresses are compared as where they are kept: suppressions trimmed and in lower case
# (db/opt_outs.py), invalid addresses in lower case (db/address_health.py).
_EMAIL = "CAST(:email AS text)"
_PHONE = "CAST(:phone AS text)"

DEVICES = Listing(
    "devices",
    f"""SELECT id, kind, label, token, active, last_seen, deactivated_at, deactivation_reason,
               created_at
        FROM devices WHERE {_BY_RECIPIENT}""",
    ("created_at", "id"),
)
TOPIC_SUBSCRIPTIONS = Listing(
    "topic_subscriptions",
    f"SELECT topic_key, created_at FROM topic_subscriptions WHERE {_BY_RECIPIENT}",
    ("created_at", "topic_key"),
)
SUPPRESSIONS = Listing(
    "suppressions",
    f"""SELECT channel, address, category, created_at,
               recipient_id IS NOT DISTINCT FROM :recipient_id AS through_this_recipient
        FROM address_suppressions
        WHERE tenant_id = :tenant_id
          AND (recipient_id = :recipient_id
               OR (channel = 'email' AND address = lower(btrim({_EMAIL})))
               OR (channel = 'sms' AND address = lower(btrim({_PHONE}))))""",
    ("created_at", "channel", "category", "address"),
)
INVALID_ADDRESSES = Listing(
    "invalid_addresses",
    f"""SELECT id, channel, address, reason, created_at FROM invalid_addresses
        WHERE tenant_id = :tenant_id
          AND ((channel = 'email' AND lower(address) = lower({_EMAIL}))
               OR (channel = 'sms' AND lower(address) = lower({_PHONE})))""",
    ("created_at", "id"),
)
CONSENT_EVENTS = Listing(
    "consent_events",
    f"SELECT id, action, channel, scope, source, details, at FROM consent_events "
    f"WHERE {_BY_RECIPIENT}",
    ("at", "id"),
)
# The organizer by their id (also their recipient's external id); an invitee, who has no id
# in the booking service, by address (the booking row keeps the email, its details the phone).
BOOKINGS = Listing(
    "bookings",
    f"""SELECT id,
               CASE WHEN organizer_id = :external_id THEN 'organizer' ELSE 'invitee' END AS role,
               organizer_id, invitee_name, invitee_email, start_at, end_at, status, payload,
               created_at, updated_at
        FROM bookings
        WHERE tenant_id = :tenant_id
          AND (organizer_id = :external_id
               OR lower(invitee_email) = lower({_EMAIL})
               OR payload -> 'invitee' ->> 'phone' = {_PHONE})""",
    ("created_at", "id"),
)
IN_APP_MESSAGES = Listing(
    "in_app_messages",
    f"SELECT {MESSAGE_COLUMNS} FROM in_app_messages WHERE {_BY_RECIPIENT}",
    ("created_at", "id"),
)
NOTIFICATIONS = Listing(
    "notifications",
    f"""SELECT id, event_key, priority, channels, status, status_reason, context, send_at,
               recipient_email, recipient_phone, inbox_options, broadcast_id, created_at,
               updated_at
        FROM notifications WHERE {_BY_RECIPIENT}""",
    ("created_at", "id"),
)


async def page_of(
    session: AsyncSession, listing: Listing, person: Person, after: Position | None, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` of the person's rows of `listing`, newest first, after `after`."""
    order = ", ".join(listing.order)
    parameters = person.parameters() | {"limit": limit}
    seek = ""
    if after is not None:
        names = [f"after_{i}" for i in range(len(after))]
        seek = f"WHERE ({order}) < ({', '.join(':' + name for name in names)})"
        parameters |= dict(zip(names, after, strict=True))
    descending = ", ".join(f"{column} DESC" for column in listing.order)
    query = f"SELECT * FROM ({listing.query}) AS listed {seek} ORDER BY {descending} LIMIT :limit"
    rows = await session.execute(text(query), parameters)
    return [dict(row._mapping) for row in rows]


_DELIVERIES = text("""
    SELECT notification_id, id, channel, provider, address, status, status_reason, subject,
           error, retry_count, deferred_until, sent_at, delivered_at, opened_at, clicked_at,
           failed_at, resent_from_id, provider_response, created_at, updated_at
    FROM deliveries
    WHERE tenant_id = :tenant_id AND notification_id = ANY(CAST(:notification_ids AS uuid[]))
    ORDER BY notification_id, created_at, id
""")


async def deliveries_of(
    session: AsyncSession, tenant_id: uuid.UUID, notification_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The deliveries of these notifications (one page of them), by notification, oldest
    first."""
    found: dict[uuid.UUID, list[dict[str, Any]]] = {}
    rows = await session.execute(
        _DELIVERIES, {"tenant_id": tenant_id, "notification_ids": list(notification_ids)}
    )
    for row in rows:
        delivery = dict(row._mapping)
        found.setdefault(delivery.pop("notification_id"), []).append(delivery)
    return found
