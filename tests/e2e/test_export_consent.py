"""Privacy requests (issue 17): a person's data export (GET /v1/recipients/{id}/export) and
their consent history (GET /v1/recipients/{id}/consents), recorded at every place consent
changes: the preferences API, the inbox, the dashboard, the unsubscribe link, a provider's spam
report or unsubscribe. Against the real application, database, Temporal and SMTP server."""

import json
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import event, text

from db.address_health import mark_address_invalid
from services import recipient_export
from tests.conftest import new_tenant
from tests.e2e.bookings_factory import booking_event, eventually, new_address, post_event
from tests.e2e.inbox_factory import as_recipient, recipient_token_answer
from tests.e2e.inbox_messages import send_in_app, set_message
from tests.e2e.test_api_contract import assert_problem
from tests.e2e.test_dashboard_recipients import post_form
from tests.e2e.test_unsubscribe import token_for
from tests.e2e.webhooks_factory import post_sendgrid, send_email_through_sendgrid, sendgrid_event
from tests.utils.serving import on_a_port

SOON = datetime.now(UTC) + timedelta(days=30)


@dataclass
class Person:
    """A recipient with one of everything Herald holds about a person, and the ids of it."""

    external_id: str
    recipient_id: str
    email: str
    phone: str
    slack: str
    device_token: str
    topic: str
    notification_id: str
    subject: str
    message_id: str
    message_title: str
    organized_booking: str
    invited_booking: str

    def identifiers(self) -> list[str]:
        """What names this person and nothing else: none of it may be in another's export."""
        return [
            self.external_id,
            self.recipient_id,
            self.email,
            self.phone,
            self.slack,
            self.device_token,
            self.topic,
            self.notification_id,
            self.subject,
            self.message_id,
            self.message_title,
            self.organized_booking,
            self.invited_booking,
        ]


async def a_person(stack, sessions) -> Person:
    tag = uuid.uuid4().hex[:8]
    external_id = f"exp-{tag}"
    # The booking chain writes the organizer's name, email and timezone as the event gives
    # them (booking_event's): the same here, so the export's recipient is as set below.
    email = f"{external_id}@example.com"
    phone = f"+1415555{random.randrange(10**4):04d}"
    slack = f"U{tag.upper()}"
    put = await stack.api.put(
        f"/v1/recipients/{external_id}",
        json={
            "name": "Ada Organizer",
            "email": email,
            "phone": phone,
            "timezone": "Europe/Paris",
            "locale": "fr",
            "chat_addresses": {"slack": slack},
        },
    )
    assert put.status_code in (200, 201), put.text
    recipient_id = await recipient_id_of(stack, sessions, external_id)
    device_token = f"fcm-{tag}:device"
    device = await stack.api.put(
        f"/v1/recipients/{external_id}/devices",
        json={"kind": "fcm", "token": device_token, "label": "Phone"},
    )
    assert device.status_code == 201, device.text
    topic = f"news-{tag}"
    subscribed = await stack.api.put(
        f"/v1/topics/{topic}/subscribers", json={"recipients": [external_id]}
    )
    assert subscribed.status_code == 200, subscribed.text

    subject = f"Receipt {tag}"
    sent = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id},
            "event_key": "payment.completed",
            "channels": ["email"],
            "context": {"subject": subject, "message": "We received 42.00 EUR.", "order": tag},
        },
    )
    assert sent.status_code == 202, sent.text
    await stack.wait_for_status(sent.json()["id"], "sent")
    message_title = f"Hello {tag}"
    message_id = await send_in_app(stack, external_id, title=message_title)
    now = datetime.now(UTC)
    await set_message(sessions, message_id, read_at=now, snoozed_until=now + timedelta(days=1))
    # Quiet hours on only once the receipt and the message are out: between 22:00 and 07:00
    # in Paris they would wait till morning.
    patch = await stack.api.patch(
        f"/v1/recipients/{external_id}/preferences",
        json={"rules": {"marketing": {"email": False}}, "dnd": {"enabled": True}},
    )
    assert patch.status_code == 200, patch.text

    # The one-click link: the booking category off, the address suppressed for it.
    unsubscribed = await stack.api.post(
        f"/v1/unsubscribe/{token_for(stack, recipient_id, 'booking')}",
        headers={"Authorization": ""},
        data={"List-Unsubscribe": "One-Click"},
    )
    assert unsubscribed.status_code == 200, unsubscribed.text
    async with sessions.begin() as session:
        await mark_address_invalid(session, stack.tenant_id, "sms", phone, "dead number")

    # A booking they organize, and one they are invited to (named by their address).
    organized, invited = f"bk-{tag}-org", f"bk-{tag}-inv"
    await post_event(
        stack,
        booking_event(
            "booking.created",
            organized,
            SOON,
            organizer_id=external_id,
            organizer_tz="Europe/Paris",
        ),
    )
    await post_event(
        stack,
        booking_event(
            "booking.created", invited, SOON, organizer_id=f"org-{tag}", invitee_email=email
        ),
    )
    for booking_id in (organized, invited):
        await eventually(
            lambda b=booking_id: stack.api.get(f"/v1/bookings/{b}"),
            lambda response: response.status_code == 200,
            what=f"booking {booking_id} recorded",
        )
    return Person(
        external_id,
        recipient_id,
        email,
        phone,
        slack,
        device_token,
        topic,
        sent.json()["id"],
        subject,
        message_id,
        message_title,
        organized,
        invited,
    )


