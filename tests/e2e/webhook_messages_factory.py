"""A status webhook message and its attempts, written directly as the delivery (the outbox's
workflows) writes them: for tests of what the API shows of them."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from db.integration_models import WebhookAttempt, WebhookMessage


async def add_message(
    sessions,
    tenant_id: uuid.UUID,
    endpoint_id: str,
    created_at: datetime,
    status: str = "delivered",
    attempts: Sequence[dict[str, Any]] = (),
) -> str:
    """The new message's id: a `delivery.failed` event with `attempts` (WebhookAttempt's
    fields), the endpoint's own and its tenant's."""
    message_id = uuid.uuid4()
    async with sessions.begin() as session:
        session.add(
            WebhookMessage(
                id=message_id,
                tenant_id=tenant_id,
                endpoint_id=uuid.UUID(endpoint_id),
                event_type="delivery.failed",
                subject_id=uuid.uuid4(),
                payload={"type": "delivery.failed", "data": {"n": created_at.isoformat()}},
                status=status,
                attempts=len(attempts),
                next_attempt_at=created_at + timedelta(minutes=5) if status == "pending" else None,
                workflow_id=f"status-webhook-{message_id}",
                created_at=created_at,
                delivered_at=created_at + timedelta(seconds=1) if status == "delivered" else None,
            )
        )
        await session.flush()
        session.add_all(WebhookAttempt(message_id=message_id, **a) for a in attempts)
    return str(message_id)
