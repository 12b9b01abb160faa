"""Status webhooks through the real stack: a status change writes an outbox event in its own
transaction (migration 0023's triggers), the dispatcher turns it into one message per subscribed
endpoint and starts its workflow, which POSTs it to a local receiver signed per Standard
Webhooks, on a short schedule (STATUS_WEBHOOK_SCHEDULE_SECONDS), until a 2xx; an endpoint that
keeps failing is disabled with an alert; a message is replayed with its webhook-id; a crash
between the outbox and the workflows loses nothing and sends nothing twice."""

import asyncio
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from werkzeug import Request, Response

from db.booking_models import FailureAlert
from db.integration_models import WebhookMessage
from db.listener import LISTENING, notifications
from db.status_webhooks import OUTBOX_CHANNEL
from domain import standard_webhooks
from domain.status_webhooks import SUBJECT_EVENTS, Subject, workflow_id
from services.status_webhook_dispatcher import StatusWebhookDispatcher
from tests.conftest import wait_until
from tests.e2e.bookings_factory import eventually, new_address
from tests.e2e.test_delivery_policy import quiet_window_around_now, recipient, send
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401 - a fixture

ENDPOINTS = "/v1/webhook-endpoints"
PUBLIC_URL = "https://93.184.215.14/never-called"  # literal and public: nothing listens


@pytest.fixture
async def hooks(make_stack, temporal_env):
    """A stack whose endpoints may be local, attempted at once, after 1 s and after 1 s more;
    an endpoint is disabled when a message of it fails for good (no grace)."""
    async with make_stack(
        temporal_env,
        webhook_allow_private_addresses=True,
        status_webhook_schedule_seconds="0,1,1",
        status_webhook_disable_after_hours=0,
        status_webhook_timeout_seconds=2,
    ) as stack:
        yield stack


class Receiver:
    """The local HTTP server as a tenant's receiver: answers each path's scripted statuses in
    turn (200 once the script is spent) and keeps every request."""

    def __init__(self, httpserver):
        self._server = httpserver
        self.scripts: dict[str, list[int]] = {}
        self.received: dict[str, list[Request]] = {}
        httpserver.expect_request(re.compile("/hooks/.*"), method="POST").respond_with_handler(
            self._answer
        )

    def url(self, path: str, *answers: int) -> str:
        self.scripts[path] = list(answers)
        return self._server.url_for(f"/hooks/{path}")

    def _answer(self, request: Request) -> Response:
        path = request.path.removeprefix("/hooks/")
        self.received.setdefault(path, []).append(request)
        script = self.scripts.get(path, [])
        status = script.pop(0) if script else 200
        return Response(f"answered {status}", status=status)

    def at(self, path: str) -> list[Request]:
        return list(self.received.get(path, []))

    async def wait_for(self, path: str, count: int, timeout: float = 20.0) -> list[Request]:
        await wait_until(lambda: len(self.at(path)) >= count, timeout, f"{count} POSTs to {path}")
        return self.at(path)


@pytest.fixture
def receiver(httpserver) -> Receiver:
    return Receiver(httpserver)


async def endpoint(stack, url: str, *event_types: str, **extra) -> dict:
    created = await stack.api.post(
        ENDPOINTS, json={"url": url, "event_types": list(event_types), **extra}
    )
    assert created.status_code == 201, created.text
    return created.json()


def verified(request: Request, secret: str) -> dict:
    """The request's JSON, once its signature is checked as a receiver checks it."""
    body = request.get_data()
    standard_webhooks.verify([secret], dict(request.headers), body, int(time.time()))
    return json.loads(body)


async def messages(stack, endpoint_id: str) -> list[dict]:
    listed = await stack.api.get(f"{ENDPOINTS}/{endpoint_id}/messages")
    assert listed.status_code == 200, listed.text
    return listed.json()["data"]


async def message(stack, endpoint_id: str, message_id: str) -> dict:
    read = await stack.api.get(f"{ENDPOINTS}/{endpoint_id}/messages/{message_id}")
    assert read.status_code == 200, read.text
    return read.json()