async def recipient_id_of(stack, sessions, external_id: str) -> str:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT id FROM recipients WHERE tenant_id = :tenant AND external_id = :id"),
            {"tenant": stack.tenant_id, "id": external_id},
        )
    return str(found)


async def exported(stack, external_id: str) -> dict:
    response = await stack.api.get(f"/v1/recipients/{external_id}/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.json"')
    assert "content-length" not in response.headers  # streamed
    return json.loads(response.text)


async def stored_notification_ids(sessions, recipient_id: str) -> list[str]:
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT id FROM notifications WHERE recipient_id = :id "
                "ORDER BY created_at DESC, id DESC"
            ),
            {"id": uuid.UUID(recipient_id)},
        )
        return [str(row.id) for row in rows]


async def test_the_export_holds_each_kind_of_a_persons_data_and_nothing_of_anothers(
    stack, sessions, smtp
):
    ada, bob = await a_person(stack, sessions), await a_person(stack, sessions)
    before = datetime.now(UTC)

    document = await exported(stack, ada.external_id)

    assert list(document) == [
        "generated_at", "recipient", "preferences", "devices", "topic_subscriptions",
        "suppressions", "invalid_addresses", "consent_events", "bookings", "in_app_messages",
        "notifications",
    ]  # fmt: skip
    assert datetime.fromisoformat(document["generated_at"]) >= before
    recipient = document["recipient"]
    assert recipient | {"created_at": None, "updated_at": None} == {
        "id": ada.recipient_id,
        "external_id": ada.external_id,
        "name": "Ada Organizer",
        "email": ada.email,
        "phone": ada.phone,
        "chat_addresses": {"slack": ada.slack},
        "timezone": "Europe/Paris",
        "locale": "fr",
        "created_at": None,
        "updated_at": None,
    }
    preferences = document["preferences"]
    assert preferences["overrides"] == {
        "rules": {"marketing": {"email": False}, "booking": {"email": False}},
        "dnd": {"enabled": True},
    }
    effective = (await stack.api.get(f"/v1/recipients/{ada.external_id}/preferences")).json()
    assert preferences["effective"] == {k: v for k, v in effective.items() if k != "unsubscribed"}
    assert preferences["unsubscribed"] == [{"channel": "email", "category": "booking"}]

    [device] = document["devices"]
    assert device["kind"] == "fcm" and device["token"] == ada.device_token
    assert device["label"] == "Phone" and device["active"] is True and device["last_seen"]
    assert [s["topic_key"] for s in document["topic_subscriptions"]] == [ada.topic]
    [suppression] = document["suppressions"]
    assert suppression | {"created_at": None} == {
        "channel": "email",
        "address": ada.email,
        "category": "booking",
        "through_this_recipient": True,
        "created_at": None,
    }
    [invalid] = document["invalid_addresses"]
    assert (invalid["channel"], invalid["address"], invalid["reason"]) == (
        "sms",
        ada.phone,
        "dead number",
    )
    consents = [
        (c["source"], c["action"], c["channel"], c["scope"]) for c in document["consent_events"]
    ]
    assert consents == [
        ("unsubscribe_link", "opt_out", "email", "booking"),
        ("api", "opt_out", "email", "marketing"),
    ]
    roles = {b["id"]: b["role"] for b in document["bookings"]}
    assert roles == {ada.organized_booking: "organizer", ada.invited_booking: "invitee"}
    invited = next(b for b in document["bookings"] if b["id"] == ada.invited_booking)
    assert invited["invitee_email"] == ada.email and invited["payload"]["booking_id"]

    [message] = document["in_app_messages"]
    assert message["id"] == ada.message_id and message["title"] == ada.message_title
    assert message["body"] and message["read_at"] and message["snoozed_until"]
    assert message["archived_at"] is None

    notifications = document["notifications"]
    assert [n["id"] for n in notifications] == await stored_notification_ids(
        sessions, ada.recipient_id
    )  # all of them, newest first (the in-app one, the payment's, the booking chain's)
    payment = next(n for n in notifications if n["id"] == ada.notification_id)
    assert payment["event_key"] == "payment.completed" and payment["status"] == "sent"
    assert payment["context"]["subject"] == ada.subject and payment["recipient_email"] == ada.email
    [delivery] = payment["deliveries"]
    assert (delivery["channel"], delivery["status"], delivery["address"]) == (
        "email",
        "sent",
        ada.email,
    )
    assert delivery["subject"] == ada.subject and delivery["sent_at"] and delivery["provider"]
    in_app = next(n for n in notifications if n["deliveries"][0]["id"] == ada.message_id)
    assert in_app["deliveries"][0]["channel"] == "in_app"

    # Nothing of the other person's, and theirs holds nothing of this one's.
    text_of_ada = json.dumps(document)
    assert not [value for value in bob.identifiers() if value in text_of_ada]
    text_of_bob = json.dumps(await exported(stack, bob.external_id))
    assert not [value for value in ada.identifiers() if value in text_of_bob]
    assert bob.device_token in text_of_bob and bob.message_title in text_of_bob


