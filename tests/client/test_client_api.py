"""The client against the real stack on a port: notifications, events, recipients and
preferences, templates, broadcasts and topics, inbox tokens; the sync client (run in a thread,
as a caller's blocking code would) and the async one."""

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta

from herald_client import (
    AsyncHerald,
    Audience,
    Booking,
    Customer,
    Herald,
    Invitee,
    Organizer,
    Payment,
    PreferencesUpdate,
    RecipientFields,
    RecipientRef,
    events,
    key_from,
)
from herald_client.models import DoNotDisturb

from tests.client.conftest import unique

RECEIPT = {"subject": "Payment received", "message": "We received 42.00 EUR."}


async def test_send_get_list_and_cancel_with_the_sync_client(herald, smtp, outbox_path):
    client = Herald(herald.url, herald.key, outbox_path=outbox_path, background=False)
    order_id, external_id = uuid.uuid4().hex[:8], unique("user")
    address = f"{external_id}@example.com"
    recipient = RecipientRef(external_id=external_id, email=address)

    def send():
        return client.send(
            recipient,
            "payment.completed",
            context=RECEIPT,
            channels=["email"],
            key_from=("order", order_id, "paid"),
        )

    accepted = await asyncio.to_thread(send)
    assert (
        accepted.idempotency_key == key_from("order", order_id, "paid") == f"order:{order_id}:paid"
    )
    assert accepted.replayed is False
    replay = await asyncio.to_thread(send)  # the caller's retry: the same notification
    assert (replay.id, replay.replayed) == (accepted.id, True)

    [mail] = await smtp.wait_for(address)
    assert mail.subject == "Payment received"
    sent = await herald.stack.wait_for_status(str(accepted.id), "sent")
    got = await asyncio.to_thread(client.get_notification, accepted.id)
    assert (got.id, got.status, got.recipient, got.context) == (
        accepted.id,
        sent["status"],
        external_id,
        RECEIPT,
    )
    assert [(d.channel, d.status, d.address) for d in got.deliveries] == [
        ("email", "sent", address)
    ]

    page = await asyncio.to_thread(client.list_deliveries, recipient=external_id, channel="email")
    assert [(e.notification_id, e.event_key) for e in page.data] == [
        (accepted.id, "payment.completed")
    ]
    assert page.next_cursor is None

    later = await asyncio.to_thread(
        lambda: client.send(
            external_id,
            "payment.reminder",
            context=RECEIPT,
            send_at=datetime.now(UTC) + timedelta(days=1),
        )
    )
    assert later.idempotency_key.startswith("herald-client:")  # none given: one drawn
    outcome = await asyncio.to_thread(client.cancel_notification, later.id)
    assert (outcome.id, outcome.cancelled, outcome.status) == (later.id, True, "cancelled")
    assert (await asyncio.to_thread(client.get_notification, later.id)).status == "cancelled"
    client.close()


async def test_payment_and_booking_events_with_the_async_client(herald, smtp, outbox_path):
    async with AsyncHerald(herald.url, herald.key, outbox_path=outbox_path) as client:
        payment_id, address = unique("pay"), f"{unique('payer')}@example.com"
        paid_at = datetime.now(UTC) - timedelta(seconds=5)
        payment = Payment(
            payment_id=payment_id,
            customer=Customer(id=unique("cust"), email=address),
            amount="42.00",
            currency="EUR",
        )
        event = events.payment_completed(payment, occurred_at=paid_at)
        assert event.id == f"payment.completed:{payment_id}"
        accepted = await client.send_event(event)
        assert (accepted.event_id, accepted.duplicate) == (event.id, False)
        assert accepted.notification_id is not None
        # The same fact built again is the same event: a duplicate, nothing done twice.
        again = await client.send_event(events.payment_completed(payment, occurred_at=paid_at))
        assert again.duplicate is True
        await smtp.wait_for(address)

        booking_id, invitee = unique("bk"), f"{unique('inv')}@example.com"
        start = datetime.now(UTC) + timedelta(days=2)
        booking = Booking(
            booking_id=booking_id,
            organizer=Organizer(id=unique("org"), email=f"{unique('org')}@example.com"),
            invitee=Invitee(email=invitee, name="Ada"),
            event_name="Consultation",
            start=start,
            end=start + timedelta(minutes=30),
        )
        created = await client.send_event(
            events.booking_created(booking, occurred_at=datetime.now(UTC))
        )
        assert created.workflow_id == f"booking-{herald.stack.tenant_id}-{booking_id}"
        assert created.outcome in ("applied", "queued")
        await smtp.wait_for(invitee)  # the confirmation
        moved = booking.model_copy(
            update={
                "start": datetime(2031, 5, 6, 9, 30, tzinfo=UTC),
                "end": datetime(2031, 5, 6, 10, tzinfo=UTC),
            }
        )
        rescheduled = events.booking_rescheduled(moved, occurred_at=datetime.now(UTC))
        assert rescheduled.id == f"booking.rescheduled:{booking_id}:20310506T093000.000000Z"
        answer = await client.send_event(rescheduled)
        assert answer.duplicate is False and answer.outcome in ("applied", "queued")


