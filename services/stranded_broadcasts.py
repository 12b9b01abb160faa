"""The sweep of stranded broadcasts (a maintenance Schedule, every BROADCAST_SWEEP_MINUTES).

POST /v1/broadcasts stores the broadcast, then starts its workflow. When Temporal cannot be
reached the client gets a 503 and the row stays: a retry with the same Idempotency-Key starts
it, but a request without one (Herald drew the key) is never retried, and the broadcast would
read "running" forever with nothing to run it. The sweep finds such broadcasts (due, never
started, old enough that their request has ended) and starts their workflows; a broadcast whose
workflow exists (queued behind others, say) is left alone."""

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from config.settings import Settings
from db.broadcast_store import unstarted_broadcasts
from domain.maintenance import StrandedBroadcastsInput, StrandedBroadcastsResult
from services.broadcasts import broadcast_start
from temporal_clients.broadcasts import start_missing_broadcast

log = logging.getLogger("herald.broadcasts")


async def restart_stranded_broadcasts(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    settings: Settings,
    input: StrandedBroadcastsInput,
    now: datetime,
) -> StrandedBroadcastsResult:
    async with sessions() as session:  # closed before Temporal is called
        candidates = await unstarted_broadcasts(
            session, now - timedelta(seconds=input.min_age_seconds), now, input.limit
        )
    result = StrandedBroadcastsResult()
    for broadcast in candidates:
        found = await start_missing_broadcast(temporal, settings, broadcast_start(broadcast))
        if found == "started":
            result.restarted.append(broadcast.id)
        elif found == "running":
            result.running.append(broadcast.id)
        else:
            result.ended.append(broadcast.id)
    if result.restarted:
        log.info("started the workflows of stranded broadcasts %s", _ids(result.restarted))
    if result.ended:
        log.warning(
            "broadcasts %s are unfinished but their workflows ended (terminated?): "
            "not started again",
            _ids(result.ended),
        )
    return result


def _ids(ids: list[uuid.UUID]) -> str:
    return ", ".join(str(i) for i in ids)
