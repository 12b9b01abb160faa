"""POST/GET /v1/broadcasts on real servers: refusals that name the field and write nothing,
Idempotency-Key replays and conflicts (as POST /v1/notifications), the listing newest first,
progress read from the row, pause/resume/cancel through the workflow's updates, and another
tenant kept out."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from tests.conftest import new_tenant
from tests.e2e.test_api_contract import assert_problem
from tests.e2e.test_topics import fields, seed
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)
from tests.utils.audience import counters_match_rows, wait_for_broadcast, written_by

LATER = (datetime.now(UTC) + timedelta(days=30)).isoformat()


def broadcast(audience: dict, **extra) -> dict:
    return {"audience": audience, "event_key": "news.update", "context": {"n": 1}} | extra


async def stored(database_url: str, tenant_id: uuid.UUID) -> tuple[int, int]:
    """(broadcasts, broadcast_recipients) the tenant has in the tables."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        row = await (
            await conn.execute(
                "SELECT count(DISTINCT b.id), count(r.recipient_id) FROM broadcasts b "
                "LEFT JOIN broadcast_recipients r ON r.broadcast_id = b.id WHERE b.tenant_id = %s",
                (tenant_id,),
            )
        ).fetchone()
    assert row is not None
    return row[0], row[1]


async def test_refusals_name_the_field_and_write_nothing(stack, database_url):
    api = stack.api
    ids = await seed(database_url, stack.tenant_id, 3)
    unknown = [f"ghost-{i}" for i in range(8)]
    cases = {
        "audience": [
            broadcast({}),
            broadcast({"recipients": ids, "topic": "news"}),
            broadcast({"topic": "news", "all": True}),
        ],
        "audience.recipients": [
            broadcast({"recipients": []}),
            broadcast({"recipients": [f"r{i}" for i in range(10_001)]}),
            broadcast({"recipients": ids + unknown}),
        ],
        "audience.topic": [broadcast({"topic": "absent"}), broadcast({"topic": "Bad Key"})],
        "audience.all": [broadcast({"all": False})],
        "send_at": [
            broadcast({"all": True}, send_at="2020-01-01T00:00:00Z"),
            broadcast({"all": True}, send_at="2030-01-01T09:00:00"),
        ],
        "channels.0": [broadcast({"all": True}, channels=["pigeon"])],
        "event_key": [broadcast({"all": True}, event_key="")],
        "inbox.expires_at": [broadcast({"all": True}, inbox={"expires_at": "2020-01-01T00:00Z"})],
    }
    for field, bodies in cases.items():
        for body in bodies:
            refused = await api.post("/v1/broadcasts", json=body)
            assert_problem(refused, 422, "validation_error")
            assert field in fields(refused), (field, refused.json())
    unknown_named = await api.post("/v1/broadcasts", json=broadcast({"recipients": ids + unknown}))
    detail = unknown_named.json()["detail"]
    assert all(repr(ghost) in detail for ghost in unknown[:5]) and "'ghost-5'" not in detail
    bad_key = await api.post(
        "/v1/broadcasts", json=broadcast({"all": True}), headers={"Idempotency-Key": "two words"}
    )
    assert fields(bad_key) == ["Idempotency-Key"]
    assert await stored(database_url, stack.tenant_id) == (0, 0)


