"""Validation, authentication, tenant isolation, logs and health, through the real API."""

import asyncio
import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from db.models import Notification, Recipient
from tests.conftest import new_tenant
from tests.e2e.test_email_smtp import email_request
from tests.utils.dashboard import dashboard_client, signed_in_operator


async def row_counts(sessions) -> tuple[int, int]:
    async with sessions() as session:
        return (
            await session.scalar(select(func.count()).select_from(Notification)),
            await session.scalar(select(func.count()).select_from(Recipient)),
        )


async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(stack, sessions):
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"recipient": {"email": "not-an-email"}}, "recipient.email"),
        ({"recipient": {"phone": "415-555-0123"}}, "recipient.phone"),
        (
            {"recipient": {"email": "a@example.com", "timezone": "Mars/Olympus"}},
            "recipient.timezone",
        ),
        ({"send_at": past}, "send_at"),
        ({"send_at": future.replace("+00:00", "")}, "send_at"),
        ({"recipient": {"external_id": "nobody-here"}}, "recipient.external_id"),
        ({"event_key": "Not A Key"}, "event_key"),
        ({"channels": ["fax"]}, "channels.0"),
        ({"priority": "extreme"}, "priority"),
        ({"recipient": {}}, "recipient"),
    ]
    before = await row_counts(sessions)
    for change, field in cases:
        body = {**email_request("ok@example.com"), **change}
        response = await stack.api.post("/v1/notifications", json=body)
        assert response.status_code == 422, (field, response.text)
        problem = response.json()
        assert problem["detail"].startswith(field), (field, problem)
        assert field in [e["field"] for e in problem["errors"]], (field, problem)
        assert "Traceback" not in response.text
    assert await row_counts(sessions) == before


async def test_oversized_body_is_413_and_writes_nothing(stack, sessions):
    before = await row_counts(sessions)
    body = email_request("big@example.com", context={"blob": "x" * (256 * 1024)})
    response = await stack.api.post("/v1/notifications", json=body)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert await row_counts(sessions) == before


async def test_authentication_is_required(stack):
    no_key = await stack.api.get("/v1/logs", headers={"Authorization": ""})
    wrong_key = await stack.api.get("/v1/logs", headers={"Authorization": "Bearer hk_wrong"})
    assert no_key.status_code == wrong_key.status_code == 401
    assert (await stack.api.get("/v1/health", headers={"Authorization": ""})).status_code == 200


async def test_tenants_cannot_see_each_other(stack, sessions):
    accepted = (
        await stack.api.post("/v1/notifications", json=email_request("iso@example.com"))
    ).json()
    await stack.wait_for_status(accepted["id"], "sent")
    _, other_key = await new_tenant(sessions, "Other")
    other = {"Authorization": f"Bearer {other_key}"}

    assert (
        await stack.api.get(f"/v1/notifications/{accepted['id']}", headers=other)
    ).status_code == 404
    assert (
        await stack.api.post(f"/v1/notifications/{accepted['id']}/cancel", headers=other)
    ).status_code == 404
    assert (await stack.api.get("/v1/logs", headers=other)).json()["data"] == []
    recipient = (await stack.notification(accepted["id"]))["recipient"]
    assert (await stack.api.get(f"/v1/recipients/{recipient}", headers=other)).status_code == 404
    # The same Idempotency-Key in another tenant is another notification.
    headers = {"Idempotency-Key": "shared-key-123"}
    mine = await stack.api.post(
        "/v1/notifications", json=email_request("a@example.com"), headers=headers
    )
    theirs = await stack.api.post(
        "/v1/notifications", json=email_request("a@example.com"), headers={**headers, **other}
    )
    assert mine.status_code == theirs.status_code == 202
    assert mine.json()["id"] != theirs.json()["id"]


