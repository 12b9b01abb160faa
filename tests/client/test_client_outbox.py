"""`notify` never breaks the caller: with Herald stopped (nothing listening on its port) it
returns at once and the request waits in the SQLite outbox; when Herald is back (the real stack
served on that port) the request is delivered exactly once, by the worker, by `drain()`, or by a
new client on the same file after the first one stopped or crashed."""

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import httpx
from herald_client import (
    AsyncHerald,
    Booking,
    DrainReport,
    Herald,
    Invitee,
    Organizer,
    OutboxPolicy,
    RecipientRef,
    events,
)

from tests.client.conftest import notifications_with_key, unique
from tests.conftest import free_port, wait_until
from tests.utils.serving import on_a_port

RECEIPT = {"subject": "Payment received", "message": "We received 42.00 EUR."}
QUICK = OutboxPolicy(initial_backoff=0.2, max_backoff=0.5)


def paid(recipient_id: str, order: str) -> dict:
    """notify's arguments for an order's payment notification to a recipient of their own."""
    return {
        "recipient": RecipientRef(external_id=recipient_id, email=f"{recipient_id}@example.com"),
        "event_key": "payment.completed",
        "context": RECEIPT,
        "channels": ["email"],
        "key_from": ("order", order, "paid"),
    }


async def delivered_once(stack, smtp, sessions, recipient_id: str, key: str) -> None:
    """One notification for the key, sent, and one mail at the recipient's address."""
    assert await notifications_with_key(sessions, stack.tenant_id, key) == 1
    address = f"{recipient_id}@example.com"
    await smtp.wait_for(address)
    await asyncio.sleep(0.5)  # a second mail, were there one, would be on its way
    assert len(smtp.to(address)) == 1


async def test_notify_returns_at_once_while_herald_is_down_and_the_worker_delivers_later(
    stack, smtp, sessions, outbox_path, caplog
):
    caplog.set_level(logging.WARNING, logger="herald_client")
    port = free_port()  # nothing listens there yet: Herald is down
    client = Herald(
        f"http://127.0.0.1:{port}", stack.api_key, outbox_path=outbox_path, outbox_policy=QUICK
    )
    recipient_id, order = unique("buyer"), unique("order")

    began = time.perf_counter()
    key = client.notify(**paid(recipient_id, order))
    took = time.perf_counter() - began
    assert key == f"order:{order}:paid"
    assert took < 0.25, f"notify took {took:.3f} s"  # no network wait (about 1 ms measured)

    await wait_until(lambda: client.counters.retried >= 2, 10, "the worker's failed tries")
    assert (client.pending(), client.counters.sent, client.counters.queued) == (1, 0, 1)
    assert "ConnectError" in caplog.text  # logged, not raised
    assert await notifications_with_key(sessions, stack.tenant_id, key) == 0

    async with on_a_port(stack.app, port):  # Herald is back on its port
        await wait_until(lambda: client.counters.sent == 1, 10, "the worker's delivery")
        assert client.pending() == 0
        await delivered_once(stack, smtp, sessions, recipient_id, key)
        assert await asyncio.to_thread(client.drain) == DrainReport()  # nothing left to send
    await asyncio.to_thread(client.close)


async def test_a_new_client_on_the_same_file_sends_what_the_stopped_one_left(
    stack, smtp, sessions, outbox_path
):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = AsyncHerald(url, stack.api_key, outbox_path=outbox_path, background=False)
    orders = [(unique("buyer"), unique("order")) for _ in range(2)]
    keys = [first.notify(**paid(recipient_id, order)) for recipient_id, order in orders]
    report = await first.drain()  # Herald is down: kept, tried again later
    assert (report.sent, report.retry, first.pending()) == (0, 1, 2)  # stops at the first
    await first.aclose()  # the process ends

    async with on_a_port(stack.app, port):
        # The next process: its worker starts with `async with` and sends what is waiting.
        async with AsyncHerald(url, stack.api_key, outbox_path=outbox_path) as second:
            await wait_until(lambda: second.counters.sent == 2, 10, "the new worker's sends")
            assert second.pending() == 0
        for (recipient_id, _), key in zip(orders, keys, strict=True):
            assert key is not None
            await delivered_once(stack, smtp, sessions, recipient_id, key)