async def test_the_same_key_replays_and_another_body_conflicts(stack, database_url):
    api = stack.api
    ids = await seed(database_url, stack.tenant_id, 5)
    key = {"Idempotency-Key": f"launch-{uuid.uuid4()}"}
    # Listed twice: the audience holds each recipient once.
    body = broadcast({"recipients": ids + ids[:2]}, send_at=LATER, channels=["in_app"])

    first = await api.post("/v1/broadcasts", json=body, headers=key)
    assert first.status_code == 202, first.text
    accepted = first.json()
    assert accepted["status"] == "scheduled" and accepted["replayed"] is False
    assert accepted["total"] == 5 and accepted["idempotency_key"] == key["Idempotency-Key"]
    assert accepted["workflow_id"] == f"broadcast-{stack.tenant_id}-{accepted['id']}"
    assert first.headers["Location"] == f"/v1/broadcasts/{accepted['id']}"

    replay = await api.post("/v1/broadcasts", json=body, headers=key)
    assert replay.status_code == 202, replay.text
    assert replay.json() == accepted | {"replayed": True}

    other = await api.post("/v1/broadcasts", json=body | {"context": {"n": 2}}, headers=key)
    assert_problem(other, 409, "idempotency_conflict")
    assert await stored(database_url, stack.tenant_id) == (1, 5)

    # The workflow was started once, on the broadcast lane, with the broadcast's input.
    handle = stack.client.get_workflow_handle(accepted["workflow_id"])
    described = await handle.describe()
    assert described.task_queue == stack.settings.broadcast_queue()

    # Without a key, Herald draws one: every call is a new broadcast.
    keyless = [await api.post("/v1/broadcasts", json=body) for _ in range(2)]
    assert len({r.json()["id"] for r in keyless}) == 2
    assert await stored(database_url, stack.tenant_id) == (3, 15)


async def test_requests_with_one_key_at_once_make_one_broadcast(stack, database_url):
    """They take turns on the key's unique index: the first stored wins; the same body is its
    replay, another body a 409 that wrote nothing."""
    ids = await seed(database_url, stack.tenant_id, 4)
    key = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    bodies = [broadcast({"recipients": ids[:2]}, send_at=LATER)] * 3 + [
        broadcast({"recipients": ids[2:]}, send_at=LATER)
    ] * 2
    answers = await asyncio.gather(
        *(stack.api.post("/v1/broadcasts", json=body, headers=key) for body in bodies)
    )
    made = [a for a in answers if a.status_code == 202 and not a.json()["replayed"]]
    assert len(made) == 1, [a.text for a in answers]
    winner = bodies[answers.index(made[0])]
    for body, answer in zip(bodies, answers, strict=True):
        if body == winner:
            assert answer.status_code == 202 and answer.json()["id"] == made[0].json()["id"]
        else:
            assert_problem(answer, 409, "idempotency_conflict")
    assert await stored(database_url, stack.tenant_id) == (1, 2)


async def test_broadcasts_are_listed_newest_first_with_their_progress(stack, database_url):
    api = stack.api
    await seed(database_url, stack.tenant_id, 1)
    made = []
    for audience in ({"all": True}, {"all": True}, {"all": True}):
        response = await api.post("/v1/broadcasts", json=broadcast(audience, send_at=LATER))
        assert response.status_code == 202, response.text
        made.append(response.json()["id"])
    pages, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        listing = (await api.get("/v1/broadcasts", params=params)).json()
        pages.append([b["id"] for b in listing["data"]])
        if not (cursor := listing["next_cursor"]):
            break
    assert pages == [made[::-1][:2], made[::-1][2:]]

    got = await api.get(f"/v1/broadcasts/{made[0]}")
    assert got.status_code == 200, got.text
    shown = got.json()
    assert shown["audience"] == {"kind": "tenant", "topic": None}
    assert shown["status"] == "scheduled" and shown["event_key"] == "news.update"
    assert (shown["planned"], shown["sent"], shown["failed"]) == (0, 0, 0)
    assert shown["rate_per_second"] is None and shown["eta_seconds"] is None
    assert_problem(await api.get(f"/v1/broadcasts/{uuid.uuid4()}"), 404, "not_found")


