"""Reading an in-app message, or following its link, is reported on its delivery as a provider's
webhook reports on an email: the delivery moves to `opened` / `clicked` with its time, and the
notification's workflow is told, so an "in-app, then email unless opened" fallback sends the
email only when the message was not read."""

import asyncio
import uuid
from datetime import datetime

from sqlalchemy import text
from temporalio.client import Client, Interceptor, OutboundInterceptor, SignalWorkflowInput

from domain.contracts import DeliveryEvent
from domain.types import DeliveryStatus
from services.tracking import SIGNALS_AT_ONCE, WorkflowNews, tell_workflows
from tests.e2e.inbox_messages import Inbox, inbox_events, last_event, new_inbox, send_in_app
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)

WAITS = "inbox.waits"  # read within the window (10 minutes): the workflow learns of it
SHORT = "inbox.short"  # nobody reads it within the window (3 seconds): the email goes
UNHEARD = "inbox.unheard"  # read within the window (9 seconds), the workflow never told


async def in_app_unless(stack, unless: str) -> None:
    """The tenant's fallbacks: in-app first, then email unless the message reached `unless`."""
    rule = {"from_channel": "in_app", "to_channel": "email", "unless": unless}
    response = await stack.api.put(
        "/v1/settings/delivery-policy",
        json={
            "fallbacks": {
                WAITS: rule | {"within_minutes": 10},
                SHORT: rule | {"within_minutes": 0.05},
                UNHEARD: rule | {"within_minutes": 0.15},
            }
        },
    )
    assert response.status_code == 200, response.text


async def send_waiting(stack, inbox: Inbox, event_key: str, action_url: str = "/go") -> dict:
    """Sends an in-app notification with a fallback; returns it once its message is stored
    (the workflow then waits for the message's news)."""
    accepted = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": inbox.external_id},
            "event_key": event_key,
            "channels": ["in_app"],
            "context": {"title": "Your invoice", "message": "is ready", "action_url": action_url},
        },
    )
    assert accepted.status_code == 202, accepted.text
    for _ in range(200):
        notification = await stack.notification(accepted.json()["id"])
        if [d["status"] for d in notification["deliveries"]] == ["delivered"]:
            return notification
        await asyncio.sleep(0.1)
    raise AssertionError(f"the in-app message was not stored: {notification}")


async def result_of(stack, notification: dict) -> dict:
    handle = stack.client.get_workflow_handle(notification["workflow_id"])
    return await asyncio.wait_for(handle.result(), 20)


async def test_reading_opens_the_delivery_and_the_email_is_not_sent(stack, sessions, smtp):
    await in_app_unless(stack, "opened")
    ann = await new_inbox(stack)
    first, second = await asyncio.gather(
        send_waiting(stack, ann, WAITS), send_waiting(stack, ann, WAITS)
    )
    before = await last_event(sessions, ann.recipient_id)

    read = await ann.client.post("/v1/inbox/read", json={"filter": {}})
    assert read.status_code == 200 and read.json()["updated"] == 2, read.text

    for notification in (first, second):
        result = await result_of(stack, notification)  # told at once, not after 10 minutes
        assert [(c["channel"], c["status"]) for c in result["channels"]] == [("in_app", "opened")]
        [delivery] = (await stack.notification(notification["id"]))["deliveries"]
        assert delivery["status"] == "opened" and delivery["opened_at"] is not None
    [event] = await inbox_events(sessions, ann.recipient_id, before)
    assert event.data["change"] == "read" and len(event.data["ids"]) == 2
    assert smtp.to(f"{ann.external_id}@example.com") == []

    # Only the first read dates the opening.
    [delivery] = (await stack.notification(first["id"]))["deliveries"]
    for action in ("unread", "read"):
        again = await ann.client.post(f"/v1/inbox/{action}", json={"ids": [delivery["id"]]})
        assert again.json()["updated"] == 1
    [after] = (await stack.notification(first["id"]))["deliveries"]
    assert (after["status"], after["opened_at"]) == ("opened", delivery["opened_at"])


