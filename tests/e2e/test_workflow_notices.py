"""A notice a workflow sends (services/new_notifications.submit_notice) is keyed by what it is:
the same key again is the same notification, also when what it was made from has changed. A
chain's store steps are local activities, whose results are durable only once their workflow
task completes, so a lost task runs them again: an agenda read again may list other bookings,
and that must not make its notice a conflict retried for ever."""

import dataclasses
import uuid

from db.recipients import RecipientUpsert
from domain.booking_contracts import NoticeRequest, Person
from services.new_notifications import NewNotification, accept, request_digest, submit_notice


def _notice(stack, key: str, bookings: str) -> NoticeRequest:
    return NoticeRequest(
        tenant_id=stack.tenant_id,
        recipient_external_id=f"organizer-{key}",
        recipient=Person(name="Olga", email=f"{key}@example.com"),
        event_key="daily_agenda",
        idempotency_key=key,
        context={"bookings": bookings},
        channels=["email"],
    )


def _idle(stack):
    """Settings whose task queue no worker polls: the notice is stored, not sent."""
    return stack.settings.model_copy(update={"task_queue": f"nobody-polls-{uuid.uuid4()}"})


async def test_the_same_key_with_another_context_is_the_same_notice(stack, sessions):
    key = f"agenda-{uuid.uuid4()}"
    settings = _idle(stack)
    async with sessions() as session:
        first = await submit_notice(session, stack.client, settings, _notice(stack, key, "9:00"))
    async with sessions() as session:
        again = await submit_notice(session, stack.client, settings, _notice(stack, key, "10:00"))

    assert again == first


async def test_a_notice_stored_with_the_former_digest_is_found_again(stack, sessions):
    """Before the store steps ran locally, a notice's digest was its whole request's; such a
    row, found again by a step retried after the upgrade, is the same notice too."""
    key = f"agenda-{uuid.uuid4()}"
    settings = _idle(stack)
    former = _notice(stack, key, "9:00")
    async with sessions() as session:
        stored = await accept(
            session,
            stack.client,
            settings,
            NewNotification(
                tenant_id=stack.tenant_id,
                event_key=former.event_key,
                idempotency_key=key,
                request_digest=request_digest(dataclasses.asdict(former)),
                contact=RecipientUpsert(
                    stack.tenant_id, former.recipient_external_id, {"email": f"{key}@example.com"}
                ),
                channels=former.channels,
                context=former.context,
            ),
        )
    async with sessions() as session:
        again = await submit_notice(session, stack.client, settings, former)

    assert again.notification_id == stored.notification.id