async def test_a_crash_after_herald_accepted_resends_the_key_and_herald_replays_it(
    herald, smtp, sessions, outbox_path
):
    """The process dies between Herald's 202 and deleting the row: the row (its lease run
    out) is sent again by the next client with the same Idempotency-Key, which Herald
    answers as a replay: one notification, one mail."""
    crashing = Herald(
        herald.url,
        herald.key,
        outbox_path=outbox_path,
        outbox_policy=OutboxPolicy(lease_seconds=1),
        background=False,
    )
    recipient_id, order = unique("buyer"), unique("order")
    key = crashing.notify(**paid(recipient_id, order))
    [row] = list(crashing.outbox.claimed(due_only=True))
    answer = await asyncio.to_thread(crashing._send_once, row.call)
    assert isinstance(answer, httpx.Response)
    assert answer.status_code == 202 and answer.json()["replayed"] is False
    crashing.outbox.close()  # ...and the process is gone before settling the row

    restarted = Herald(herald.url, herald.key, outbox_path=outbox_path, background=False)
    assert restarted.pending() == 1
    assert await asyncio.to_thread(restarted.drain) == DrainReport()  # leased: not yet
    await asyncio.sleep(1.1)
    assert await asyncio.to_thread(restarted.drain) == DrainReport(sent=1)
    assert restarted.pending() == 0
    assert key is not None
    await delivered_once(herald.stack, smtp, sessions, recipient_id, key)
    restarted.close()


async def test_a_refusal_that_cannot_succeed_is_dead_lettered_and_a_not_yet_is_retried(
    herald, outbox_path, caplog
):
    caplog.set_level(logging.ERROR, logger="herald_client")
    async with AsyncHerald(
        herald.url, herald.key, outbox_path=outbox_path, background=False
    ) as client:
        bad = client.notify(RecipientRef(email="not-an-email"), "payment.completed")
        assert bad is not None
        assert await client.drain() == DrainReport(dead=1)
        [dead] = client.dead_letters()
        assert dead.replay_key == bad and (dead.last_error or "").startswith("422 validation_error")
        assert "dead-lettered" in caplog.text and client.counters.dead == 1
        assert await client.drain() == DrainReport()  # never sent again

        # A booking event before its booking.created: 409 booking_unknown says "not yet".
        start = datetime.now(UTC) + timedelta(days=3)
        booking = Booking(
            booking_id=unique("bk"),
            organizer=Organizer(id=unique("org"), email="org@example.com"),
            invitee=Invitee(email="invitee@example.com"),
            start=start,
            end=start + timedelta(hours=1),
        )
        moved = booking.model_copy(
            update={"start": start + timedelta(hours=2), "end": start + timedelta(hours=3)}
        )
        client.notify_event(events.booking_rescheduled(moved, occurred_at=datetime.now(UTC)))
        assert await client.drain() == DrainReport(retry=1)
        assert client.pending() == 1
        await client.send_event(
            events.booking_created(booking, occurred_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        assert await client.drain() == DrainReport(sent=1)
        assert client.counters.dead == 1  # still only the first


async def test_notify_never_raises_even_when_it_cannot_keep_the_request(outbox_path, caplog):
    client = Herald(
        f"http://127.0.0.1:{free_port()}", "k", outbox_path=outbox_path, background=False
    )
    # The caller's own mistake: logged with its traceback and counted, the checkout goes on.
    assert client.notify("user-1", "payment.completed", priority="extreme") is None  # type: ignore[arg-type]
    client.outbox.close()  # the outbox file cannot be written any more
    assert client.notify("user-1", "payment.completed") is None
    assert client.counters.errors == 2 and client.counters.queued == 0
    assert "priority" in caplog.text and "could not keep POST /v1/notifications" in caplog.text


async def test_aclose_stops_the_outbox_task_even_when_a_notify_wakes_it_at_the_same_moment(
    outbox_path,
):
    client = AsyncHerald(f"http://127.0.0.1:{free_port()}", "k", outbox_path=outbox_path)
    client.notify(**paid(unique("buyer"), unique("order")))  # Herald is down: the task waits
    # Recorded as retried, the task goes straight to its wait (at least 0.25 s of backoff).
    await wait_until(lambda: client.counters.retried == 1)

    client._wake_up.set()  # as another notify would, in the same turn as the close's cancel
    closing = asyncio.create_task(client.aclose())
    done, _ = await asyncio.wait({closing}, timeout=5)

    worker = client._worker
    assert worker is not None
    if not done:  # keep the failure from leaving the task running
        worker.cancel()
        await asyncio.wait({closing}, timeout=1)
    assert done, "aclose() waited on an outbox task that outlived its cancel"
    assert worker.cancelled()