async def test_an_unknown_or_another_tenants_recipient_has_no_export_nor_consents(stack, sessions):
    external_id = f"exp-{uuid.uuid4().hex[:8]}"
    await stack.api.put(f"/v1/recipients/{external_id}", json={"email": "x@example.com"})
    _, other_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(other_key)
    for path in ("export", "consents"):
        for client, who in ((stack.api, "nobody-here"), (other, external_id)):
            response = await client.get(f"/v1/recipients/{who}/{path}")
            problem = assert_problem(response, 404, "not_found")
            assert "x@example.com" not in json.dumps(problem)


# Copies of one sent notification, with its delivery: for a history too long to send for real.
# Three copies share each creation time, so pages also end between rows of the same time.
_COPY_HISTORY = text("""
    WITH copies AS (
        INSERT INTO notifications
            (id, tenant_id, recipient_id, event_key, priority, channels, context,
             idempotency_key, request_digest, workflow_id, status, recipient_email,
             created_at, updated_at)
        SELECT gen_random_uuid(), tenant_id, recipient_id, event_key, priority, channels,
               context || jsonb_build_object('copy', n), idempotency_key || '-copy-' || n,
               request_digest, workflow_id || '-copy-' || n, status, recipient_email,
               created_at - make_interval(secs => n / 3), updated_at
        FROM notifications, generate_series(1, :count) AS n
        WHERE id = :id
        RETURNING id, created_at
    )
    INSERT INTO deliveries
        (id, tenant_id, notification_id, channel, provider, address, status, subject, sent_at,
         created_at, updated_at)
    SELECT gen_random_uuid(), d.tenant_id, copies.id, d.channel, d.provider, d.address, d.status,
           d.subject, d.sent_at, copies.created_at, copies.created_at
    FROM copies, deliveries AS d
    WHERE d.notification_id = :id
""")


