"""The status webhook dispatcher: hands each event of `webhook_outbox` to one delivery workflow
per subscribed endpoint. It runs in every process that serves the default lane
(bootstrap.build_worker); several at once share the work.

- Events are written to the outbox by migration 0023's triggers, in the transaction of the
  status change they report, which also NOTIFYs OUTBOX_CHANNEL: the dispatcher LISTENs and
  wakes at once; it also looks every POLL_SECONDS, should a notification be missed (its
  connection lost, say).
- Claiming is one transaction: up to CLAIM_BATCH events deleted (FOR UPDATE SKIP LOCKED, so two
  dispatchers never take the same one) and one pending message written per enabled endpoint
  subscribed to the event, under an id derived from the event and the endpoint (the message's
  `webhook-id`). Only after the commit are their workflows started, each under the id the
  message records: no event is lost (a crash before the commit leaves the events in the
  outbox) and none is sent twice to an endpoint (one message, one workflow id).
- A crash between the commit and the starts leaves messages pending with no workflow: the
  sweep, every SWEEP_SECONDS, starts the workflow of each pending message whose attempt is
  overdue by OVERDUE_AFTER. A run that is going (a busy worker) is left alone; one that ended
  abnormally is started again, on a fresh schedule (temporal_clients/status_webhooks.py). A
  replay whose start failed (Temporal unreachable) is caught the same way.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from config.settings import Settings
from db import status_webhooks as store
from db.listener import keep_listening
from db.session import autocommit
from domain.status_webhooks import message_id, subscribes, workflow_id
from temporal_clients.status_webhooks import start_status_webhook

log = logging.getLogger("herald.status_webhooks")

POLL_SECONDS = 5.0
CLAIM_BATCH = 100
SWEEP_SECONDS = 60.0
OVERDUE_AFTER = timedelta(minutes=1)
SWEEP_LIMIT = 200
STARTS_AT_ONCE = 20  # workflow starts in flight together


class StatusWebhookDispatcher:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], temporal: Client, settings: Settings
    ):
        self._sessions = sessions
        self._temporal = temporal
        self._settings = settings
        self._wake = asyncio.Event()

    async def dispatch(self) -> int:
        """Claim the outbox's events, batch after batch, until it is empty; start the workflows
        of their messages. Returns how many messages were made."""
        made = 0
        while True:
            async with self._sessions.begin() as session:
                events = await store.claim_outbox(session, CLAIM_BATCH)
                endpoints = await store.enabled_endpoints(session, {e.tenant_id for e in events})
                messages = await store.add_messages(session, _messages(events, endpoints))
            await self._start(messages)
            made += len(messages)
            if len(events) < CLAIM_BATCH:
                return made

    async def sweep(self) -> int:
        """Start the workflows of pending messages that are overdue (see the module's doc);
        returns how many were looked at."""
        async with autocommit(self._sessions) as session:
            overdue = await store.overdue_messages(session, OVERDUE_AFTER, SWEEP_LIMIT)
        await self._start(overdue)
        return len(overdue)

    async def _start(self, messages: list[store.PendingMessage]) -> None:
        slots = asyncio.Semaphore(STARTS_AT_ONCE)

        async def start(message: store.PendingMessage) -> None:
            async with slots:
                try:
                    await start_status_webhook(
                        self._temporal,
                        self._settings,
                        message.id,
                        message.tenant_id,
                        message.workflow_id,
                    )
                except Exception as error:  # the sweep starts it later
                    log.warning("status webhook %s not started: %s", message.id, error)

        await asyncio.gather(*(start(message) for message in messages))

    async def _dispatching(self) -> None:
        """Forever: dispatch, sweep when due, wait for a notification or the next poll."""
        swept_at = -SWEEP_SECONDS
        while True:
            self._wake.clear()
            try:
                await self.dispatch()
                if time.monotonic() - swept_at >= SWEEP_SECONDS:
                    swept_at = time.monotonic()
                    await self.sweep()
            except Exception as error:  # the database away: the next round tries again
                log.warning("status webhook dispatcher: %s", error)
            with suppress(TimeoutError):
                # Not asyncio.wait_for: in Python 3.11 it swallows a cancel that arrives as the
                # wake-up does (CPython gh-86296), and the loop then outlives its stop.
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()

    @asynccontextmanager
    async def running(self) -> AsyncIterator["StatusWebhookDispatcher"]:
        tasks = [
            # Woken per notification, and on each (re)connection for what was written while
            # it was down.
            asyncio.create_task(
                keep_listening(
                    self._settings.database_url,
                    store.OUTBOX_CHANNEL,
                    "herald-webhook-dispatcher",
                    lambda _: self._wake.set(),
                ),
                name="status-webhook-listener",
            ),
            asyncio.create_task(self._dispatching(), name="status-webhook-dispatcher"),
        ]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task


def _messages(
    events: list[store.OutboxEvent], endpoints: list[store.Subscriber]
) -> list[dict[str, object]]:
    """One message per event and enabled endpoint of its tenant subscribed to its type."""
    messages = []
    for event in events:
        for endpoint in endpoints:
            if endpoint.tenant_id != event.tenant_id:
                continue
            if not subscribes(endpoint.event_types, event.event_type):
                continue
            made = message_id(event.id, endpoint.id)
            messages.append(
                {
                    "id": made,
                    "tenant_id": event.tenant_id,
                    "endpoint_id": endpoint.id,
                    "event_type": event.event_type,
                    "subject_id": event.subject_id,
                    "workflow_id": workflow_id(made),
                }
            )
    return messages
