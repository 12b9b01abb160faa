"""Issue 15's acceptance: an end-to-end broadcast of 5,000 recipients on real servers.

One POST /v1/broadcasts lists 5,000 recipients (in-app and email) of four kinds, by their place
in the audience (a broadcast walks it by recipient id; tests/utils/audience.ordered_ids):
- quiet: the first QUIET, in their quiet hours until QUIET_SECONDS after the test starts: their
  deliveries are deferred until then, and sent once the window ends (by the broadcast's own
  timer: no workflow per recipient);
- muted: every 97th, who muted the event: both channels suppressed, nothing sent;
- failing: every 500th (from 250), whose address the SMTP server refuses with a 550: that
  delivery failed, the broadcast still completes; one of them is then resent from the delivery
  log (POST /v1/deliveries/{id}/resend) and arrives;
- plain: everyone else.
The broadcast is paused once its first page is written (nothing more written or sent while
paused) and resumed. At the end every recipient has exactly one notification; exactly one in-app
message and one email unless muted (failing: no email); GET /v1/broadcasts/{id} reports
completed with counters equal to the rows."""

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import ScriptedMailCatcher, Stack
from tests.utils.audience import (
    Member,
    broadcast_progress,
    copy_recipients,
    counters_match_rows,
    wait_for_broadcast,
    written_by,
)

pytestmark = pytest.mark.timeout(900)

N = 5000
QUIET = 40  # in the first page, written before the pause
QUIET_SECONDS = 90  # the quiet hours end this long after the test starts
EVENT = "news.announcement"


def kind(i: int) -> str:
    if i < QUIET:
        return "quiet"
    if i % 97 == 0:
        return "muted"
    if i % 500 == 250:
        return "failing"
    return "plain"


def audience(run: str, quiet_ends: datetime) -> list[Member]:
    quiet_hours = {
        "dnd": {
            "enabled": True,
            "start": (quiet_ends - timedelta(hours=2)).strftime("%H:%M:%S"),
            "end": quiet_ends.strftime("%H:%M:%S"),
        }
    }
    preferences: dict[str, dict[str, Any]] = {
        "quiet": quiet_hours,
        "muted": {"muted_event_keys": [EVENT]},
    }
    return [
        Member(
            f"bc-{i:05d}-{run}",
            f"bc-{i:05d}-{run}@example.com",
            "UTC",
            preferences.get(kind(i), {}),
        )
        for i in range(N)
    ]


async def rows(database_url: str, query: str, *params: object) -> list[tuple]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        return await (await conn.execute(query, params)).fetchall()


async def deliveries_by_status(
    database_url: str, broadcast_id: str, addresses: list[str]
) -> list[tuple]:
    """The broadcast's deliveries to these addresses' recipients by status: (status, count,
    earliest and latest deferred_until, earliest sent_at)."""
    return await rows(
        database_url,
        "SELECT d.status, count(*), min(d.deferred_until), max(d.deferred_until), min(d.sent_at) "
        "FROM deliveries d JOIN notifications n ON n.id = d.notification_id "
        "JOIN recipients r ON r.id = n.recipient_id "
        "WHERE n.broadcast_id = %s AND r.email = ANY(%s) GROUP BY 1 ORDER BY 1",
        broadcast_id,
        addresses,
    )


