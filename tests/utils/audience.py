"""Broadcast audiences for the tests and the benchmark (tests/faults/test_broadcast_crash.py,
tests/e2e/test_broadcast_e2e.py, bench/broadcast.py): thousands of recipients written with one
COPY, a broadcast's progress awaited through the API, and what the broadcast wrote, counted per
recipient from the tables."""

import asyncio
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

FINISHED = ("completed", "cancelled", "failed")


@dataclass(frozen=True)
class Member:
    """One recipient of a seeded audience; `preferences` are their stored overrides."""

    external_id: str
    email: str | None = None
    timezone: str = "UTC"
    preferences: dict[str, Any] = field(default_factory=dict)


def ordered_ids(count: int) -> list[uuid.UUID]:
    """Recipient ids that sort as their index does (a broadcast walks its audience by id, so
    member i is in page i // page_size), unique to this call."""
    run = uuid.uuid4().int & ((1 << 96) - 1)
    return [uuid.UUID(int=(i << 96) | run) for i in range(count)]


async def copy_recipients(
    database_url: str, tenant_id: uuid.UUID | str, members: Sequence[Member]
) -> list[uuid.UUID]:
    """Writes the members as the tenant's recipients with one COPY; their ids, in order."""
    ids = ordered_ids(len(members))
    columns = "id, tenant_id, external_id, email, timezone, preference_overrides"
    async with (
        await psycopg.AsyncConnection.connect(database_url) as conn,
        conn.cursor() as cursor,
        cursor.copy(f"COPY recipients ({columns}) FROM STDIN") as copy,
    ):
        for recipient_id, m in zip(ids, members, strict=True):
            row = (recipient_id, tenant_id, m.external_id, m.email, m.timezone)
            await copy.write_row((*row, json.dumps(m.preferences)))
    return ids


async def broadcast_progress(api: httpx.AsyncClient, broadcast_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/broadcasts/{broadcast_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def wait_for_broadcast(
    api: httpx.AsyncClient,
    broadcast_id: str,
    statuses: Sequence[str] = FINISHED,
    timeout: float = 600,
    every: float = 0.25,
) -> dict[str, Any]:
    """GET /v1/broadcasts/{id} until its status is one of `statuses`; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        progress = await broadcast_progress(api, broadcast_id)
        if progress["status"] in statuses:
            return progress
        if time.monotonic() > deadline:
            raise AssertionError(f"broadcast not finished after {timeout}s: {progress}")
        await asyncio.sleep(every)


@dataclass
class Written:
    """What a broadcast wrote, from the tables: per recipient id, its notifications and in-app
    messages; deliveries by (channel, status)."""

    notifications: dict[uuid.UUID, int]
    in_app_messages: dict[uuid.UUID, int]
    deliveries: dict[tuple[str, str], int]

    def deliveries_with(self, status: str) -> int:
        return sum(n for (_, s), n in self.deliveries.items() if s == status)


async def written_by(database_url: str, broadcast_id: str) -> Written:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        notifications = await (
            await conn.execute(
                "SELECT recipient_id, count(*) FROM notifications WHERE broadcast_id = %s "
                "GROUP BY 1",
                (broadcast_id,),
            )
        ).fetchall()
        messages = await (
            await conn.execute(
                "SELECT m.recipient_id, count(*) FROM in_app_messages m "
                "JOIN notifications n ON n.id = m.notification_id WHERE n.broadcast_id = %s "
                "GROUP BY 1",
                (broadcast_id,),
            )
        ).fetchall()
        deliveries = await (
            await conn.execute(
                "SELECT d.channel, d.status, count(*) FROM deliveries d "
                "JOIN notifications n ON n.id = d.notification_id WHERE n.broadcast_id = %s "
                "GROUP BY 1, 2",
                (broadcast_id,),
            )
        ).fetchall()
    return Written(
        notifications=dict(notifications),
        in_app_messages=dict(messages),
        deliveries={(channel, status): n for channel, status, n in deliveries},
    )


def counters_match_rows(progress: dict[str, Any], written: Written) -> dict[str, tuple[Any, Any]]:
    """The progress' counters that differ from the rows ({counter: (reported, counted)}): planned
    counts recipients written, the others deliveries (deferred: those deferred now)."""
    counted = {
        "planned": len(written.notifications),
        # An in-app message is delivered the moment its row is written: it counts as sent.
        "sent": written.deliveries_with("sent") + written.deliveries_with("delivered"),
    } | {status: written.deliveries_with(status) for status in ("suppressed", "deferred", "failed")}
    return {k: (progress.get(k), v) for k, v in counted.items() if progress.get(k) != v}