async def test_a_long_history_is_exported_whole_a_page_at_a_time(stack, sessions, smtp):
    external_id = f"exp-{uuid.uuid4().hex[:8]}"
    address = f"{external_id}@example.com"
    sent = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id, "email": address},
            "event_key": "payment.completed",
            "channels": ["email"],
            "context": {"subject": "Receipt", "message": "We received 42.00 EUR."},
        },
    )
    await stack.wait_for_status(sent.json()["id"], "sent")
    async with sessions.begin() as session:
        await session.execute(_COPY_HISTORY, {"id": uuid.UUID(sent.json()["id"]), "count": 1999})
    recipient_id = await recipient_id_of(stack, sessions, external_id)
    expected = await stored_notification_ids(sessions, recipient_id)
    assert len(expected) == 2000

    # Every statement the API runs, to count the pages it read.
    engine = stack.app.state.sessions.kw["bind"].sync_engine
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        # Served on a port: httpx's ASGI transport would gather the answer into one piece.
        async with (
            on_a_port(stack.app) as base_url,
            httpx.AsyncClient(base_url=base_url, headers=stack.api.headers) as client,
            client.stream("GET", f"/v1/recipients/{external_id}/export") as response,
        ):
            assert response.status_code == 200
            assert response.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in response.headers
            chunks = [chunk async for chunk in response.aiter_raw()]
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    document = json.loads(b"".join(chunks))
    notifications = document["notifications"]
    assert [n["id"] for n in notifications] == expected  # whole, newest first, none twice
    assert all(
        len(n["deliveries"]) == 1 and n["deliveries"][0]["address"] == address
        for n in notifications
    )
    assert sorted(n["context"].get("copy", 0) for n in notifications) == list(range(2000))
    pages = recipient_export.PAGE_ROWS
    notification_pages = [s for s in statements if "FROM notifications WHERE" in s]
    delivery_reads = [s for s in statements if "FROM deliveries" in s]
    # 2,000 rows in pages of PAGE_ROWS: one query a page (and one that finds the end), one
    # delivery read per page; the answer arrives in pieces.
    assert len(notification_pages) == 2000 // pages + 1
    assert len(delivery_reads) == 2000 // pages
    assert len(chunks) > 1