async def test_progress_is_read_from_the_row_with_rate_and_eta(stack, database_url):
    """As the workflow's pages advance the row's counters: rate = planned per second since
    started, ETA = the audience left at that rate."""
    ids = await seed(database_url, stack.tenant_id, 2)
    key = {"Idempotency-Key": f"progress-{uuid.uuid4()}"}
    body = broadcast({"recipients": ids}, send_at=LATER)
    response = await stack.api.post("/v1/broadcasts", json=body, headers=key)
    broadcast_id = response.json()["id"]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(
            "UPDATE broadcasts SET status = 'running', total = 1000, planned = 250, sent = 240, "
            "failed = 3, suppressed = 7, started_at = now() - interval '10 seconds' "
            "WHERE id = %s",
            (broadcast_id,),
        )
    progress = (await stack.api.get(f"/v1/broadcasts/{broadcast_id}")).json()
    assert (progress["status"], progress["total"], progress["planned"]) == ("running", 1000, 250)
    assert (progress["sent"], progress["failed"], progress["suppressed"]) == (240, 3, 7)
    assert 20 <= progress["rate_per_second"] <= 25  # 250 in 10 s (and the request's time)
    assert 750 / 25 <= progress["eta_seconds"] <= 750 / 20
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(
            "UPDATE broadcasts SET status = 'completed', planned = 1000, "
            "finished_at = started_at + interval '20 seconds' WHERE id = %s",
            (broadcast_id,),
        )
    done = (await stack.api.get(f"/v1/broadcasts/{broadcast_id}")).json()
    assert done["rate_per_second"] == 50 and done["eta_seconds"] is None
    replay = await stack.api.post("/v1/broadcasts", json=body, headers=key)
    assert replay.status_code == 202 and replay.json()["status"] == "completed", replay.text
    # Finished: pause, resume and cancel are refused naming its status, Temporal not asked.
    for action in ("pause", "resume", "cancel"):
        refused = await stack.api.post(f"/v1/broadcasts/{broadcast_id}/{action}")
        problem = assert_problem(refused, 409, "already_finished")
        assert "(completed)" in problem["detail"]


async def test_another_tenant_cannot_see_or_steer_a_broadcast(stack, database_url, sessions):
    ids = await seed(database_url, stack.tenant_id, 2)
    response = await stack.api.post(
        "/v1/broadcasts", json=broadcast({"recipients": ids}, send_at=LATER)
    )
    broadcast_id = response.json()["id"]
    before = (await stack.api.get(f"/v1/broadcasts/{broadcast_id}")).json()
    _, b_key = await new_tenant(sessions, "Other")
    other = await stack.as_tenant(b_key)
    assert (await other.get("/v1/broadcasts")).json()["data"] == []
    assert_problem(await other.get(f"/v1/broadcasts/{broadcast_id}"), 404, "not_found")
    for action in ("pause", "resume", "cancel"):
        assert_problem(
            await other.post(f"/v1/broadcasts/{broadcast_id}/{action}"), 404, "not_found"
        )
    # A's recipients are unknown to B: B cannot broadcast to them.
    refused = await other.post("/v1/broadcasts", json=broadcast({"recipients": ids}))
    assert fields(refused) == ["audience.recipients"]
    assert (await stack.api.get(f"/v1/broadcasts/{broadcast_id}")).json() == before


async def test_a_broadcast_stored_while_temporal_is_down_starts_on_the_retry(
    stack,
    database_url,
    unreachable_temporal,  # noqa: F811
):
    """As a notification: the row stays (503 says retry), and the same request again starts
    its workflow and answers the broadcast stored the first time."""
    ids = await seed(database_url, stack.tenant_id, 2)
    key = {"Idempotency-Key": f"outage-{uuid.uuid4()}"}
    body = broadcast({"recipients": ids}, send_at=LATER)
    stack.app.state.temporal = unreachable_temporal
    down = await stack.api.post("/v1/broadcasts", json=body, headers=key)
    assert_problem(down, 503, "temporal_unavailable")
    assert down.headers["retry-after"] == "5"
    assert await stored(database_url, stack.tenant_id) == (1, 2)
    listed = (await stack.api.get("/v1/broadcasts")).json()["data"]
    assert_problem(
        await stack.api.post(f"/v1/broadcasts/{listed[0]['id']}/pause"), 503, "temporal_unavailable"
    )

    stack.app.state.temporal = stack.client
    retried = await stack.api.post("/v1/broadcasts", json=body, headers=key)
    assert retried.status_code == 202, retried.text
    assert retried.json()["id"] == listed[0]["id"] and retried.json()["replayed"] is True
    described = await stack.client.get_workflow_handle(retried.json()["workflow_id"]).describe()
    assert described.task_queue == stack.settings.broadcast_queue()
    assert await stored(database_url, stack.tenant_id) == (1, 2)


