"""Erasing a recipient (services/erasure.py): everything Herald holds about the person found
(`footprint`), then removed in one transaction (db/erasure_scrub.py), which also records the
erasure (`record_erasure`).

What names the person: the recipient row; their notifications and deliveries (addresses,
rendered subjects, errors, providers' answers, context); in-app messages and inbox events;
devices, topic subscriptions, consent details; the bookings they are the invitee or organizer
of, with the booking notices and daily agendas of the other party that name them; the
suppression list and invalid addresses holding their addresses; status webhook messages about
their deliveries; audit entries naming them; templates of theirs as an organizer."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.integration_models import Erasure
from domain.contacts import ERASED_PREFIX
from domain.types import UNFINISHED_NOTIFICATION_STATUSES

UNFINISHED_SQL = ", ".join(f"'{status}'" for status in sorted(UNFINISHED_NOTIFICATION_STATUSES))


def erased_external_id(recipient_id: uuid.UUID) -> str:
    """What an erased recipient's external id becomes: its own id, naming no one."""
    return f"{ERASED_PREFIX}{recipient_id}"


@dataclass(frozen=True)
class ErasedNotification:
    id: uuid.UUID
    workflow_id: str
    unfinished: bool
    in_broadcast: bool  # its workflow is the broadcast's, which is kept


@dataclass(frozen=True)
class Footprint:
    """What names one recipient, as ids and addresses (normalised: trimmed, lower case)."""

    recipient_id: uuid.UUID
    tenant_id: uuid.UUID
    external_id: str
    emails: list[str]
    phones: list[str]
    booking_ids: list[str]  # bookings they are the invitee or organizer of
    booking_workflow_ids: list[str]  # of those the bookings table holds
    organizers: list[str]  # those bookings' organizers (their agendas listed them)
    bookings_since: datetime | None  # the first of those bookings' creation
    notifications: list[ErasedNotification]
    snoozed_messages: list[uuid.UUID]
    webhook_messages: list[uuid.UUID]  # status webhook messages about their deliveries

    def needles(self) -> list[str]:
        """Strings that name the person inside free text (lower case)."""
        return sorted({self.external_id.lower(), *self.address_needles()})

    def address_needles(self) -> list[str]:
        digits = [phone.removeprefix("+") for phone in self.phones]
        return sorted({*self.emails, *self.phones, *digits})

    def notification_ids(self) -> list[uuid.UUID]:
        return [n.id for n in self.notifications]


_PERSON = """
    SELECT id, external_id FROM recipients
    WHERE tenant_id = :tenant_id AND external_id = :external_id
      AND external_id <> 'erased:' || id::text
"""

# Every address Herald holds or sent to for the person, by channel.
_ADDRESSES = text("""
    SELECT DISTINCT channel, lower(btrim(address)) AS address FROM (
        SELECT 'email' AS channel, email AS address FROM recipients WHERE id = :r
        UNION ALL SELECT 'sms', phone FROM recipients WHERE id = :r
        UNION ALL SELECT 'email', recipient_email FROM notifications WHERE recipient_id = :r
        UNION ALL SELECT 'sms', recipient_phone FROM notifications WHERE recipient_id = :r
        UNION ALL SELECT d.channel, d.address
            FROM notifications n JOIN deliveries d ON d.notification_id = n.id
            WHERE n.recipient_id = :r AND d.channel IN ('email', 'sms')
        UNION ALL SELECT channel, address FROM address_suppressions
            WHERE tenant_id = :t AND recipient_id = :r
    ) held
    WHERE address IS NOT NULL AND btrim(address) <> ''
""")

# The bookings naming the person: by the bookings table (organizer id, invitee's address) and
# by the booking notices they received (a booking the retention purge has dropped included).
_BOOKINGS = text("""
    WITH noticed AS (
        SELECT n.context->>'booking_id' AS id, min(n.created_at) AS since,
               min(n.context->>'owner_id') AS organizer
        FROM notifications n
        WHERE n.recipient_id = :r AND n.event_key LIKE 'booking.%'
          AND n.context->>'booking_id' IS NOT NULL
        GROUP BY 1
    ),
    stored AS (
        SELECT b.id, b.workflow_id, b.created_at AS since, b.organizer_id AS organizer
        FROM bookings b
        WHERE b.tenant_id = :t AND (
            b.organizer_id = :external_id
            OR lower(btrim(b.invitee_email)) = ANY(CAST(:emails AS text[]))
            OR b.payload->'invitee'->>'phone' = ANY(CAST(:phones AS text[]))
            OR b.id IN (SELECT id FROM noticed))
    )
    SELECT id, workflow_id, since, organizer FROM stored
    UNION ALL
    SELECT id, NULL, since, organizer FROM noticed WHERE id NOT IN (SELECT id FROM stored)
""")