async def test_recipients_preferences_and_inbox_tokens(herald, outbox_path):
    async with AsyncHerald(herald.url, herald.key, outbox_path=outbox_path) as client:
        external_id = unique("rcpt")
        put = await client.put_recipient(
            external_id,
            RecipientFields(email="ada@example.com", timezone="Europe/Berlin", locale="de"),
        )
        assert (put.external_id, put.email, put.timezone, put.locale) == (
            external_id,
            "ada@example.com",
            "Europe/Berlin",
            "de",
        )
        patched = await client.patch_recipient(
            external_id, {"phone": "+14155550123", "email": None}
        )
        assert (patched.phone, patched.email, patched.timezone) == (
            "+14155550123",
            None,
            "Europe/Berlin",
        )
        assert await client.get_recipient(external_id) == patched

        prefs = await client.put_preferences(
            external_id,
            PreferencesUpdate(
                channels={"sms": False},
                dnd=DoNotDisturb(enabled=True, start=time(21, 30), end=time(6, 45)),
            ),
        )
        assert prefs.channels["sms"] is False and prefs.channels["email"] is True
        assert (prefs.dnd.enabled, prefs.dnd.start.isoformat(), prefs.dnd.end.isoformat()) == (
            True,
            "21:30:00",
            "06:45:00",
        )
        patched_prefs = await client.patch_preferences(
            external_id,
            {"muted_event_keys": ["marketing.news"], "channels": {"sms": None, "push": False}},
        )
        assert patched_prefs.muted_event_keys == ["marketing.news"]
        assert patched_prefs.channels["sms"] is True  # back to the tenant's default
        assert patched_prefs.channels["push"] is False
        read = await client.get_preferences(external_id)
        # (GET shows `channels` as the recipient's own switches only while the tenant has no
        # stored defaults, where PUT and PATCH answer every channel: compared by what is set.)
        assert (read.muted_event_keys, read.dnd, read.channels.get("push")) == (
            patched_prefs.muted_event_keys,
            patched_prefs.dnd,
            False,
        )

        token = await client.create_recipient_token(external_id, ttl_seconds=120)
        assert token.tenant_id == herald.stack.tenant_id
        assert (
            timedelta(seconds=100) < token.expires_at - datetime.now(UTC) <= timedelta(seconds=120)
        )
        inbox = await client._http.get(
            "/v1/inbox", headers={"Authorization": f"Bearer {token.token}"}
        )
        assert inbox.status_code == 200, inbox.text  # the token opens the recipient's inbox


async def test_template_preview_and_test_send(herald, smtp, outbox_path):
    created = await herald.stack.api.post(
        "/v1/templates",
        json={
            "name": unique("Receipt"),
            "event_key": "payment.completed",
            "channel": "email",
            "subject": "Paid: {{ amount }}",
            "html_body": "<p>Thanks, {{ name }}.</p>",
        },
    )
    assert created.status_code == 201, created.text
    template_id = created.json()["id"]
    client = Herald(herald.url, herald.key, outbox_path=outbox_path, background=False)
    preview = await asyncio.to_thread(
        client.preview_template, template_id, {"amount": "42.00 EUR", "name": "Ada"}
    )
    assert (preview.channel, preview.subject) == ("email", "Paid: 42.00 EUR")
    assert preview.html is not None and "Thanks, Ada." in preview.html
    address = f"{unique('test')}@example.com"
    accepted = await asyncio.to_thread(
        lambda: client.send_template_test(
            template_id, email=address, context={"amount": "1.00 EUR", "name": "Bo"}
        )
    )
    [mail] = await smtp.wait_for(address)
    assert mail.subject == "[TEST] Paid: 1.00 EUR"
    assert accepted.id is not None
    client.close()


async def test_broadcasts_topics_and_their_progress(herald, outbox_path):
    async with AsyncHerald(herald.url, herald.key, outbox_path=outbox_path) as client:
        members = [unique("fan") for _ in range(3)]
        for member in members:
            await client.put_recipient(member, RecipientFields(email=f"{member}@example.com"))
        topic = unique("news").lower()
        added = await client.subscribe(topic, members)
        assert (added.key, added.created, added.added) == (topic, True, 3)
        removed = await client.unsubscribe(topic, members[2:])
        assert removed.removed == 1
        subscribers = await client.list_topic_subscribers(topic)
        assert sorted(s.external_id for s in subscribers.data) == sorted(members[:2])
        assert [t.key for t in (await client.list_recipient_topics(members[0])).data] == [topic]
        assert topic in [t.key for t in (await client.list_topics(limit=200)).data]

        accepted = await client.create_broadcast(
            Audience(topic=topic),
            "news.update",
            context={"title": "Spring", "message": "Everything is 20% off."},
            channels=["in_app"],
            key_from=("campaign", topic),
        )
        assert accepted.idempotency_key == f"campaign:{topic}"
        done = None

        async def finished() -> bool:
            nonlocal done
            done = await client.get_broadcast(accepted.id)
            return done.status == "completed"

        deadline = asyncio.get_running_loop().time() + 30
        while not await finished():
            assert asyncio.get_running_loop().time() < deadline, done
            await asyncio.sleep(0.2)
        assert done is not None
        assert (done.total, done.planned, done.sent, done.failed) == (2, 2, 2, 0)
        assert (done.audience.kind, done.audience.topic) == ("topic", topic)

        later = await client.create_broadcast(
            Audience(recipients=members),
            "news.update",
            context={"title": "Later"},
            send_at=datetime.now(UTC) + timedelta(days=1),
        )
        listed = await client.list_broadcasts(limit=2)
        assert [b.id for b in listed.data] == [later.id, accepted.id]
        cancelled = await client.cancel_broadcast(later.id)
        assert cancelled.id == later.id
        assert (await client.get_broadcast(later.id)).status == "cancelled"
        await client.delete_topic(topic)
        assert topic not in [t.key for t in (await client.list_topics(limit=200)).data]
