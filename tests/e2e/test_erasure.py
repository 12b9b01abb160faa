"""Erasing a person (DELETE /v1/recipients/{external_id}) on the real stack: a recipient with
one of everything (email, SMS and in-app notifications, a scheduled one, a digested one, a
booking with reminders, a device, a chat address, a topic, an unsubscribe, a dashboard edit,
a status webhook message), erased; then no text column of any table holds them, their
workflows are gone from Temporal, statistics still count their deliveries, and the erasure is
recorded without them."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from temporalio.service import RPCError, RPCStatusCode

from db.integration_models import Erasure, WebhookAttempt, WebhookEndpoint, WebhookMessage
from db.models import Notification
from domain.tenants import TenantIdentity
from services import recipients
from tests.conftest import new_tenant
from tests.e2e.bookings_factory import booking_event, eventually, new_booking_id, post_event
from tests.e2e.inbox_messages import send_in_app
from tests.e2e.test_templates_api import email_template
from tests.e2e.test_unsubscribe import token_for
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)
from tests.utils.audience import wait_for_broadcast

# The tests wait for Temporal to delete closed workflows, which it does in the background.
pytestmark = pytest.mark.timeout(300)
DELETION_WAIT = 120.0  # seconds
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY")


@dataclass(frozen=True)
class Person:
    external_id: str
    address: str
    phone: str
    name: str
    slack: str
    device_token: str

    def needles(self) -> list[str]:
        """What names them, as any column could hold it."""
        return [
            self.external_id,
            self.address,
            self.phone,
            self.phone.removeprefix("+"),
            self.name,
            self.slack,
            self.device_token,
        ]


def new_person() -> Person:
    tag = uuid.uuid4().hex[:10]
    address = f"zq-{tag}@example.com"
    return Person(
        # The recipient a booking's invitee is stored as, so their booking notices are theirs.
        external_id=f"email:{address}",
        address=address,
        phone=f"+4475{uuid.uuid4().int % 10**8:08d}",
        name=f"Zq Quixote {tag}",
        slack=f"UZQ{tag.upper()}",
        device_token=f"zq-fcm-{tag}",
    )


async def mentions(sessions, needles: list[str]) -> set[tuple[str, str, str]]:
    """(table, column, needle) for every text, JSON and array column of every table that
    holds one of the needles, case-insensitively."""
    lowered = [needle.lower() for needle in needles]
    found: set[tuple[str, str, str]] = set()
    async with sessions() as session:
        columns = (
            await session.execute(
                text("""
                    SELECT c.table_name, c.column_name FROM information_schema.columns c
                    JOIN information_schema.tables t USING (table_schema, table_name)
                    WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
                      AND c.data_type = ANY(:types)
                """),
                {"types": list(TEXT_TYPES)},
            )
        ).all()
        assert len(columns) > 100  # the whole schema, not a few tables
        for table, column in columns:
            hits = await session.scalars(
                text(f"""
                    SELECT needle FROM unnest(CAST(:needles AS text[])) AS needle
                    WHERE EXISTS (SELECT 1 FROM "{table}"
                                  WHERE strpos(lower("{column}"::text), needle) > 0)
                """),
                {"needles": lowered},
            )
            found |= {(table, column, needle) for needle in hits}
    return found


async def stats(api, since: datetime) -> dict:
    params = {"from": since.isoformat(), "to": (since + timedelta(days=2)).isoformat()}
    response = await api.get("/v1/stats", params={**params, "group_by": "channel"})
    assert response.status_code == 200, response.text
    return response.json()


async def sent(stack, body: dict, *statuses: str) -> dict:
    response = await stack.api.post("/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return await stack.wait_for_status(response.json()["id"], *statuses)


def to(person: Person, channel: str, event_key: str = "payment.completed", **extra) -> dict:
    return {
        "recipient": {"external_id": person.external_id},
        "event_key": event_key,
        "channels": [channel],
        "context": {"subject": f"Hi {person.name}", "message": f"For {person.address}."},
        **extra,
    }


async def api_key_id(api) -> str:
    [key] = (await api.get("/v1/api-keys")).json()["data"]
    return key["id"]


async def gone_from_temporal(client, workflow_ids: list[str]) -> None:
    """Neither described nor its history fetched (NOT_FOUND), nor listed by visibility. The
    server deletes in the background: a running workflow at once, a closed one within about
    half a minute (the dev server's pace)."""

    async def readable() -> list[str]:
        found = []
        for workflow_id in workflow_ids:
            handle = client.get_workflow_handle(workflow_id)
            for read in (handle.describe, handle.fetch_history):
                try:
                    await read()
                except RPCError as refused:
                    assert refused.status == RPCStatusCode.NOT_FOUND, refused
                else:
                    found.append(f"{workflow_id} ({read.__name__})")
        return found

    await eventually(readable, lambda found: found == [], DELETION_WAIT, "histories deleted")
    listed = " OR ".join(f'WorkflowId = "{w}"' for w in workflow_ids)

    async def visible() -> list[str]:
        return [w.id async for w in client.list_workflows(listed)]

    await eventually(visible, lambda found: found == [], DELETION_WAIT, "no visibility records")


@dataclass
class Footprint:
    """What the person has, by id, as the test made it."""

    recipient_id: str
    notifications: dict[str, str]  # kind -> notification id
    booking_id: str
    organizer_id: str
    workflow_ids: list[str]  # their notifications', the organizer's notices', the chain's


async def person_with_everything(stack, sessions, owner, person: Person) -> Footprint:
    api = stack.api
    put = await api.put(
        f"/v1/recipients/{person.external_id}",
        json={
            "name": person.name,
            "email": person.address,
            "phone": person.phone,
            "chat_addresses": {"slack": person.slack},
        },
    )
    assert put.status_code in (200, 201), put.text
    preferences = {"digests": {"ticket": {"frequency": "daily"}}}
    put = await api.put(f"/v1/recipients/{person.external_id}/preferences", json=preferences)
    assert put.status_code == 200, put.text
    device = await api.put(
        f"/v1/recipients/{person.external_id}/devices",
        json={"kind": "fcm", "token": person.device_token, "label": f"{person.name}'s phone"},
    )
    assert device.status_code == 201, device.text
    topic = await api.put(
        f"/v1/topics/zq-{uuid.uuid4().hex[:8]}/subscribers",
        json={"recipients": [person.external_id]},
    )
    assert topic.status_code == 200, topic.text

    notifications = {
        "email": (await sent(stack, to(person, "email"), "sent"))["id"],
        "sms": (await sent(stack, to(person, "sms"), "sent"))["id"],
        "digested": (await sent(stack, to(person, "email", "ticket.replied"), "digested"))["id"],
        "scheduled": (
            await sent(
                stack,
                to(person, "email", send_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()),
                "scheduled",
            )
        )["id"],
    }
    in_app = await send_in_app(stack, person.external_id, title=f"Hello {person.name}")
    async with sessions() as session:
        recipient_id = str(
            await session.scalar(
                select(Notification.recipient_id).where(
                    Notification.id == uuid.UUID(notifications["email"])
                )
            )
        )
        notifications["in_app"] = str(
            await session.scalar(
                text("SELECT notification_id FROM deliveries WHERE id = :id"), {"id": in_app}
            )
        )
    unsubscribed = await api.post(
        f"/v1/unsubscribe/{token_for(stack, recipient_id, 'marketing')}",
        headers={"Authorization": ""},
        data={"List-Unsubscribe": "One-Click"},
    )
    assert unsubscribed.status_code == 200, unsubscribed.text

    booking_id, organizer_id = new_booking_id(), f"org-{uuid.uuid4().hex[:8]}"
    invitee = {
        "name": person.name,
        "email": person.address,
        "phone": person.phone,
        "timezone": "Europe/Berlin",
    }
    start = datetime.now(UTC) + timedelta(days=3)
    await post_event(
        stack,
        booking_event(
            "booking.created", booking_id, start, organizer_id=organizer_id, invitee=invitee
        ),
    )
    chain = stack.client.get_workflow_handle(f"booking-{stack.tenant_id}-{booking_id}")

    async def notices() -> list[Notification]:
        async with sessions() as session:
            return list(
                await session.scalars(
                    select(Notification).where(
                        Notification.tenant_id == stack.tenant_id,
                        Notification.idempotency_key.startswith(f"booking-{booking_id}-"),
                    )
                )
            )

    confirmations = await eventually(
        notices,
        lambda found: len(found) == 2 and all(n.status == "sent" for n in found),
        what="the invitee's and the organizer's confirmations",
    )
    state = await eventually(
        lambda: chain.query("state"),
        lambda s: s["status"] == "confirmed" and s["reminders"],
        what="the chain's reminders planned",
    )
    assert {r["status"] for r in state["reminders"]} == {"pending"}

    # The dashboard's edit of the recipient, in the audit log under their external id.
    async with sessions() as session:
        await recipients.patch_recipient(
            session,
            TenantIdentity(stack.tenant_id, "Acme"),
            person.external_id,
            {"locale": "de"},
            by=owner.operator,
        )
    await status_webhook_message(sessions, stack.tenant_id, notifications["email"], person)

    async with sessions() as session:
        workflow_ids = list(
            await session.scalars(
                select(Notification.workflow_id).where(
                    Notification.id.in_(
                        [uuid.UUID(n) for n in notifications.values()]
                        + [n.id for n in confirmations]
                    )
                )
            )
        )
    return Footprint(
        recipient_id,
        notifications,
        booking_id,
        organizer_id,
        [
            *workflow_ids,
            chain.id,
            f"digest-{stack.tenant_id}-{recipient_id}-ticket-daily",
        ],
    )


async def status_webhook_message(
    sessions, tenant_id, notification_id: str, person: Person
) -> uuid.UUID:
    """A status webhook message about their email delivery, as the dispatcher records one
    (its endpoint disabled: nothing is sent), with a receiver's answer echoing it."""
    message_id = uuid.uuid4()
    async with sessions.begin() as session:
        delivery_id = await session.scalar(
            text("SELECT id FROM deliveries WHERE notification_id = :n"),
            {"n": uuid.UUID(notification_id)},
        )
        endpoint = WebhookEndpoint(
            tenant_id=tenant_id,
            url="https://93.184.215.14/zq-hook",
            secret_sealed="sealed",
            enabled=False,
        )
        session.add(endpoint)
        await session.flush()
        payload = {
            "type": "delivery.sent",
            "data": {
                "delivery_id": str(delivery_id),
                "recipient": {"external_id": person.external_id},
            },
        }
        session.add(
            WebhookMessage(
                id=message_id,
                tenant_id=tenant_id,
                endpoint_id=endpoint.id,
                event_type="delivery.sent",
                subject_id=delivery_id,
                payload=payload,
                status="delivered",
                attempts=1,
                workflow_id=f"status-webhook-{message_id}",
            )
        )
        await session.flush()
        session.add(
            WebhookAttempt(
                message_id=message_id,
                status_code=200,
                response_body=f"received for {person.address}",
                duration_ms=3,
            )
        )
    return message_id


async def test_an_erased_person_is_in_no_column_nor_in_temporal_and_still_counted(
    stack, sessions, owner, smtp
):
    since = datetime.now(UTC) - timedelta(minutes=1)
    person = new_person()
    footprint = await person_with_everything(stack, sessions, owner, person)
    before = await mentions(sessions, person.needles())
    held_in = {table for table, _, _ in before}
    assert {
        "recipients",
        "notifications",
        "deliveries",
        "in_app_messages",
        "inbox_events",
        "devices",
        "bookings",
        "address_suppressions",
        "audit_log",
        "webhook_messages",
        "webhook_attempts",
    } <= held_in, held_in
    counted = await stats(stack.api, since)
    assert counted["totals"]["sent"] >= 3, counted

    erased = await stack.api.delete(f"/v1/recipients/{person.external_id}")

    assert erased.status_code == 200, erased.text
    record = erased.json()
    assert record["recipient_id"] == footprint.recipient_id
    assert record["requested_by"] == f"api_key:{await api_key_id(stack.api)}"
    removed = record["removed"]
    for kind in ("deliveries", "notifications", "in_app_messages", "devices", "bookings"):
        assert removed[kind] >= 1, (kind, removed)
    assert removed["notifications_cancelled"] >= 1 and removed["workflow_runs"] >= 6, removed

    # (1) In no text, JSON or array column of any table.
    assert await mentions(sessions, person.needles()) == set()
    # (2) What waited is cancelled: the scheduled notification, the booking's reminders.
    scheduled = await stack.notification(footprint.notifications["scheduled"])
    assert scheduled["status"] == "cancelled"
    assert {d["status"] for d in scheduled["deliveries"]} <= {"cancelled"}
    assert (await stack.api.get(f"/v1/bookings/{footprint.booking_id}")).status_code == 404
    async with sessions() as session:
        reminders = await session.scalar(
            text("SELECT count(*) FROM booking_reminders WHERE booking_id = :b"),
            {"b": footprint.booking_id},
        )
    assert reminders == 0
    # (3) Temporal holds none of their workflows: no history, no visibility record.
    await gone_from_temporal(stack.client, footprint.workflow_ids)

    async def by_booking() -> list[str]:
        query = f'HeraldBookingId = "{footprint.booking_id}"'
        return [w.id async for w in stack.client.list_workflows(query)]

    await eventually(by_booking, lambda found: found == [], what="no chain by its booking id")
    # (4) Statistics count their deliveries as before.
    assert (await stats(stack.api, since))["totals"] == counted["totals"]
    # (5) Recorded, without them (the search above covered the erasures table too).
    async with sessions() as session:
        stored = await session.get(Erasure, uuid.UUID(record["id"]))
    assert stored is not None and stored.completed_at is not None
    assert str(stored.recipient_id) == footprint.recipient_id
    assert stored.removed == removed
    # (6) Done once: the external id no longer exists.
    again = await stack.api.delete(f"/v1/recipients/{person.external_id}")
    assert again.status_code == 404, again.text
    anonymous = f"erased:{footprint.recipient_id}"
    # The anonymous row's id names no one a caller may write to or read.
    assert (await stack.api.delete(f"/v1/recipients/{anonymous}")).status_code == 422
    refill = await stack.api.put(f"/v1/recipients/{anonymous}", json={"email": "x@example.com"})
    assert refill.status_code == 422 and "reserved for erased" in refill.text
    assert (await stack.api.get(f"/v1/recipients/{person.external_id}")).status_code == 404
    async with sessions() as session:
        erasures = await session.scalar(
            select(func.count())
            .select_from(Erasure)
            .where(Erasure.recipient_id == uuid.UUID(footprint.recipient_id))
        )
    assert erasures == 1


async def test_another_tenant_cannot_erase_them(stack, sessions):
    person = new_person()
    put = await stack.api.put(f"/v1/recipients/{person.external_id}", json={"name": person.name})
    assert put.status_code in (200, 201), put.text
    _, key = await new_tenant(sessions, "Intruder")
    intruder = await stack.as_tenant(key)

    refused = await intruder.delete(f"/v1/recipients/{person.external_id}")

    assert refused.status_code == 404, refused.text
    kept = await stack.api.get(f"/v1/recipients/{person.external_id}")
    assert kept.status_code == 200 and kept.json()["name"] == person.name


async def test_with_temporal_unreachable_nothing_is_erased_and_a_retry_erases(
    stack,
    unreachable_temporal,  # noqa: F811
):
    person = new_person()
    body = to(person, "email", send_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    body["recipient"] |= {"email": person.address, "name": person.name}
    scheduled = await sent(stack, body, "scheduled")

    stack.app.state.temporal = unreachable_temporal
    refused = await stack.api.delete(f"/v1/recipients/{person.external_id}")
    assert refused.status_code == 503, refused.text
    assert refused.json()["code"] == "temporal_unavailable"
    kept = await stack.api.get(f"/v1/recipients/{person.external_id}")
    assert kept.status_code == 200 and kept.json()["email"] == person.address
    assert (await stack.notification(scheduled["id"]))["status"] == "scheduled"

    stack.app.state.temporal = stack.client
    erased = await stack.api.delete(f"/v1/recipients/{person.external_id}")
    assert erased.status_code == 200, erased.text
    assert (await stack.notification(scheduled["id"]))["status"] == "cancelled"
    # Its run deleted (the first test waits for the server to carry such deletions out).
    assert erased.json()["removed"]["workflow_runs"] == 1


async def test_an_erased_organizer_leaves_no_agenda_chain_template_or_name_in_notices(
    stack, sessions, smtp
):
    """An organizer erased: their agenda Schedule, their bookings' chains (found by the
    HeraldOrganizer search attribute too), their own templates and their name in the
    invitees' notices of those bookings all go."""
    tag = uuid.uuid4().hex[:10]
    organizer = Person(
        external_id=f"org-zq-{tag}",
        address=f"zq-org-{tag}@example.com",
        phone=f"+4476{uuid.uuid4().int % 10**8:08d}",
        name=f"Zq Organizer {tag}",
        slack=f"UZQORG{tag.upper()}",
        device_token=f"zq-org-fcm-{tag}",
    )
    api = stack.api
    put = await api.put(
        f"/v1/recipients/{organizer.external_id}",
        json={"name": organizer.name, "email": organizer.address, "phone": organizer.phone},
    )
    assert put.status_code in (200, 201), put.text
    agenda = await api.put(f"/v1/organizers/{organizer.external_id}/agenda", json={"time": "06:00"})
    assert agenda.status_code in (200, 201), agenda.text
    template = await api.post(
        "/v1/templates",
        json=email_template(owner_id=organizer.external_id, subject=f"With {organizer.name}"),
    )
    assert template.status_code == 201, template.text
    booking_id, guest = new_booking_id(), f"guest-{tag}@example.com"
    about_organizer = {
        "id": organizer.external_id,
        "name": organizer.name,
        "email": organizer.address,
        "timezone": "Europe/London",
    }
    await post_event(
        stack,
        booking_event(
            "booking.created",
            booking_id,
            datetime.now(UTC) + timedelta(days=3),
            organizer_id=organizer.external_id,
            invitee_email=guest,
            organizer=about_organizer,
        ),
    )
    await smtp.wait_for(guest)
    chain_id = f"booking-{stack.tenant_id}-{booking_id}"
    by_organizer = f'HeraldOrganizer = "{organizer.external_id}"'

    async def chains() -> list[str]:
        return [w.id async for w in stack.client.list_workflows(by_organizer)]

    assert await eventually(chains, lambda found: found == [chain_id]) == [chain_id]
    held = await mentions(sessions, organizer.needles())
    # The guest's confirmation names the organizer in its context; the organizer's template too.
    assert {("notifications", "context"), ("templates", "subject")} <= {h[:2] for h in held}

    erased = await api.delete(f"/v1/recipients/{organizer.external_id}")

    assert erased.status_code == 200, erased.text
    removed = erased.json()["removed"]
    assert removed["agenda_schedules"] == 1 and removed["templates"] == 1, removed
    assert await mentions(sessions, organizer.needles()) == set()
    agenda_gone = await api.get(f"/v1/organizers/{organizer.external_id}/agenda")
    assert agenda_gone.status_code == 404, agenda_gone.text
    await gone_from_temporal(stack.client, [chain_id])
    await eventually(chains, lambda found: found == [], DELETION_WAIT, "no chain by organizer")
    # The guest's own confirmation stays counted, without the organizer's name in it.
    async with sessions() as session:
        guest_notices = (
            await session.execute(
                text("""SELECT n.context, d.address, d.status FROM notifications n
                        JOIN deliveries d ON d.notification_id = n.id
                        WHERE n.tenant_id = :t AND n.idempotency_key = :key"""),
                {"t": stack.tenant_id, "key": f"booking-{booking_id}-confirmation-invitee"},
            )
        ).all()
    assert [(row.context, row.status) for row in guest_notices] == [({}, "sent")]


async def test_a_broadcast_to_everyone_leaves_erased_rows_out(stack, sessions):
    """An erased person's anonymous row is no one's: a broadcast to every recipient of the
    tenant does not write it an in-app message."""
    _, key = await new_tenant(sessions, "Everyone")
    api = await stack.as_tenant(key)
    kept, erased = new_person(), new_person()
    for person in (kept, erased):
        put = await api.put(f"/v1/recipients/{person.external_id}", json={"name": person.name})
        assert put.status_code in (200, 201), put.text
    assert (await api.delete(f"/v1/recipients/{erased.external_id}")).status_code in (200, 204)

    created = await api.post(
        "/v1/broadcasts",
        json={
            "audience": {"all": True},
            "event_key": "news.update",
            "channels": ["in_app"],
            "context": {"title": "Hello", "message": "Everyone"},
        },
    )
    assert created.status_code == 202, created.text
    progress = await wait_for_broadcast(api, created.json()["id"], timeout=120)

    assert progress["status"] == "completed" and progress["total"] == 1, progress
