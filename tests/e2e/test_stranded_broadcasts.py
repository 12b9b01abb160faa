"""The sweep of stranded broadcasts (services/stranded_broadcasts.py), run as its Schedule runs
it: a broadcast stored while Temporal was down, by a request without an Idempotency-Key (so no
retry comes), gets its workflow and completes; one whose workflow exists is not started twice;
one due later waits for its time."""

import logging
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from temporalio.service import RPCError, RPCStatusCode

from domain.maintenance import StrandedBroadcastsInput, StrandedBroadcastsResult
from tests.e2e.test_api_contract import assert_problem
from tests.e2e.test_broadcasts_api import LATER, broadcast
from tests.e2e.test_topics import seed
from tests.e2e.test_use_case_paths import unreachable_temporal  # noqa: F401  (a fixture)
from tests.utils.audience import wait_for_broadcast
from workflows.maintenance import RestartStrandedBroadcastsWorkflow


async def sweep(stack) -> StrandedBroadcastsResult:
    result: StrandedBroadcastsResult = await stack.client.execute_workflow(
        RestartStrandedBroadcastsWorkflow.run,
        StrandedBroadcastsInput(),
        id=f"sweep-test-{uuid.uuid4()}",
        task_queue=stack.settings.task_queue,
    )
    return result


def found(result: StrandedBroadcastsResult, broadcast_id: str) -> str | None:
    """Which list of the sweep's result holds the broadcast, if any."""
    lists = {"restarted": result.restarted, "running": result.running, "ended": result.ended}
    for name, ids in lists.items():
        if uuid.UUID(broadcast_id) in ids:
            return name
    return None


async def set_row(database_url: str, broadcast_id: str, **times: datetime) -> None:
    """Moves the broadcast's created_at or send_at (as if time had passed)."""
    assignments = ", ".join(f"{column} = %({column})s" for column in times)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(
            f"UPDATE broadcasts SET {assignments} WHERE id = %(id)s", times | {"id": broadcast_id}
        )


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


async def store_while_down(stack, unreachable, body: dict) -> dict:
    """POST /v1/broadcasts without an Idempotency-Key while Temporal is unreachable: a 503, and
    the stored broadcast (as GET shows it)."""
    stack.app.state.temporal = unreachable
    down = await stack.api.post("/v1/broadcasts", json=body)
    stack.app.state.temporal = stack.client
    assert_problem(down, 503, "temporal_unavailable")
    listed = (await stack.api.get("/v1/broadcasts")).json()["data"]
    assert listed[0]["event_key"] == body["event_key"] and listed[0]["started_at"] is None
    return dict(listed[0])


async def has_workflow(stack, workflow_id: str) -> bool:
    try:
        await stack.client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND, exc
        return False
    return True


async def test_a_broadcast_stored_while_temporal_was_down_is_started_and_completes(
    stack,
    database_url,
    unreachable_temporal,  # noqa: F811
    caplog,
):
    caplog.set_level(logging.INFO, logger="herald.broadcasts")
    ids = await seed(database_url, stack.tenant_id, 3)
    stranded = await store_while_down(
        stack, unreachable_temporal, broadcast({"recipients": ids}, channels=["in_app"])
    )
    assert stranded["status"] == "running"

    young = await sweep(stack)  # its request might still be starting it: not yet
    assert found(young, stranded["id"]) is None
    assert not await has_workflow(stack, stranded["workflow_id"])

    await set_row(database_url, stranded["id"], created_at=minutes_ago(2))
    swept = await sweep(stack)
    assert found(swept, stranded["id"]) == "restarted"
    logged = [r.getMessage() for r in caplog.records if r.name == "herald.broadcasts"]
    assert any(stranded["id"] in message for message in logged), logged
    described = await stack.client.get_workflow_handle(stranded["workflow_id"]).describe()
    assert described.task_queue == stack.settings.broadcast_queue()
    progress = await wait_for_broadcast(stack.api, stranded["id"], timeout=120)
    assert progress["status"] == "completed", progress
    assert (progress["total"], progress["planned"], progress["sent"]) == (3, 3, 3)

    assert found(await sweep(stack), stranded["id"]) is None  # started: no longer a candidate


async def test_a_broadcast_whose_workflow_exists_is_not_started_twice(stack, database_url):
    """Its workflow waits for a send_at that the row, moved, says is past: the row looks
    stranded, the workflow is there, and the sweep leaves it as it is."""
    ids = await seed(database_url, stack.tenant_id, 2)
    created = await stack.api.post(
        "/v1/broadcasts", json=broadcast({"recipients": ids}, send_at=LATER)
    )
    assert created.status_code == 202, created.text
    waiting = created.json()
    handle = stack.client.get_workflow_handle(waiting["workflow_id"])
    run_id = (await handle.describe()).run_id
    await set_row(database_url, waiting["id"], created_at=minutes_ago(5), send_at=minutes_ago(1))

    swept = await sweep(stack)

    assert found(swept, waiting["id"]) == "running"
    described = await handle.describe()
    assert described.run_id == run_id and described.status is not None
    assert described.status.name == "RUNNING"
    shown = (await stack.api.get(f"/v1/broadcasts/{waiting['id']}")).json()
    assert shown["status"] == "scheduled" and shown["started_at"] is None  # still waiting


async def test_a_stranded_broadcast_due_later_is_left_until_its_time(
    stack,
    database_url,
    unreachable_temporal,  # noqa: F811
):
    ids = await seed(database_url, stack.tenant_id, 2)
    later = await store_while_down(
        stack, unreachable_temporal, broadcast({"recipients": ids}, send_at=LATER)
    )
    assert later["status"] == "scheduled"
    await set_row(database_url, later["id"], created_at=minutes_ago(5))

    assert found(await sweep(stack), later["id"]) is None
    assert not await has_workflow(stack, later["workflow_id"])

    await set_row(database_url, later["id"], send_at=minutes_ago(1))  # its time has come
    assert found(await sweep(stack), later["id"]) == "restarted"
    assert await has_workflow(stack, later["workflow_id"])
    assert (await wait_for_broadcast(stack.api, later["id"], timeout=120))["status"] == "completed"


async def test_a_broadcast_whose_workflow_was_terminated_is_reported_not_restarted(
    stack, database_url, caplog
):
    """An operator terminated its workflow before it began: the row stays unfinished. Starting
    it again is refused while Temporal remembers the run, so the sweep says so and moves on."""
    caplog.set_level(logging.WARNING, logger="herald.broadcasts")
    ids = await seed(database_url, stack.tenant_id, 2)
    created = await stack.api.post(
        "/v1/broadcasts", json=broadcast({"recipients": ids}, send_at=LATER)
    )
    terminated = created.json()
    handle = stack.client.get_workflow_handle(terminated["workflow_id"])
    await handle.terminate(reason="test")
    await set_row(database_url, terminated["id"], created_at=minutes_ago(5), send_at=minutes_ago(1))

    assert found(await sweep(stack), terminated["id"]) == "ended"

    described = await handle.describe()
    assert described.status is not None and described.status.name == "TERMINATED"
    logged = [r.getMessage() for r in caplog.records if r.name == "herald.broadcasts"]
    assert any(terminated["id"] in message for message in logged), logged
