"""Erasing a person: DELETE /v1/recipients/{external_id} (a right-to-erasure request).

The recipient stays as an anonymous row (`erased:<its id>`, no contact details, preferences or
chat addresses) with its notifications and deliveries, so statistics keep counting them; what
names the person goes (db/erasure.py lists it). In this order:

1. Temporal first. What would make new notifications for them ends (their booking chains,
   digests, agenda Schedule); their waiting notifications are cancelled as the API cancels
   one (a send under way finishes first); then every run of those workflows, and of status
   webhooks about them, is deleted with its history and search attributes. Temporal
   unreachable: a 503 and nothing erased in the database; a retry does it all (what was
   deleted stays deleted).
2. Then one transaction scrubs the database (db/erasure_scrub.py) and records the erasure
   (who, when, counts).

A second DELETE finds no recipient by that external id (a 404): the erasure is done, and
keeping the id to recognise it would keep personal data."""

import logging
import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.schemas.erasure import ErasurePublic
from db import erasure as store
from db.erasure_scrub import scrub
from domain import status_webhooks
from domain.tenants import TenantIdentity
from services.errors import NotFound
from temporal_clients import erasure as temporal
from temporal_clients.bookings import booking_workflow_id
from temporal_clients.inbox_snooze import snooze_workflow_id

log = logging.getLogger("herald.erasure")


def by_api_key(key_id: uuid.UUID) -> str:
    """Who asked, as the erasure records it: the API key (never the key itself)."""
    return f"api_key:{key_id}"


async def erase_recipient(
    session: AsyncSession,
    client: Client,
    tenant: TenantIdentity,
    external_id: str,
    requested_by: str,
) -> ErasurePublic:
    requested_at = datetime.now(UTC)
    async with session.begin():
        found = await store.footprint(session, tenant.id, external_id)
    if found is None:
        raise NotFound(f"recipient {external_id!r} not found")
    await session.close()  # no connection held while Temporal works
    ended = await _end_workflows(client, found)
    async with session.begin():
        current = await store.footprint(session, tenant.id, external_id, lock=True)
        if current is None:  # another request erased them meanwhile
            raise NotFound(f"recipient {external_id!r} not found")
        removed = await scrub(session, current)
        erasure = await store.record_erasure(
            session,
            tenant.id,
            current.recipient_id,
            requested_by,
            requested_at,
            {kind: removed.get(kind, 0) + ended.get(kind, 0) for kind in removed | ended},
        )
    await _end_late_workflows(client, set(_workflow_ids(current)) - set(_workflow_ids(found)))
    return ErasurePublic.model_validate(erasure, from_attributes=True)


def _workflow_ids(found: store.Footprint) -> list[str]:
    """The notifications' own workflows (a broadcast's is the broadcast's: it is kept)."""
    return [n.workflow_id for n in found.notifications if not n.in_broadcast]


async def _end_workflows(client: Client, found: store.Footprint) -> dict[str, int]:
    t, r, external_id = found.tenant_id, found.recipient_id, found.external_id
    # What starts notifications for them first, so none starts behind the cancellations.
    schedules = await temporal.delete_agenda_schedule(client, t, external_id)
    sources = await temporal.delete_workflows(
        client,
        [
            *found.booking_workflow_ids,
            *(booking_workflow_id(t, booking) for booking in found.booking_ids),
            *(snooze_workflow_id(message) for message in found.snoozed_messages),
        ],
        prefixes=[temporal.digests_prefix(t, r)],
        queries=[
            temporal.organizer_chains_query(t, external_id),
            temporal.agenda_runs_query(t, external_id),
            # Other organizers' agendas that listed one of their bookings.
            *(temporal.agenda_runs_query(t, o, found.bookings_since) for o in found.organizers),
        ],
    )
    own = [n for n in found.notifications if not n.in_broadcast]
    cancelled = await temporal.cancel_notifications(
        client, [n.workflow_id for n in own if n.unfinished]
    )
    notifications = await temporal.delete_workflows(
        client,
        _workflow_ids(found),
        prefixes=[status_webhooks.workflow_id(m) for m in found.webhook_messages],
    )
    return {
        "notifications_cancelled": cancelled,
        "agenda_schedules": schedules,
        "workflow_runs": sources + notifications,
    }


async def _end_late_workflows(client: Client, workflow_ids: set[str]) -> None:
    """Notifications that arrived while the erasure ran (the database has them scrubbed and
    cancelled): their workflows go too, if Temporal can be reached."""
    if not workflow_ids:
        return
    try:
        await temporal.delete_workflows(client, workflow_ids)
    except RPCError as exc:
        log.warning("%d late workflows of an erasure not deleted: %s", len(workflow_ids), exc)
