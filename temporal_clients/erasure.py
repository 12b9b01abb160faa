"""What Temporal holds about an erased recipient, removed: their workflows' runs terminated
if running, then deleted with their histories (inputs, results, search attributes) and their
visibility records; their organizer's agenda Schedule deleted.

DeleteWorkflowExecution is durable on the server's side: once accepted, the server deletes
the run (and its visibility record, a little later) with its own retries."""

import asyncio
import uuid
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from temporal_clients.agendas import agenda_schedule_id
from temporal_clients.digests import digest_workflow_id
from temporal_clients.notifications import WorkflowGone, cancel_notification
from workflows import search_attributes as sa

RPC_TIMEOUT = timedelta(seconds=10)
CONCURRENCY = 20  # calls in flight at once
_PER_QUERY = 50  # ids or prefixes in one visibility query


def literal(value: str) -> str | None:
    """`value` as a visibility query's string, or None when it cannot be written as one
    plainly (a quote or backslash in a caller's id): such a workflow is deleted by its id."""
    if any(c in value for c in "\"'\\") or not value.isprintable():
        return None
    return f'"{value}"'


def digests_prefix(tenant_id: uuid.UUID, recipient_id: uuid.UUID) -> str:
    """What the ids of the recipient's DigestWorkflows start with, of every category and
    frequency (the recipient's id is a UUID: no other recipient's start the same)."""
    return digest_workflow_id(tenant_id, recipient_id, "", "").removesuffix("-")


def organizer_chains_query(tenant_id: object, organizer_id: str) -> str | None:
    """The booking chains of bookings this organizer runs (their id is a search attribute)."""
    organizer = literal(organizer_id)
    if organizer is None:
        return None
    return f'{sa.TENANT.name} = "{tenant_id}" AND {sa.ORGANIZER.name} = {organizer}'


def agenda_runs_query(
    tenant_id: object, organizer_id: str, since: datetime | None = None
) -> str | None:
    """The runs an organizer's agenda Schedule started (since a time: those that may list a
    booking made then)."""
    schedule = literal(agenda_schedule_id(tenant_id, organizer_id))
    if schedule is None:
        return None
    query = f"TemporalScheduledById = {schedule}"
    return query if since is None else f'{query} AND StartTime >= "{since.isoformat()}"'


async def delete_agenda_schedule(client: Client, tenant_id: object, organizer_id: str) -> int:
    """1 when the organizer had an agenda Schedule, now deleted; else 0."""
    handle = client.get_schedule_handle(agenda_schedule_id(tenant_id, organizer_id))
    try:
        await handle.delete(rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return 0
    return 1


async def cancel_notifications(client: Client, workflow_ids: Collection[str]) -> int:
    """Cancel these NotificationWorkflows as the API's cancel does (a send under way finishes
    and is recorded first); returns how many had something left to cancel. One that has
    finished is skipped; one no worker answers in time is ended by its deletion (the caller
    records it cancelled)."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def cancel(workflow_id: str) -> bool:
        async with limit:
            try:
                return (await cancel_notification(client, workflow_id)).cancelled
            except (WorkflowGone, WorkflowUpdateRPCTimeoutOrCancelledError):
                return False

    return sum(await asyncio.gather(*(cancel(w) for w in workflow_ids)))


def _batched(values: list[str], clause: str, join: str) -> list[str]:
    """Queries of `clause` (a format of one literal) for these values, many per query."""
    return [
        join.join(clause.format(literal(v)) for v in values[i : i + _PER_QUERY])
        for i in range(0, len(values), _PER_QUERY)
    ]


async def delete_workflows(
    client: Client,
    workflow_ids: Iterable[str],
    prefixes: Iterable[str] = (),
    queries: Iterable[str | None] = (),
) -> int:
    """Terminate and delete every run of these workflows, of those whose id starts with one of
    `prefixes` and of those the visibility `queries` find; returns how many runs were deleted.
    Idempotent: a run already gone is skipped."""
    ids = set(workflow_ids)
    plain = sorted(w for w in ids if literal(w) is not None)
    starts = sorted(p for p in set(prefixes) if literal(p) is not None)
    listed = [
        *(f"WorkflowId IN ({q})" for q in _batched(plain, "{}", ", ")),
        *_batched(starts, "WorkflowId STARTS_WITH {}", " OR "),
        *(q for q in queries if q is not None),
    ]
    runs: set[tuple[str, str]] = set()
    for query in listed:
        runs |= {(w.id, w.run_id) async for w in client.list_workflows(query)}
    # Started too recently for visibility, or not listable: its latest run, by id.
    runs |= {(w, "") for w in ids - {w for w, _ in runs}}
    limit = asyncio.Semaphore(CONCURRENCY)

    async def delete(workflow_id: str, run_id: str) -> bool:
        request = DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        )
        async with limit:
            try:
                await client.workflow_service.delete_workflow_execution(
                    request, timeout=RPC_TIMEOUT
                )
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    raise
                return False
        return True

    return sum(await asyncio.gather(*(delete(w, r) for w, r in sorted(runs))))
