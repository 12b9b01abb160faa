"""Accepting an event from the booking or payment service: once per event id, then on to
the booking's chain or, for a payment, to a notification to the payer.

What a booking event does (the confirmation, the reminders it plans, what a reschedule or a
cancellation changes) is decided in domain/booking_chain.py; workflows/booking.py only carries
it out over time."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.schemas.events import BookingPayload, EventAccepted, EventIn, PaymentPayload
from api.schemas.notifications import NotificationCreate, RecipientRef
from config.settings import Settings
from db.events import claim_event
from domain.booking_contracts import (
    BookingDetails,
    BookingEvent,
    BookingEventType,
    EventOutcome,
    EventVerdict,
    Person,
)
from domain.booking_notices import utc
from domain.tenants import TenantIdentity
from services.errors import Conflict, Gone
from services.new_notifications import request_digest
from services.notifications import submit_notification
from temporal_clients.bookings import (
    BookingEnded,
    BookingUnknown,
    await_verdict,
    deliver_booking_event,
)


async def ingest_event(
    ledger: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    event: EventIn,
    payload: BookingPayload | PaymentPayload,
    *,
    await_chain: bool = True,
) -> EventAccepted:
    """Accept an event once per id: booking events go to the booking's chain, payment events
    become a notification to the payer. `payload` is the event's data, validated for its type.
    `await_chain=False` (the sender's `Prefer: respond-async`): answer once the event is the
    chain's, `queued`, without waiting for the chain's verdict."""
    digest = request_digest(event.model_dump(mode="json"))
    # The ledger row and the hand-over commit together: if the workflow cannot be reached,
    # the row is rolled back and the sender's retry is not mistaken for a duplicate.
    async with ledger.begin() as ledger_session:
        claim = await claim_event(ledger_session, tenant.id, event.id, event.type, digest)
        if not claim.new:
            if claim.digest != digest:
                raise Conflict(
                    "id: this event id was used for a different event", "id", code="event_conflict"
                )
            return EventAccepted(
                event_id=event.id, type=event.type, duplicate=True, received_at=claim.received_at
            )
        if isinstance(payload, PaymentPayload):
            accepted = await submit_notification(
                session,
                temporal,
                settings,
                tenant,
                _payment_notification(event, payload),
                f"event-{event.id}",
            )
            return EventAccepted(
                event_id=event.id,
                type=event.type,
                duplicate=False,
                workflow_id=accepted.workflow_id,
                notification_id=str(accepted.id),
            )
        workflow_id = await _to_booking_chain(temporal, settings, tenant, event, payload)
    # Committed: the event is the chain's now. Say what the chain did with it, so that an
    # event it ignores (one older than the last applied, say) is not a silent 202.
    verdict = (
        await await_verdict(temporal, tenant.id, payload.booking_id, event.id)
        if await_chain
        else EventVerdict(EventOutcome.QUEUED)
    )
    return EventAccepted(
        event_id=event.id,
        type=event.type,
        duplicate=False,
        workflow_id=workflow_id,
        outcome=verdict.outcome,
        ignored_reason=verdict.reason,
    )


async def _to_booking_chain(
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    event: EventIn,
    payload: BookingPayload,
) -> str:
    try:
        return await deliver_booking_event(
            temporal, settings, tenant.id, booking_event_of(event, payload)
        )
    except BookingUnknown as exc:
        raise Conflict(str(exc), "data.booking_id", code="booking_unknown") from exc
    except BookingEnded as exc:
        raise Gone(str(exc), "data.booking_id", code="booking_ended") from exc


def booking_event_of(event: EventIn, payload: BookingPayload) -> BookingEvent:
    """The `event` signal's input for a validated booking event (times in UTC)."""
    organizer, invitee = payload.organizer, payload.invitee
    return BookingEvent(
        event_id=event.id,
        type=BookingEventType(event.type.value),
        occurred_at=utc(event.occurred_at),
        booking=BookingDetails(
            booking_id=payload.booking_id,
            organizer=Person(
                organizer.name, organizer.email, organizer.phone, organizer.timezone, organizer.id
            ),
            invitee=Person(invitee.name, invitee.email, invitee.phone, invitee.timezone),
            start=utc(payload.start),
            end=utc(payload.end),
            **payload.model_dump(
                include={
                    "event_name",
                    "event_description",
                    "meeting_link",
                    "meeting_id",
                    "meeting_password",
                    "booking_url",
                    "reschedule_url",
                    "cancel_url",
                    "custom_answers",
                    "cancellation_reason",
                    "reminder_minutes_before",
                }
            ),
        ),
    )


def _payment_notification(event: EventIn, payload: PaymentPayload) -> NotificationCreate:
    """The payer's notification, keyed `event-<event id>`; the template variables are the
    payment's."""
    customer = payload.customer
    context = payload.model_dump(exclude={"customer"}, exclude_none=True)
    context |= {"customer_name": customer.name, "customer_email": customer.email}
    return NotificationCreate(
        recipient=RecipientRef(
            external_id=customer.id,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            timezone=customer.timezone,
        ),
        event_key=event.type.value,
        context={key: value for key, value in context.items() if value is not None},
    )
