"""Status webhook messages: one attempt of a message (its workflow's activity), the judgement of
an endpoint whose message failed for good, and a failed or delivered message replayed.

An attempt reads the message and its endpoint, builds the payload from the subject's current
state (domain/status_webhooks.py), signs it per Standard Webhooks with the endpoint's secret
(and a rotation's previous one during its overlap), POSTs it through the SSRF guard
(channels/safe_http.guarded_post), and records the attempt: its status code, the start of the
answer's body or the error, its duration. Nothing is sent for a message that is no longer
pending or whose endpoint is disabled or deleted.
"""

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError

from api.schemas.webhook_replay import WebhookReplayStarted
from channels.base import SendError
from channels.safe_http import guarded_post
from channels.webhook import USER_AGENT
from config.settings import Settings
from db import status_webhooks as store
from db.maintenance import open_alert
from db.session import autocommit
from db.status_webhook_subjects import subject_state
from db.webhook_endpoints import signing_target
from domain import standard_webhooks
from domain.maintenance import hour_of
from domain.status_webhooks import (
    RESPONSE_BODY_CHARS,
    AttemptOutcome,
    FailedStatusWebhook,
    StatusWebhookAttempt,
    delivered,
    payload,
    replay_number,
    should_disable,
    subject_data,
    subject_of,
    workflow_id,
)
from domain.tenants import TenantIdentity
from services.errors import Conflict, NotFound, Unavailable
from services.webhook_endpoints import open_secrets
from temporal_clients.status_webhooks import start_status_webhook

log = logging.getLogger("herald.status_webhooks")

ALERT_SCOPE = "webhook"  # failure_alerts.scope: an endpoint disabled for failing (subject: its id)
ENDPOINT_DISABLED = "not sent: the endpoint is disabled"


@dataclass
class StatusWebhookSender:
    """What attempts share: the sessions, the settings, one HTTP client (no proxy from the
    environment: the address checked is the address called)."""

    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    client: httpx.AsyncClient

    async def attempt(self, attempt: StatusWebhookAttempt) -> AttemptOutcome:
        async with autocommit(self.sessions) as session:
            message = await store.message_to_send(session, attempt.tenant_id, attempt.message_id)
            if message is None or message.status != store.PENDING:
                return AttemptOutcome.STOPPED  # the endpoint was deleted, or the message ended
            endpoint = await signing_target(session, message.endpoint_id)
            if endpoint is None:
                return AttemptOutcome.STOPPED
            subject = subject_of(message.event_type)
            state = await subject_state(session, subject, message.subject_id, attempt.tenant_id)
        if not endpoint.enabled:
            await self._record(attempt, endpoint.id, _not_sent(ENDPOINT_DISABLED), store.FAILED)
            return AttemptOutcome.STOPPED
        try:
            secrets = open_secrets(self.settings, endpoint)
        except Unavailable as exc:  # Herald's fault (SECRET_KEY), not the endpoint's: not sent
            await self._record(attempt, endpoint.id, _not_sent(exc.message), _after(attempt))
            return AttemptOutcome.FAILED
        sent = payload(
            message.event_type,
            subject_data(subject, state, message.subject_id),
            datetime.now(UTC),
        )
        record = await self._post(endpoint.url, secrets, attempt.message_id, sent)
        if delivered(record.status_code):
            await self._record(attempt, endpoint.id, record, store.DELIVERED)
            return AttemptOutcome.DELIVERED
        await self._record(attempt, endpoint.id, record, _after(attempt))
        return AttemptOutcome.FAILED

    async def _post(
        self, url: str, secrets: list[str], message_id: uuid.UUID, sent: dict[str, Any]
    ) -> store.AttemptRecord:
        body = json.dumps(sent, separators=(",", ":"), ensure_ascii=False).encode()
        signed = standard_webhooks.headers(
            secrets[0], str(message_id), int(time.time()), body, *secrets[1:]
        )
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **signed}
        started = time.monotonic()
        code, answer, error = None, None, None
        try:
            response = await guarded_post(
                self.client,
                url,
                allow_private=self.settings.webhook_allow_private_addresses,
                headers=headers,
                content=body,
            )
            code, answer = response.status_code, response.text[:RESPONSE_BODY_CHARS]
        except httpx.TimeoutException as exc:
            error = f"timed out: {_described(exc)}"
        except httpx.TransportError as exc:  # refused, reset, TLS, protocol
            error = f"unreachable: {_described(exc)}"
        except SendError as exc:  # a private address refused, or a name that does not resolve
            error = exc.message
        except (httpx.InvalidURL, ValueError) as exc:
            error = f"the URL cannot be called: {exc}"
        duration = round((time.monotonic() - started) * 1000)
        return store.AttemptRecord(sent, code, answer, error, duration)

    async def _record(
        self,
        attempt: StatusWebhookAttempt,
        endpoint_id: uuid.UUID,
        record: store.AttemptRecord,
        status: str,
    ) -> None:
        async with self.sessions.begin() as session:
            await store.record_attempt(
                session,
                attempt.message_id,
                endpoint_id,
                record,
                status,
                attempt.next_attempt_in_seconds,
                counted=record.payload is not None,
            )