async def settled(stack, endpoint_id: str, message_id: str, *statuses: str) -> dict:
    return await eventually(
        lambda: message(stack, endpoint_id, message_id),
        lambda found: found["status"] in statuses,
        what=f"message {message_id} {statuses}",
    )


async def sent_notification(stack) -> dict:
    """A notification sent by email; `external_id` added: its recipient's."""
    request = email_request(new_address())
    accepted = await stack.api.post("/v1/notifications", json=request)
    assert accepted.status_code == 202, accepted.text
    sent = await stack.wait_for_status(accepted.json()["id"], "sent")
    return sent | {"external_id": request["recipient"]["external_id"]}


async def test_a_sent_delivery_is_posted_signed_to_each_endpoint_subscribed_to_it(
    hooks, receiver, smtp
):
    to_sent = await endpoint(hooks, receiver.url("sent"), "delivery.sent")
    to_failures = await endpoint(hooks, receiver.url("failures"), "delivery.failed")
    to_all = await endpoint(hooks, receiver.url("all"))  # no event types: every one

    notification = await sent_notification(hooks)
    [delivery] = notification["deliveries"]

    [request] = await receiver.wait_for("sent", 1)
    payload = verified(request, to_sent["secret"])
    assert payload["type"] == "delivery.sent"
    assert abs(datetime.fromisoformat(payload["timestamp"]) - datetime.now(UTC)) < timedelta(
        seconds=30
    )
    data = payload["data"]
    assert data["delivery_id"] == delivery["id"]
    assert data["notification_id"] == notification["id"]
    assert (data["status"], data["channel"], data["provider"]) == ("sent", "email", "smtp")
    assert data["event_key"] == "payment.completed"
    assert data["recipient"]["external_id"] == notification["external_id"]
    assert data["sent_at"] and data["updated_at"]
    assert request.headers["User-Agent"] == "Herald"
    [listed] = await messages(hooks, to_sent["id"])
    assert request.headers["webhook-id"] == listed["id"]
    read = await settled(hooks, to_sent["id"], listed["id"], "delivered")
    assert read["attempt_count"] == 1 and read["payload"] == payload
    [attempt] = read["attempts"]
    assert (attempt["status_code"], attempt["response_body"]) == (200, "answered 200")

    [everything] = await receiver.wait_for("all", 1)
    assert verified(everything, to_all["secret"])["type"] == "delivery.sent"
    assert everything.headers["webhook-id"] != request.headers["webhook-id"]  # its own message
    # The endpoint of failures only was never sent a message (written with the others).
    assert receiver.at("failures") == []
    assert await messages(hooks, to_failures["id"]) == []


