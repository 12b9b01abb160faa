"""Snoozing an inbox message end to end, with a real wait: the message leaves the feed and the
counts at once, and returns at its time with `message.returned`, through a wake-up workflow
that waits on the Temporal server (not in a worker's memory: it survives a worker restart)."""

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus

from db.inbox_events import StoredInboxEvent
from temporal_clients.inbox_snooze import snooze_workflow_id
from tests.e2e.inbox_messages import inbox_events, new_inbox, send_in_app, set_message

# Short snoozes for the tests that wait for a real return: the minimum is a setting.
QUICK = {"inbox_min_snooze_seconds": 1}


@pytest.fixture
async def quick_stack(make_stack, temporal_env):
    async with make_stack(temporal_env, **QUICK) as stack:
        yield stack


def ahead(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def sleep_past(until: str, margin: float = 1.0) -> None:
    left = (datetime.fromisoformat(until) - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(left, 0) + margin)


async def snooze(inbox, message_id: str, until: str) -> dict:
    response = await inbox.client.post(
        f"/v1/inbox/messages/{message_id}/snooze", json={"until": until}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def feed_ids(inbox, **params) -> set[str]:
    response = await inbox.client.get("/v1/inbox", params=params)
    assert response.status_code == 200, response.text
    return {m["id"] for m in response.json()["data"]}


async def counts(inbox) -> dict:
    return (await inbox.client.get("/v1/inbox/counts")).json()


async def events_of(sessions, inbox, kind: str, message_id: str) -> list[StoredInboxEvent]:
    """The recipient's events of this kind about this message."""
    return [
        event
        for event in await inbox_events(sessions, inbox.recipient_id)
        if event.kind == kind
        and message_id in (event.data.get("ids") or [event.data.get("message", {}).get("id")])
    ]


async def changes(sessions, inbox, message_id: str) -> list[str]:
    """The `messages.updated` changes recorded about this message, in order."""
    events = await events_of(sessions, inbox, "messages.updated", message_id)
    return [event.data["change"] for event in events]


async def returned(sessions, inbox, message_id: str, timeout: float = 20.0) -> StoredInboxEvent:
    """Waits for the message's `message.returned` event."""
    deadline = time.monotonic() + timeout
    while not (found := await events_of(sessions, inbox, "message.returned", message_id)):
        assert time.monotonic() < deadline, f"{message_id} did not return in {timeout}s"
        await asyncio.sleep(0.1)
    [event] = found
    return event


async def wake_up_status(stack, message_id: str) -> WorkflowExecutionStatus | None:
    handle = stack.client.get_workflow_handle(snooze_workflow_id(uuid.UUID(message_id)))
    return (await handle.describe()).status


async def test_a_snoozed_message_leaves_the_feed_at_once_and_returns_at_its_time(
    quick_stack, sessions
):
    stack = quick_stack
    ann = await new_inbox(stack)
    snoozed, kept = [await send_in_app(stack, ann.external_id, t) for t in ("later", "now")]
    assert (await counts(ann))["total"] == 2

    # Long enough for the checks below to run before it returns, on a busy machine too.
    answer = await snooze(ann, snoozed, until := ahead(5))

    assert answer["message"]["id"] == snoozed
    assert datetime.fromisoformat(answer["message"]["snoozed_until"]) == datetime.fromisoformat(
        until
    )
    assert answer["counts"] == await counts(ann) == {"total": 1, "unread": 1, "unseen": 1}
    assert await feed_ids(ann) == {kept}
    assert await feed_ids(ann, snoozed="true") == {snoozed}
    [event] = await events_of(sessions, ann, "messages.updated", snoozed)
    assert (event.data["change"], event.data["counts"]["total"]) == ("snoozed", 1)
    # The wait is a timer on the Temporal server.
    assert await wake_up_status(stack, snoozed) == WorkflowExecutionStatus.RUNNING

    back = await returned(sessions, ann, snoozed)

    assert back.created_at >= datetime.fromisoformat(until)  # at its time, not before
    assert back.data["message"]["id"] == snoozed and back.data["message"]["snoozed_until"] is None
    assert back.data["counts"]["total"] == 2
    assert await feed_ids(ann) == {snoozed, kept}
    assert await counts(ann) == {"total": 2, "unread": 2, "unseen": 2}
    handle = stack.client.get_workflow_handle(snooze_workflow_id(uuid.UUID(snoozed)))
    assert await handle.result() is True


async def test_snoozing_again_moves_the_return_and_an_unsnooze_brings_it_back_now(
    quick_stack, sessions
):
    stack = quick_stack
    ann = await new_inbox(stack)
    moved, unsnoozed = [await send_in_app(stack, ann.external_id, t) for t in ("moved", "back")]
    first = stack.client.get_workflow_handle(snooze_workflow_id(uuid.UUID(moved)))

    await snooze(ann, moved, ahead(3600))
    first_run = (await first.describe()).run_id
    await snooze(ann, moved, ahead(3))  # sooner: the hour's wait is replaced
    await snooze(ann, unsnoozed, old_time := ahead(5))
    answer = await ann.client.post(f"/v1/inbox/messages/{unsnoozed}/unsnooze")

    assert answer.status_code == 200, answer.text
    assert answer.json()["message"]["snoozed_until"] is None
    assert unsnoozed in await feed_ids(ann)  # at once
    assert await changes(sessions, ann, unsnoozed) == ["snoozed", "unsnoozed"]
    assert await wake_up_status(stack, unsnoozed) == WorkflowExecutionStatus.TERMINATED

    await returned(sessions, ann, moved)  # after 3 s, not an hour
    await sleep_past(old_time)
    assert await events_of(sessions, ann, "message.returned", unsnoozed) == []
    replaced = stack.client.get_workflow_handle(first.id, run_id=first_run)
    assert (await replaced.describe()).status == WorkflowExecutionStatus.TERMINATED
    assert len(await events_of(sessions, ann, "message.returned", moved)) == 1

    again = await ann.client.post(f"/v1/inbox/messages/{unsnoozed}/unsnooze")  # not snoozed
    assert again.status_code == 200
    assert await changes(sessions, ann, unsnoozed) == ["snoozed", "unsnoozed"]  # none for none


async def test_the_wait_survives_a_worker_restart(make_stack, temporal_env, sessions):
    task_queue = f"herald-test-{uuid.uuid4()}"
    async with make_stack(temporal_env, task_queue=task_queue, **QUICK) as stack:
        ann = await new_inbox(stack)
        message = await send_in_app(stack, ann.external_id)
        await snooze(ann, message, until := ahead(4))
        await ann.client.aclose()
    # No worker at all while its time comes and goes: the server holds the wait.
    await sleep_past(until)
    assert await wake_up_status(stack, message) == WorkflowExecutionStatus.RUNNING
    assert await events_of(sessions, ann, "message.returned", message) == []

    async with make_stack(temporal_env, task_queue=task_queue, **QUICK) as restarted:
        back = await returned(sessions, ann, message, timeout=30)
        assert back.data["message"]["id"] == message
        assert await wake_up_status(restarted, message) == WorkflowExecutionStatus.COMPLETED


async def test_bad_snoozes_are_refused_naming_the_field_and_nothing_changes(stack, sessions):
    ann, bob = await new_inbox(stack), await new_inbox(stack)
    message = await send_in_app(stack, ann.external_id)
    expiring = await send_in_app(stack, ann.external_id)
    await set_message(sessions, expiring, expires_at=datetime.now(UTC) + timedelta(hours=1))
    expired = await send_in_app(stack, ann.external_id)
    await set_message(sessions, expired, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    bobs = await send_in_app(stack, bob.external_id)
    events_before = await inbox_events(sessions, ann.recipient_id)

    refused = {
        "60 s ahead (< 5 min)": (message, {"until": ahead(60)}, 422, "until"),
        "in the past": (message, {"until": ahead(-60)}, 422, "until"),
        "91 days ahead": (message, {"until": ahead(91 * 86400)}, 422, "until"),
        "no offset": (message, {"until": "2030-01-01T09:00:00"}, 422, "until"),
        "a number": (message, {"until": 1893488400}, 422, "until"),
        "a date only": (message, {"until": "2030-01-01"}, 422, "until"),
        "missing": (message, {}, 422, "until"),
        "an unknown field": (message, {"until": ahead(600), "for": "1h"}, 422, "for"),
        "after it expires": (expiring, {"until": ahead(7200)}, 422, "until"),
        "expired": (expired, {"until": ahead(600)}, 404, "message_id"),
        "another recipient's": (bobs, {"until": ahead(600)}, 404, "message_id"),
        "no such message": (str(uuid.uuid4()), {"until": ahead(600)}, 404, "message_id"),
        "not an id": ("not-a-uuid", {"until": ahead(600)}, 422, "message_id"),
    }
    for case, (target, body, status, field) in refused.items():
        response = await ann.client.post(f"/v1/inbox/messages/{target}/snooze", json=body)
        assert response.status_code == status, (case, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), case
        assert field in [e["field"] for e in response.json().get("errors", [])] or (
            response.json().get("field") == field
        ), (case, response.text)
    for target in (bobs, str(uuid.uuid4())):
        response = await ann.client.post(f"/v1/inbox/messages/{target}/unsnooze")
        assert response.status_code == 404, response.text

    assert await inbox_events(sessions, ann.recipient_id) == events_before
    assert await feed_ids(ann) == {message, expiring}
    assert await feed_ids(ann, snoozed="true") == set()
    assert await feed_ids(bob) == {bobs}