_MINE = f"""
    SELECT id, workflow_id, status IN ({UNFINISHED_SQL}) AS unfinished,
           broadcast_id IS NOT NULL AS in_broadcast
    FROM notifications
"""
_NOTIFICATIONS = text(f"{_MINE} WHERE recipient_id = :r")
# The other party's notices of those bookings, and organizers' daily agendas listing them.
_BOOKING_NOTIFICATIONS = text(f"""
    {_MINE}
    WHERE tenant_id = :t AND created_at >= :since AND recipient_id <> :r AND (
        context->>'booking_id' = ANY(CAST(:booking_ids AS text[]))
        OR (jsonb_typeof(context->'bookings') = 'array' AND EXISTS (
            SELECT 1 FROM jsonb_array_elements(context->'bookings') listed
            WHERE listed->>'booking_id' = ANY(CAST(:booking_ids AS text[])))))
""")

_SNOOZED = text("""
    SELECT m.id FROM in_app_messages m
    WHERE m.snoozed_until IS NOT NULL AND (m.recipient_id = :r OR m.id IN (
        SELECT d.id FROM deliveries d
        WHERE d.notification_id = ANY(CAST(:ids AS uuid[])) AND d.channel = 'in_app'))
""")

# The notifications' and their deliveries' ids (`:ids`): what status webhook messages are about.
SUBJECTS_SQL = """
    SELECT unnest(CAST(:ids AS uuid[]))
    UNION ALL SELECT d.id FROM deliveries d WHERE d.notification_id = ANY(CAST(:ids AS uuid[]))
"""
_WEBHOOK_MESSAGES_ABOUT = text(f"""
    SELECT id FROM webhook_messages
    WHERE tenant_id = :t AND subject_id IN ({SUBJECTS_SQL})
""")


async def footprint(
    session: AsyncSession, tenant_id: uuid.UUID, external_id: str, *, lock: bool = False
) -> Footprint | None:
    """None when the tenant has no such recipient (an erased one is none). With `lock`, the
    recipient's row stays locked until the transaction ends: one erasure at a time."""
    person_query = text(_PERSON + (" FOR UPDATE" if lock else ""))
    person = (
        await session.execute(person_query, {"tenant_id": tenant_id, "external_id": external_id})
    ).one_or_none()
    if person is None:
        return None
    r, t = person.id, tenant_id
    addresses = (await session.execute(_ADDRESSES, {"r": r, "t": t})).all()
    emails = sorted(a.address for a in addresses if a.channel == "email")
    phones = sorted(a.address for a in addresses if a.channel == "sms")
    bookings = (
        await session.execute(
            _BOOKINGS,
            {"r": r, "t": t, "external_id": external_id, "emails": emails, "phones": phones},
        )
    ).all()
    notifications = list((await session.execute(_NOTIFICATIONS, {"r": r})).all())
    booking_ids = sorted({b.id for b in bookings})
    since = min((b.since for b in bookings), default=None)
    if booking_ids:
        theirs = {"r": r, "t": t, "since": since, "booking_ids": booking_ids}
        notifications += (await session.execute(_BOOKING_NOTIFICATIONS, theirs)).all()
    ids = [n.id for n in notifications]
    snoozed = (await session.scalars(_SNOOZED, {"r": r, "ids": ids})).all()
    webhooks = (await session.scalars(_WEBHOOK_MESSAGES_ABOUT, {"t": t, "ids": ids})).all()
    return Footprint(
        recipient_id=r,
        tenant_id=t,
        external_id=person.external_id,
        emails=emails,
        phones=phones,
        booking_ids=booking_ids,
        booking_workflow_ids=sorted({b.workflow_id for b in bookings if b.workflow_id}),
        organizers=sorted({b.organizer for b in bookings if b.organizer}),
        bookings_since=since,
        notifications=[
            ErasedNotification(n.id, n.workflow_id, n.unfinished, n.in_broadcast)
            for n in notifications
        ],
        snoozed_messages=list(snoozed),
        webhook_messages=list(webhooks),
    )


async def record_erasure(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    requested_by: str,
    requested_at: datetime,
    removed: dict[str, int],
) -> Erasure:
    """Completed when the transaction that scrubbed the person commits (its time)."""
    statement = (
        insert(Erasure)
        .values(
            tenant_id=tenant_id,
            recipient_id=recipient_id,
            requested_by=requested_by,
            requested_at=requested_at,
            completed_at=func.now(),
            removed=removed,
        )
        .returning(Erasure)
    )
    return (await session.execute(statement)).scalar_one()