async def test_a_broadcast_of_5000_recipients_end_to_end(
    stack: Stack, smtp: ScriptedMailCatcher, database_url: str
):
    run = uuid.uuid4().hex[:6]
    quiet_ends = (datetime.now(UTC) + timedelta(seconds=QUIET_SECONDS)).replace(microsecond=0)
    members = audience(run, quiet_ends)
    by_kind: dict[str, list[Member]] = {}
    for i, m in enumerate(members):
        by_kind.setdefault(kind(i), []).append(m)
    for m in by_kind["failing"]:
        smtp.refused_addresses[str(m.email)] = "550 5.1.1 No such user here"
    await copy_recipients(database_url, stack.tenant_id, members)

    response = await stack.api.post(
        "/v1/broadcasts",
        json={
            "audience": {"recipients": [m.external_id for m in members]},
            "event_key": EVENT,
            "channels": ["in_app", "email"],
            "context": {"subject": "Our news", "message": "Something new for you."},
        },
        headers={"Idempotency-Key": f"e2e-{run}"},
    )
    assert response.status_code == 202, response.text
    broadcast_id = response.json()["id"]

    # Paused once its first page is written, mid-way.
    await wait_until_planned(stack, broadcast_id)
    paused = await stack.api.post(f"/v1/broadcasts/{broadcast_id}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused"
    # What was in flight when it paused finishes (a page, a send batch); then nothing moves.
    before = await standstill(stack, smtp, broadcast_id)
    assert before["status"] == "paused"
    assert before["planned"] < N, f"paused after the walk: {before}"

    # The quiet recipients (the first page) wait for the end of their quiet hours.
    quiet_addresses = [str(m.email) for m in by_kind["quiet"]]
    waiting = await deliveries_by_status(database_url, broadcast_id, quiet_addresses)
    assert waiting == [("deferred", 2 * QUIET, quiet_ends, quiet_ends, None)], (
        "both channels deferred until their quiet hours end"
    )
    assert before["deferred"] >= 2 * QUIET

    resumed = await stack.api.post(f"/v1/broadcasts/{broadcast_id}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "running"
    done = await wait_for_broadcast(stack.api, broadcast_id, timeout=QUIET_SECONDS + 600)
    assert datetime.now(UTC) >= quiet_ends
    written = await written_by(database_url, broadcast_id)

    assert done["status"] == "completed", done
    assert done["total"] == N
    assert len(written.notifications) == N and set(written.notifications.values()) == {1}
    messages = written.in_app_messages
    assert len(messages) == N - len(by_kind["muted"]) and set(messages.values()) == {1}
    emails = Counter(a for m in smtp.messages for a in m.recipients)
    for name, expected in (("plain", 1), ("quiet", 1), ("muted", 0), ("failing", 0)):
        got = Counter(emails[str(m.email)] for m in by_kind[name])
        assert got == {expected: len(by_kind[name])}, f"{name}: emails per recipient {got}"

    released = await deliveries_by_status(database_url, broadcast_id, quiet_addresses)
    # An in-app message is delivered when its row is written; an email is sent.
    assert [(status, n) for status, n, *_ in released] == [("delivered", QUIET), ("sent", QUIET)]
    assert all(first_sent_at >= quiet_ends for *_, first_sent_at in released), (
        "sent once their quiet hours ended"
    )
    failing = by_kind["failing"]
    failed = await rows(
        database_url,
        "SELECT d.id, n.id, d.address, d.error FROM deliveries d "
        "JOIN notifications n ON n.id = d.notification_id "
        "WHERE n.broadcast_id = %s AND d.channel = 'email' AND d.status = 'failed'",
        broadcast_id,
    )
    assert sorted(address for _, _, address, _ in failed) == sorted(str(m.email) for m in failing)
    assert all("550" in (error or "") for *_, error in failed)
    assert done["failed"] == len(failing)
    assert done["suppressed"] == 2 * len(by_kind["muted"])
    assert done["sent"] == 2 * N - 2 * len(by_kind["muted"]) - len(failing)
    assert counters_match_rows(done, written) == {}, "the progress' counters are the rows'"

    # One failed delivery resent from the delivery log, its address accepted now.
    delivery_id, notification_id, address, _ = failed[0]
    smtp.refused_addresses.pop(address)
    resent = await stack.api.post(f"/v1/deliveries/{delivery_id}/resend")
    assert resent.status_code == 202, resent.text
    await smtp.wait_for(address, timeout=60)
    notification = await stack.wait_for_status(str(notification_id), "sent", timeout=60)
    by_id = {d["id"]: d for d in notification["deliveries"]}
    assert by_id[resent.json()["id"]]["status"] == "sent"
    assert by_id[str(delivery_id)]["status"] == "failed"  # the log keeps what happened


async def standstill(
    stack: Stack, smtp: ScriptedMailCatcher, broadcast_id: str, still_for: float = 3.0
) -> dict:
    """The broadcast's progress once neither its counters nor the emails arriving have moved
    for `still_for` seconds."""
    seen: tuple = ()
    since = time.monotonic()
    deadline = since + 180
    while time.monotonic() < deadline:
        progress = await broadcast_progress(stack.api, broadcast_id)
        now = (progress["planned"], progress["sent"], progress["failed"], len(smtp.messages))
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= still_for:
            return progress
        await asyncio.sleep(0.2)
    raise AssertionError(f"the paused broadcast kept moving: {progress}")


async def wait_until_planned(stack: Stack, broadcast_id: str) -> None:
    """Until the broadcast's first page is written (its pages are transactions)."""
    progress: dict = {}

    async def planned() -> bool:
        nonlocal progress
        progress = await broadcast_progress(stack.api, broadcast_id)
        return progress["planned"] > 0

    for _ in range(1200):
        if await planned():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no page written: {progress}")