def _after(attempt: StatusWebhookAttempt) -> str:
    """A failed attempt leaves the message pending, unless it was the last."""
    return store.FAILED if attempt.next_attempt_in_seconds is None else store.PENDING


def _not_sent(why: str) -> store.AttemptRecord:
    return store.AttemptRecord(None, None, None, why, 0)


def _described(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


async def judge_failing_endpoint(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, failed: FailedStatusWebhook
) -> bool:
    """After a message failed for good: disable its endpoint, with an alert (failure_alerts,
    scope "webhook", the tenant's alerts list) and a log line, when should_disable says so.
    True when it was disabled now."""
    disable_after = timedelta(hours=settings.status_webhook_disable_after_hours)
    async with sessions.begin() as session:
        endpoint = await store.endpoint_of_message(session, failed.tenant_id, failed.message_id)
        if endpoint is None or not endpoint.enabled:
            return False
        since = endpoint.failing_since
        if since is None or not should_disable(since, endpoint.now, disable_after):
            return False
        total, failures = await store.messages_since(session, endpoint.id, since)
        reason = (
            f"disabled by Herald: nothing delivered since {since:%Y-%m-%d %H:%M} UTC "
            f"({failures} of {total} messages failed); enable it again once it answers"
        )
        await store.disable_endpoint(session, endpoint.id, reason)
        await open_alert(
            session,
            dict(
                tenant_id=endpoint.tenant_id,
                scope=ALERT_SCOPE,
                subject=str(endpoint.id),
                window_start=hour_of(endpoint.now),
                total=max(total, 1),
                failed=failures,
                rate=failures / max(total, 1),
            ),
        )
    log.warning(  # the host only: a URL's path may be a secret of the receiver's
        "status webhook endpoint %s of tenant %s (%s) %s",
        endpoint.id,
        endpoint.tenant_id,
        urlsplit(endpoint.url).hostname,
        reason,
    )
    return True


async def replay_message(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    endpoint_id: uuid.UUID,
    message_id: uuid.UUID,
) -> WebhookReplayStarted:
    """Send a delivered or failed message again: same webhook-id, a fresh schedule, under the
    workflow id of its next replay. Committed first; then its workflow is started, or, with
    Temporal unreachable, left to the dispatcher's sweep (within a minute or two)."""
    async with session.begin():
        message = await store.message_for_replay(session, tenant.id, endpoint_id, message_id)
        if message is None:
            raise NotFound(f"the endpoint has no message {message_id}")
        if message.status == store.PENDING:
            raise Conflict("the message is still being delivered: replay it once it has ended")
        if not message.endpoint_enabled:
            raise Conflict("the endpoint is disabled: enable it (PATCH) before replaying")
        replay = replay_number(message.workflow_id) + 1
        replay_id = workflow_id(message_id, replay)
        await store.reopen_message(session, message_id, replay_id)
    try:
        await start_status_webhook(temporal, settings, message_id, tenant.id, replay_id)
    except RPCError as exc:
        log.warning("replay of %s not started now (%s): the sweep starts it", message_id, exc)
    return WebhookReplayStarted(
        message_id=message_id, endpoint_id=endpoint_id, status="pending", replay=replay
    )
