"""The status webhook workflow's activities (workflows/status_webhook.py): one attempt of a
message, and the judgement of its endpoint once it failed for good (services/status_webhooks.py).
"""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.bookkeeping import bookkeeping_step
from config.settings import Settings
from domain.status_webhooks import AttemptOutcome, FailedStatusWebhook, StatusWebhookAttempt
from services import status_webhooks


class StatusWebhookActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings):
        self._sessions = sessions
        self._settings = settings
        self._sender = status_webhooks.StatusWebhookSender(
            sessions,
            settings,
            # No proxy from the environment: the address checked is the address called.
            httpx.AsyncClient(timeout=settings.status_webhook_timeout_seconds, trust_env=False),
        )

    @activity.defn(name="attempt_status_webhook")
    @bookkeeping_step
    async def attempt_status_webhook(self, attempt: StatusWebhookAttempt) -> AttemptOutcome:
        """POST the message once and record the attempt. The receiver's answer, or its silence,
        is the outcome (never raised): the workflow's schedule decides what follows. Only the
        database failing raises, to be retried."""
        return await self._sender.attempt(attempt)

    @activity.defn(name="judge_failing_endpoint")
    @bookkeeping_step
    async def judge_failing_endpoint(self, failed: FailedStatusWebhook) -> bool:
        """Disable the message's endpoint, with an alert, if it has been failing for long."""
        return await status_webhooks.judge_failing_endpoint(self._sessions, self._settings, failed)

    async def close(self) -> None:
        await self._sender.client.aclose()