async def test_pause_resume_and_cancel_steer_the_workflow(stack, database_url):
    """Each an update of the broadcast's workflow, answering its progress; what the workflow
    refuses is a 409 with its reason; once finished, a 409 naming the status."""
    api = stack.api
    ids = await seed(database_url, stack.tenant_id, 3)
    created = await api.post("/v1/broadcasts", json=broadcast({"recipients": ids}, send_at=LATER))
    broadcast_id = created.json()["id"]

    paused = await api.post(f"/v1/broadcasts/{broadcast_id}/pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["id"] == broadcast_id and paused.json()["status"] == "paused"
    assert (await api.get(f"/v1/broadcasts/{broadcast_id}")).json()["status"] == "paused"
    again = assert_problem(
        await api.post(f"/v1/broadcasts/{broadcast_id}/pause"), 409, "broadcast_refused"
    )
    assert "already paused" in again["detail"]

    resumed = await api.post(f"/v1/broadcasts/{broadcast_id}/resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "scheduled"  # still waiting for its send_at
    again = assert_problem(
        await api.post(f"/v1/broadcasts/{broadcast_id}/resume"), 409, "broadcast_refused"
    )
    assert "not paused" in again["detail"]

    cancelled = await api.post(f"/v1/broadcasts/{broadcast_id}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    shown = (await api.get(f"/v1/broadcasts/{broadcast_id}")).json()
    assert shown["status"] == "cancelled" and shown["finished_at"] is not None
    assert shown["planned"] == 0  # nothing was written: it never started
    for action in ("pause", "resume", "cancel"):
        refused = await api.post(f"/v1/broadcasts/{broadcast_id}/{action}")
        assert "(cancelled)" in assert_problem(refused, 409, "already_finished")["detail"]


async def test_a_topic_broadcast_reaches_every_subscriber_once(stack, database_url, smtp):
    """The whole way: POST to a topic of 50, the workflow and its activities write and send
    (in-app and email), and GET /v1/broadcasts/{id} ends completed with the rows' counts."""
    api = stack.api
    ids = await seed(database_url, stack.tenant_id, 50)
    others = await seed(database_url, stack.tenant_id, 3)  # not subscribed: not reached
    assert (await api.put("/v1/topics/all-hands/subscribers", json={"recipients": ids})).is_success
    response = await api.post(
        "/v1/broadcasts",
        json=broadcast({"topic": "all-hands"}, channels=["in_app", "email"]),
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "running" and response.json()["total"] is None
    broadcast_id = response.json()["id"]

    progress = await wait_for_broadcast(api, broadcast_id, timeout=120)
    assert progress["status"] == "completed", progress
    assert (progress["total"], progress["planned"], progress["sent"]) == (50, 50, 100)
    assert (progress["failed"], progress["suppressed"], progress["deferred"]) == (0, 0, 0)
    assert progress["started_at"] and progress["finished_at"] and progress["eta_seconds"] is None
    written = await written_by(database_url, broadcast_id)
    # An in-app message is delivered once written (as a single notification's): it counts as
    # sent.
    assert written.deliveries == {("in_app", "delivered"): 50, ("email", "sent"): 50}
    assert counters_match_rows(progress, written) == {}
    assert len(written.notifications) == 50 and set(written.notifications.values()) == {1}
    assert len(written.in_app_messages) == 50 and set(written.in_app_messages.values()) == {1}
    for external_id in ids:
        assert len(smtp.to(f"{external_id}@example.com")) == 1, external_id
    for external_id in others:
        assert smtp.to(f"{external_id}@example.com") == []