async def test_an_unread_message_falls_back_to_email(stack, smtp):
    await in_app_unless(stack, "opened")
    ann = await new_inbox(stack)
    notification = await send_waiting(stack, ann, SHORT)

    result = await result_of(stack, notification)
    assert {c["channel"]: c["status"] for c in result["channels"]} == {
        "in_app": "delivered",
        "email": "sent",
    }
    assert len(await smtp.wait_for(f"{ann.external_id}@example.com")) == 1
    in_app = (await ann.client.get("/v1/inbox")).json()["data"]
    assert [m["read_at"] for m in in_app] == [None]


async def test_a_read_whose_signal_was_lost_still_stops_the_email(
    stack,
    smtp,
    unreachable_temporal,  # noqa: F811  (the fixture imported above)
):
    """The database is the truth, the signal the fast path: a message read while Temporal
    cannot be reached is recorded `opened`, and when the window ends the workflow reads that
    and sends no email; the unread one still falls back."""
    await in_app_unless(stack, "opened")
    ann, bob = await new_inbox(stack), await new_inbox(stack)
    read, unread = await asyncio.gather(
        send_waiting(stack, ann, UNHEARD), send_waiting(stack, bob, UNHEARD)
    )
    stack.app.state.temporal = unreachable_temporal  # the API's signals go nowhere

    answer = await ann.client.post("/v1/inbox/read", json={"filter": {}})

    assert answer.status_code == 200 and answer.json()["updated"] == 1, answer.text
    [delivery] = (await stack.notification(read["id"]))["deliveries"]
    assert delivery["status"] == "opened"
    told = await stack.client.get_workflow_handle(read["workflow_id"]).query("status")
    assert [c["status"] for c in told["channels"]] == ["delivered"]  # the workflow never heard
    read_result, unread_result = await asyncio.gather(
        result_of(stack, read), result_of(stack, unread)
    )
    assert [(c["channel"], c["status"]) for c in read_result["channels"]] == [("in_app", "opened")]
    assert {c["channel"]: c["status"] for c in unread_result["channels"]} == {
        "in_app": "delivered",
        "email": "sent",
    }
    assert len(await smtp.wait_for(f"{bob.external_id}@example.com")) == 1
    assert smtp.to(f"{ann.external_id}@example.com") == []


async def test_a_click_reads_the_message_moves_it_to_clicked_and_gives_the_link(
    stack, sessions, smtp
):
    await in_app_unless(stack, "clicked")
    ann, bob = await new_inbox(stack), await new_inbox(stack)
    notification = await send_waiting(stack, ann, WAITS, action_url="https://example.com/inv/7")
    [delivery] = notification["deliveries"]

    theirs = await bob.client.post(f"/v1/inbox/messages/{delivery['id']}/click")
    assert theirs.status_code == 404, theirs.text  # another recipient's message: not found
    before = await last_event(sessions, ann.recipient_id)

    click = await ann.client.post(f"/v1/inbox/messages/{delivery['id']}/click")
    assert click.status_code == 200, click.text
    assert click.json() == {"action_url": "https://example.com/inv/7"}
    result = await result_of(stack, notification)
    assert [(c["channel"], c["status"]) for c in result["channels"]] == [("in_app", "clicked")]
    [clicked] = (await stack.notification(notification["id"]))["deliveries"]
    assert clicked["status"] == "clicked" and clicked["clicked_at"] and clicked["opened_at"]
    assert datetime.fromisoformat(clicked["opened_at"]) <= datetime.fromisoformat(
        clicked["clicked_at"]
    )
    [message] = (await ann.client.get("/v1/inbox")).json()["data"]
    assert message["read_at"] is not None
    [event] = await inbox_events(sessions, ann.recipient_id, before)
    assert (event.data["change"], event.data["ids"]) == ("read", [delivery["id"]])

    # A second click reads nothing new (no event) and gives the link again.
    again = await ann.client.post(f"/v1/inbox/messages/{delivery['id']}/click")
    assert again.json() == {"action_url": "https://example.com/inv/7"}
    assert await last_event(sessions, ann.recipient_id) == event.seq
    assert smtp.to(f"{ann.external_id}@example.com") == []