async def consents(stack, external_id: str, **params) -> dict:
    response = await stack.api.get(f"/v1/recipients/{external_id}/consents", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def summary(page: dict) -> list[tuple]:
    return [(c["source"], c["action"], c["channel"], c["scope"]) for c in page["data"]]


async def new_recipient(stack) -> str:
    external_id = f"consent-{uuid.uuid4().hex[:8]}"
    put = await stack.api.put(
        f"/v1/recipients/{external_id}", json={"email": f"{external_id}@example.com"}
    )
    assert put.status_code in (200, 201), put.text
    return external_id


async def test_preferences_changes_through_the_api_record_one_event_each(stack):
    external_id = await new_recipient(stack)
    path = f"/v1/recipients/{external_id}/preferences"
    assert (await consents(stack, external_id)) == {"data": [], "next_cursor": None}

    patched = await stack.api.patch(
        path,
        json={
            "channels": {"sms": False},
            "rules": {"marketing": {"email": False, "sms": True}},
            "muted_event_keys": ["booking.follow_up"],
            "dnd": {"enabled": True},  # not consent: nothing recorded for it
        },
    )
    assert patched.status_code == 200, patched.text
    first = await consents(stack, external_id)
    # Newest first: the events of one change in reverse order of writing. A rule switching a
    # channel on that nothing refused before is no change of consent.
    assert summary(first) == [
        ("api", "opt_out", None, "booking.follow_up"),
        ("api", "opt_out", "email", "marketing"),
        ("api", "opt_out", "sms", None),
    ]
    assert all(c["details"] == {} and c["at"] for c in first["data"])

    # Writing the same again changes nothing: nothing recorded.
    await stack.api.patch(path, json={"channels": {"sms": False}})
    assert len((await consents(stack, external_id))["data"]) == 3

    replaced = await stack.api.put(path, json={"dnd": {"enabled": True}})  # the rest: defaults
    assert replaced.status_code == 200, replaced.text
    assert summary(await consents(stack, external_id))[:3] == [
        ("api", "opt_in", None, "booking.follow_up"),
        ("api", "opt_in", "email", "marketing"),
        ("api", "opt_in", "sms", None),
    ]

    refused = await stack.api.patch(path, json={"channels": {"email": "no"}})
    assert refused.status_code == 422
    assert len((await consents(stack, external_id))["data"]) == 6  # nothing for a refusal


async def test_the_inbox_records_the_recipients_own_changes(stack):
    external_id = f"consent-{uuid.uuid4().hex[:8]}"
    answer = await recipient_token_answer(stack.api, external_id)
    async with as_recipient(stack, answer["token"]) as inbox:
        changed = await inbox.patch(
            "/v1/inbox/preferences", json={"rules": {"booking.reminder": {"push": False}}}
        )
        assert changed.status_code == 200, changed.text
    assert summary(await consents(stack, external_id)) == [
        ("inbox", "opt_out", "push", "booking.reminder")
    ]


async def test_the_unsubscribe_link_records_an_opt_out_and_opting_back_in_an_opt_in(
    stack, sessions
):
    external_id = await new_recipient(stack)
    recipient_id = await recipient_id_of(stack, sessions, external_id)
    token = token_for(stack, recipient_id, "booking")
    for _ in range(2):  # each click is the person's act: each is recorded
        done = await stack.api.post(
            f"/v1/unsubscribe/{token}",
            headers={"Authorization": ""},
            data={"List-Unsubscribe": "One-Click"},
        )
        assert done.status_code == 200, done.text
    assert (
        summary(await consents(stack, external_id))
        == [
            ("unsubscribe_link", "opt_out", "email", "booking"),
        ]
        * 2
    )

    back = await stack.api.patch(
        f"/v1/recipients/{external_id}/preferences",
        json={"rules": {"booking": {"email": True}}},
    )
    assert back.status_code == 200 and back.json()["unsubscribed"] == []
    assert summary(await consents(stack, external_id))[0] == ("api", "opt_in", "email", "booking")
    assert len((await consents(stack, external_id))["data"]) == 3  # one opt-in, not two


async def test_another_recipients_unsubscribe_lifted_by_an_explicit_opt_in_is_recorded(
    stack, sessions
):
    """Two recipients share an address: one's unsubscribe suppresses it for both; the other
    switching the category on explicitly lifts it, an opt-in though their own rules changed
    nothing they decide."""
    address = f"shared-{uuid.uuid4().hex[:8]}@example.com"
    first, second = await new_recipient(stack), await new_recipient(stack)
    for external_id in (first, second):
        await stack.api.patch(f"/v1/recipients/{external_id}", json={"email": address})
    first_id = await recipient_id_of(stack, sessions, first)
    await stack.api.post(
        f"/v1/unsubscribe/{token_for(stack, first_id, 'news')}", headers={"Authorization": ""}
    )
    assert (await consents(stack, second))["data"] == []  # not their act

    await stack.api.patch(
        f"/v1/recipients/{second}/preferences", json={"rules": {"news": {"email": True}}}
    )
    assert summary(await consents(stack, second)) == [("api", "opt_in", "email", "news")]


@pytest.mark.parametrize(
    "kind,source", [("spamreport", "spam_report"), ("unsubscribe", "provider_unsubscribe")]
)
async def test_a_providers_spam_report_or_unsubscribe_is_recorded(
    tracked, httpserver, kind, source
):
    who = {"external_id": f"consent-{uuid.uuid4().hex[:8]}", "email": new_address()}
    delivery = await send_email_through_sendgrid(tracked, httpserver, recipient=who)
    event = sendgrid_event(kind, delivery)

    for _ in range(2):  # SendGrid posting the same event again: recorded once
        response = await post_sendgrid(tracked, [event])
        assert response.status_code == 200, response.text

    page = await consents(tracked, who["external_id"])
    assert summary(page) == [(source, "opt_out", "email", "payment")]
    assert page["data"][0]["details"] == {
        "provider": "sendgrid",
        "event": kind,
        "delivery_id": delivery["id"],
    }


async def test_the_dashboards_recipient_page_records_the_operators_change(
    stack, owner, owner_browser
):
    external_id = await new_recipient(stack)
    saved = await post_form(
        owner_browser,
        external_id,
        "preferences",
        {"channels.sms": None, "rules-0-key": "marketing", "rules-0-email": "off"},
    )
    assert saved.status_code == 303, saved.text
    page = await consents(stack, external_id)
    assert summary(page) == [
        ("dashboard", "opt_out", "email", "marketing"),
        ("dashboard", "opt_out", "sms", None),
    ]
    assert {c["details"]["operator_id"] for c in page["data"]} == {str(owner.operator.id)}


async def test_consents_are_listed_newest_first_in_pages(stack):
    external_id = await new_recipient(stack)
    path = f"/v1/recipients/{external_id}/preferences"
    scopes = [f"topic{n}" for n in range(7)]
    for scope in scopes:  # one change each, one event each
        await stack.api.patch(path, json={"rules": {scope: {"email": False}}})

    seen: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = await consents(stack, external_id, **params)
        seen += [c["scope"] for c in page["data"]]
        cursor = page["next_cursor"]
    assert seen == scopes[::-1] and cursor is None
    times = [c["at"] for c in (await consents(stack, external_id))["data"]]
    assert times == sorted(times, reverse=True)

    bad = await stack.api.get(
        f"/v1/recipients/{external_id}/consents", params={"cursor": "not-a-cursor"}
    )
    assert_problem(bad, 422, "validation_error")