async def test_logs_filter_and_paginate(stack):
    headers: dict = {}  # every test's stack has a tenant of its own, so its logs start empty
    ids = []
    for i in range(5):
        body = email_request(f"log{i}@example.com", channels=["email", "in_app"])
        ids.append((await stack.api.post("/v1/notifications", json=body)).json()["id"])
    for notification_id in ids:
        await stack.wait_for_status(notification_id, "sent")

    seen, cursor = [], None
    while True:
        query = "/v1/logs?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await stack.api.get(query, headers=headers)).json()
        seen += page["data"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 10 and len({e["id"] for e in seen}) == 10
    assert [e["created_at"] for e in seen] == sorted((e["created_at"] for e in seen), reverse=True)

    in_app = (
        await stack.api.get("/v1/logs?channel=in_app&status=delivered", headers=headers)
    ).json()["data"]
    assert len(in_app) == 5 and all(e["channel"] == "in_app" for e in in_app)
    one = (
        await stack.api.get(f"/v1/logs?recipient={seen[0]['recipient']}", headers=headers)
    ).json()["data"]
    assert {e["recipient"] for e in one} == {seen[0]["recipient"]} and len(one) == 2
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert (await stack.api.get("/v1/logs", params={"from": later}, headers=headers)).json()[
        "data"
    ] == []
    assert (await stack.api.get("/v1/logs?event_key=other.thing", headers=headers)).json()[
        "data"
    ] == []
    assert (await stack.api.get("/v1/logs?cursor=garbage", headers=headers)).status_code == 422


async def test_recipient_put_and_get(stack):
    external_id = f"r-{uuid.uuid4().hex[:6]}"
    body = {
        "name": "Ada",
        "email": "ada@example.com",
        "phone": "+442071838750",
        "timezone": "Europe/London",
        "locale": "en-GB",
    }
    put = await stack.api.put(f"/v1/recipients/{external_id}", json=body)
    assert put.status_code == 200, put.text
    got = (await stack.api.get(f"/v1/recipients/{external_id}")).json()
    assert {k: got[k] for k in body} == body
    bad = await stack.api.put(f"/v1/recipients/{external_id}", json={**body, "phone": "+12"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("phone")


async def lanes_polled(stack, lanes: set[str]) -> dict:
    """The health details once each of `lanes` has a worker polling it (a new worker shows up
    among a task queue's pollers after its first poll)."""
    for _ in range(100):
        health = await stack.health_details()
        polled = health["temporal"].get("lanes", {})
        if all(polled.get(lane, {}).get("workers_polling") for lane in lanes):
            return health
        await asyncio.sleep(0.1)
    raise AssertionError(f"no worker showed up polling each of {lanes}: {health['temporal']}")


async def test_health_details_report_each_component(stack):
    health = await lanes_polled(stack, {"default", "urgent", "broadcast"})  # WORKER_QUEUES=all
    assert health["database"]["status"] == "ok"
    assert health["temporal"]["status"] == "ok" and health["temporal"]["workers_polling"] >= 1
    assert "problem" not in health["temporal"]
    assert {lane: part["task_queue"] for lane, part in health["temporal"]["lanes"].items()} == {
        "default": stack.settings.task_queue,
        "urgent": stack.settings.urgent_queue(),
        "broadcast": stack.settings.broadcast_queue(),
    }
    assert all(part["status"] == "ok" for part in health["temporal"]["lanes"].values())
    assert health["providers"]["email"]["provider"] == "smtp"
    assert health["providers"]["sms"]["provider"] == "outbox"


async def test_health_reports_a_lane_no_worker_polls(make_stack, temporal_env, sessions):
    """A worker serving default and urgent only (as the API's embedded worker does): the
    broadcast lane has no poller, so Temporal is degraded, naming the lane and its task queue,
    in the details and on the dashboard's Health page."""
    async with make_stack(temporal_env, worker_queues="default,urgent") as stack:
        health = await lanes_polled(stack, {"default", "urgent"})
        temporal = health["temporal"]
        broadcast_queue = stack.settings.broadcast_queue()
        assert temporal["lanes"]["broadcast"] == {
            "status": "degraded",
            "task_queue": broadcast_queue,
            "workers_polling": 0,
        }
        assert temporal["lanes"]["urgent"]["status"] == "ok"
        assert temporal["status"] == "degraded" and health["status"] == "degraded"
        assert (
            temporal["problem"]
            == f"no worker polls the broadcast lane (task queue {broadcast_queue})"
        )

        owner = await signed_in_operator(sessions, stack.settings, stack.tenant_id)
        async with dashboard_client(stack.app, owner.cookies) as browser:
            page = (await browser.get("/dashboard/health")).text
            overview = (await browser.get("/dashboard")).text
    core = page[page.index('aria-labelledby="core"') :]
    core = core[: core.index("</section>")]
    assert re.search(
        rf'Broadcast lane <span class="badge warn">degraded</span></dt><dd><span class="mono">'
        rf"{re.escape(broadcast_queue)}</span>: 0 worker\(s\) polling; its broadcasts wait",
        core,
    ), core
    assert re.search(r'Urgent lane <span class="badge ok">ok</span>', core), core
    assert html.escape(temporal["problem"]) in overview