# What a first read does to an in-app delivery in each status (domain/delivery_status.py): a
# delivery on its way moves to opened; a clicked one stays clicked, its opening dated; one that
# failed or was never sent is left alone.
FIRST_READ = {
    "pending": ("opened", True),
    "deferred": ("opened", True),
    "sent": ("opened", True),
    "delivered": ("opened", True),
    "opened": ("opened", True),
    "clicked": ("clicked", True),
    "failed": ("failed", False),
    "bounced": ("bounced", False),
    "cancelled": ("cancelled", False),
    "suppressed": ("suppressed", False),
    "digested": ("digested", False),
}


async def test_one_bulk_read_applies_the_status_rule_to_each_delivery(stack, sessions):
    ann = await new_inbox(stack)
    ids = await asyncio.gather(*(send_in_app(stack, ann.external_id) for _ in FIRST_READ))
    status_of = dict(zip(ids, FIRST_READ, strict=True))
    async with sessions.begin() as session:
        for delivery_id, status in status_of.items():
            await session.execute(
                text("UPDATE deliveries SET status = :status, opened_at = NULL WHERE id = :id"),
                {"status": status, "id": uuid.UUID(delivery_id)},
            )

    read = await ann.client.post("/v1/inbox/read", json={"ids": ids})
    assert read.status_code == 200 and read.json()["updated"] == len(ids), read.text

    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT id, status, opened_at, provider_response FROM deliveries "
                "WHERE id = ANY(:ids)"
            ),
            {"ids": [uuid.UUID(i) for i in ids]},
        )
        after = {str(row.id): row for row in rows}
    for delivery_id, before in status_of.items():
        status, dated = FIRST_READ[before]
        row = after[delivery_id]
        assert (row.status, row.opened_at is not None) == (status, dated), before
        assert (row.provider_response == {"inbox": "read"}) == dated, before


class CountingSignals(Interceptor):
    """Counts the client's signals, and the most in flight at once (a real client to a real
    server; the count is all it adds)."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.in_flight = self.most_in_flight = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        counter = self

        class Counting(OutboundInterceptor):
            async def signal_workflow(self, input: SignalWorkflowInput) -> None:
                counter.sent.append(input.id)
                counter.in_flight += 1
                counter.most_in_flight = max(counter.most_in_flight, counter.in_flight)
                try:
                    await asyncio.sleep(0.01)  # long enough for the others to start, if allowed
                    await super().signal_workflow(input)
                finally:
                    counter.in_flight -= 1

        return Counting(next)


def counting(client: Client) -> tuple[Client, CountingSignals]:
    signals = CountingSignals()
    config = client.config()
    config["interceptors"] = [signals]
    return Client(**config), signals


async def test_only_a_notification_still_waiting_is_told_of_its_read(stack, sessions, smtp):
    await in_app_unless(stack, "opened")
    ann = await new_inbox(stack)
    waiting = await send_waiting(stack, ann, WAITS)
    finished = await send_in_app(stack, ann.external_id)  # no fallback: its workflow is done
    stack.app.state.temporal, signals = counting(stack.client)

    read = await ann.client.post("/v1/inbox/read", json={"filter": {}})

    assert read.json()["updated"] == 2, read.text
    assert signals.sent == [waiting["workflow_id"]]  # the finished one has nobody to listen
    result = await result_of(stack, waiting)
    assert [(c["channel"], c["status"]) for c in result["channels"]] == [("in_app", "opened")]
    async with sessions() as session:
        status = await session.scalar(
            text("SELECT status FROM deliveries WHERE id = :id"), {"id": uuid.UUID(finished)}
        )
    assert status == "opened"  # recorded all the same


async def test_workflows_are_told_a_bounded_number_at_a_time(stack):
    client, signals = counting(stack.client)
    news = [
        WorkflowNews(f"gone-{uuid.uuid4()}", DeliveryEvent(uuid.uuid4(), DeliveryStatus.OPENED))
        for _ in range(3 * SIGNALS_AT_ONCE)
    ]

    await tell_workflows(client, news)  # none of them exists: best effort, nothing raised

    assert sorted(signals.sent) == sorted(n.workflow_id for n in news)
    assert signals.most_in_flight == SIGNALS_AT_ONCE