async def test_a_failed_attempt_is_retried_with_the_same_webhook_id_and_the_current_status(
    hooks, receiver, smtp, sessions
):
    hook = await endpoint(hooks, receiver.url("flaky", 500), "delivery.sent")

    notification = await sent_notification(hooks)
    [delivery] = notification["deliveries"]
    [first] = await receiver.wait_for("flaky", 1)
    # Before the retry, the provider reports the message delivered.
    async with sessions.begin() as session:
        await session.execute(
            text("UPDATE deliveries SET status = 'delivered', delivered_at = now() WHERE id = :id"),
            {"id": delivery["id"]},
        )

    first, second = await receiver.wait_for("flaky", 2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    before, after = verified(first, hook["secret"]), verified(second, hook["secret"])
    assert before["type"] == after["type"] == "delivery.sent"  # the event it reports...
    assert (before["data"]["status"], after["data"]["status"]) == ("sent", "delivered")  # ...now
    assert after["data"]["delivered_at"] is not None
    assert after["timestamp"] > before["timestamp"]

    read = await settled(hooks, hook["id"], first.headers["webhook-id"], "delivered")
    assert read["attempt_count"] == 2
    assert [(a["status_code"], a["response_body"]) for a in read["attempts"]] == [
        (500, "answered 500"),
        (200, "answered 200"),
    ]
    assert read["payload"] == after  # what was sent last
    # The endpoint failed once, then answered: it is not failing any more.
    refreshed = (await hooks.api.get(f"{ENDPOINTS}/{hook['id']}")).json()
    assert refreshed["failing_since"] is None and refreshed["enabled"] is True


async def test_an_endpoint_failing_every_attempt_is_disabled_with_an_alert_and_a_replay_delivers(
    hooks, receiver, smtp, sessions
):
    hook = await endpoint(hooks, receiver.url("down", 503, 503, 503), "delivery.sent")
    await sent_notification(hooks)

    requests = await receiver.wait_for("down", 3)
    message_id = requests[0].headers["webhook-id"]
    assert {r.headers["webhook-id"] for r in requests} == {message_id}
    failed = await settled(hooks, hook["id"], message_id, "failed")
    assert [a["status_code"] for a in failed["attempts"]] == [503, 503, 503]
    assert failed["attempt_count"] == 3 and failed["next_attempt_at"] is None

    disabled = await eventually(
        lambda: _endpoint(hooks, hook["id"]), lambda found: not found["enabled"]
    )
    assert disabled["disabled_reason"].startswith("disabled by Herald: nothing delivered since")
    async with sessions() as session:
        [alert] = (
            await session.scalars(select(FailureAlert).where(FailureAlert.subject == hook["id"]))
        ).all()
    assert (alert.scope, alert.tenant_id, alert.failed) == ("webhook", hooks.tenant_id, 1)
    listed = (await hooks.api.get("/v1/alerts")).json()["data"]
    assert str(alert.id) in {a["id"] for a in listed}
    await asyncio.sleep(2.5)  # what a fourth attempt would have taken: none came
    assert len(receiver.at("down")) == 3

    replay = f"{ENDPOINTS}/{hook['id']}/messages/{message_id}/replay"
    refused = await hooks.api.post(replay)
    assert refused.status_code == 409, refused.text
    assert "disabled" in refused.json()["detail"]

    enabled = await hooks.api.patch(f"{ENDPOINTS}/{hook['id']}", json={"enabled": True})
    assert enabled.status_code == 200, enabled.text
    receiver.scripts["down"] = [503]  # the replay's first attempt fails, its second delivers
    replayed = await hooks.api.post(replay)
    assert replayed.status_code == 202, replayed.text
    assert replayed.json() == {
        "message_id": message_id,
        "endpoint_id": hook["id"],
        "status": "pending",
        "replay": 1,
    }
    again = await hooks.api.post(replay)  # while it is pending
    assert again.status_code == 409, again.text

    fourth, fifth = (await receiver.wait_for("down", 5))[3:]
    assert fourth.headers["webhook-id"] == fifth.headers["webhook-id"] == message_id
    verified(fifth, hook["secret"])
    delivered = await settled(hooks, hook["id"], message_id, "delivered")
    assert [a["status_code"] for a in delivered["attempts"]] == [503, 503, 503, 503, 200]
    assert delivered["attempt_count"] == 5
    handle = hooks.client.get_workflow_handle(workflow_id(uuid.UUID(message_id), 1))
    assert await handle.result() == "delivered"


async def test_a_replay_while_temporal_is_unreachable_is_accepted_and_started_by_the_sweep(
    hooks,
    receiver,
    smtp,
    sessions,
    unreachable_temporal,  # noqa: F811
):
    hook = await endpoint(hooks, receiver.url("later"), "delivery.sent")
    await sent_notification(hooks)
    [request] = await receiver.wait_for("later", 1)
    message_id = request.headers["webhook-id"]
    await settled(hooks, hook["id"], message_id, "delivered")

    hooks.app.state.temporal = unreachable_temporal
    replayed = await hooks.api.post(f"{ENDPOINTS}/{hook['id']}/messages/{message_id}/replay")
    hooks.app.state.temporal = hooks.client
    assert replayed.status_code == 202, replayed.text
    assert (await message(hooks, hook["id"], message_id))["status"] == "pending"

    # Its first attempt is overdue by more than a minute: the sweep starts its workflow.
    await _overdue(sessions, message_id)
    dispatcher = StatusWebhookDispatcher(sessions, hooks.client, hooks.settings)
    assert await dispatcher.sweep() >= 1
    [_, again] = await receiver.wait_for("later", 2)
    assert again.headers["webhook-id"] == message_id
    await settled(hooks, hook["id"], message_id, "delivered")


async def test_events_lost_between_the_outbox_and_their_workflows_are_sent_once(
    hooks, receiver, smtp, sessions
):
    """A crash after the messages were committed but before their workflows started: the sweep
    starts them. An outbox event nobody was told of (its NOTIFY lost): the poll finds it."""
    hook = await endpoint(hooks, receiver.url("crash"), "delivery.sent")
    notification = await sent_notification(hooks)
    [request] = await receiver.wait_for("crash", 1)
    delivered_id = request.headers["webhook-id"]

    # As the dispatcher leaves them when it dies between its commit and the starts.
    stranded = uuid.uuid4()
    async with sessions.begin() as session:
        session.add(
            WebhookMessage(
                id=stranded,
                tenant_id=hooks.tenant_id,
                endpoint_id=uuid.UUID(hook["id"]),
                event_type="delivery.sent",
                subject_id=uuid.UUID(notification["deliveries"][0]["id"]),
                payload={},
                status="pending",
                next_attempt_at=datetime.now(UTC) - timedelta(minutes=2),
                workflow_id=workflow_id(stranded),
            )
        )
    dispatcher = StatusWebhookDispatcher(sessions, hooks.client, hooks.settings)
    await dispatcher.sweep()
    await dispatcher.sweep()  # twice, as two workers might: still one workflow
    await settled(hooks, hook["id"], str(stranded), "delivered")

    # An event in the outbox whose notification never came: written without its trigger.
    async with sessions.begin() as session:
        await session.execute(
            text(
                "INSERT INTO webhook_outbox (tenant_id, event_type, subject_id)"
                " VALUES (:tenant, 'delivery.sent', :subject)"
            ),
            {"tenant": hooks.tenant_id, "subject": notification["deliveries"][0]["id"]},
        )
    await receiver.wait_for("crash", 3, timeout=15)  # the poll, within 5 s

    await asyncio.sleep(2)
    await dispatcher.sweep()
    ids = [r.headers["webhook-id"] for r in receiver.at("crash")]
    assert len(ids) == 3 and len(set(ids)) == 3  # each message once
    assert ids[:2] == [delivered_id, str(stranded)]
    assert len(await messages(hooks, hook["id"])) == 3


async def test_a_deferred_notification_and_a_completed_broadcast_are_told_too(
    hooks, receiver, smtp
):
    hook = await endpoint(
        hooks, receiver.url("lifecycle"), "notification.deferred", "broadcast.completed"
    )
    start, end, ends_at = quiet_window_around_now()
    quiet, _ = await recipient(hooks, dnd={"enabled": True, "start": start, "end": end})
    deferred = await send(hooks, quiet)
    await hooks.wait_for_status(deferred["id"], "deferred")

    [told] = await receiver.wait_for("lifecycle", 1)
    payload = verified(told, hook["secret"])
    assert payload["type"] == "notification.deferred"
    data = payload["data"]
    assert (data["notification_id"], data["status"]) == (deferred["id"], "deferred")
    assert datetime.fromisoformat(data["deferred_until"]) == ends_at
    assert data["recipient"]["external_id"] == quiet

    awake, _ = await recipient(hooks)
    broadcast = await hooks.api.post(
        "/v1/broadcasts",
        json={
            "audience": {"recipients": [awake]},
            "event_key": "news.spring",
            "channels": ["email"],
            "context": {"subject": "Spring", "message": "News"},
        },
    )
    assert broadcast.status_code == 202, broadcast.text
    [_, completed] = await receiver.wait_for("lifecycle", 2, timeout=60)
    payload = verified(completed, hook["secret"])
    assert payload["type"] == "broadcast.completed"
    data = payload["data"]
    assert (data["broadcast_id"], data["status"]) == (broadcast.json()["id"], "completed")
    assert (data["planned"], data["sent"], data["failed"]) == (1, 1, 0)
    assert data["finished_at"] == data["updated_at"]


async def test_the_triggers_write_an_event_only_for_a_subscribed_status_change(
    hooks, receiver, smtp, sessions
):
    """Checked inside a transaction that is rolled back (the dispatcher never sees it); then a
    committed change wakes the dispatcher's LISTEN at once."""
    await endpoint(hooks, receiver.url("triggers"), "delivery.delivered", "notification.deferred")
    await endpoint(hooks, PUBLIC_URL, enabled=False)  # every type, but disabled: counts not
    notification = await sent_notification(hooks)
    [delivery] = notification["deliveries"]
    ids = {"delivery": delivery["id"], "notification": notification["id"]}

    async with sessions() as session:

        async def change(table: str, status: str, subject: str) -> list[tuple[str, str]]:
            await session.execute(
                text(f"UPDATE {table} SET status = :status WHERE id = :id"),
                {"status": status, "id": ids[subject]},
            )
            rows = await session.execute(
                text(
                    "SELECT event_type, subject_id::text FROM webhook_outbox"
                    " WHERE tenant_id = :tenant ORDER BY id"
                ),
                {"tenant": hooks.tenant_id},
            )
            return [tuple(row) for row in rows]

        assert await change("deliveries", "opened", "delivery") == []  # not subscribed
        delivered = ("delivery.delivered", delivery["id"])
        assert await change("deliveries", "delivered", "delivery") == [delivered]
        assert await change("deliveries", "delivered", "delivery") == [delivered]  # no change
        deferred = ("notification.deferred", notification["id"])
        assert await change("notifications", "deferred", "notification") == [delivered, deferred]
        assert await change("notifications", "sent", "notification") == [delivered, deferred]
        await session.rollback()

    # Each trigger's statuses are the domain's (SUBJECT_EVENTS).
    tables = {"deliveries": "delivery", "notifications": "notification", "broadcasts": "broadcast"}
    async with sessions() as session:
        definitions = await session.execute(
            text(
                "SELECT c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
                " JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE '%webhook_%'"
                " AND NOT t.tgisinternal"
            )
        )
        found: dict[str, list[set[str]]] = {}
        for table, definition in definitions:
            # The WHEN clause's literals, as PostgreSQL prints them ('sent'::character varying).
            statuses = set(re.findall(r"'(\w+)'::", definition))
            assert f"webhook_outbox_event('{tables[table]}')" in definition
            found.setdefault(tables[table], []).append(statuses)
    assert {Subject(s): all_ for s, all_ in found.items()} == {
        subject: [statuses] * (1 if subject == Subject.BROADCAST else 2)
        for subject, statuses in SUBJECT_EVENTS.items()
    }

    # A committed change is announced on the dispatcher's channel, and sent.
    async with asyncio.timeout(10):
        listening = notifications(hooks.settings.database_url, OUTBOX_CHANNEL, "test")
        assert await anext(listening) is LISTENING
        async with sessions.begin() as session:
            await session.execute(
                text("UPDATE deliveries SET status = 'delivered' WHERE id = :id"),
                {"id": delivery["id"]},
            )
        assert await anext(listening) == ""
        await listening.aclose()
    [request] = await receiver.wait_for("triggers", 1)
    assert json.loads(request.get_data())["type"] == "delivery.delivered"


async def _endpoint(stack, endpoint_id: str) -> dict:
    read = await stack.api.get(f"{ENDPOINTS}/{endpoint_id}")
    assert read.status_code == 200, read.text
    return read.json()


async def _overdue(sessions, message_id: str) -> None:
    async with sessions.begin() as session:
        await session.execute(
            text(
                "UPDATE webhook_messages SET next_attempt_at = now() - interval '2 minutes'"
                " WHERE id = :id"
            ),
            {"id": message_id},
        )
