"""Deliveries inserted with exact statuses, times, channels, providers and templates, for the
tests of what is counted from them (GET /v1/stats, the dashboard's Analytics)."""

import hashlib
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert

from db.models import Delivery, Notification, Recipient
from db.template_models import NotificationTemplate, TemplateVersion

# (created_at, channel, provider, event_key, template (a name of `templates`) or None,
#  {status: how many})
Batch = tuple[datetime, str, str | None, str, str | None, dict[str, int]]


async def add_template(
    session, tenant_id: uuid.UUID, name: str, event_key: str = "booking.confirmation"
) -> tuple[uuid.UUID, uuid.UUID]:
    """An email template and its one version; their ids."""
    template_id, version_id = uuid.uuid4(), uuid.uuid4()
    common = dict(name=name, locale="en", subject="s", text_body="t")
    await session.execute(
        insert(NotificationTemplate).values(
            id=template_id,
            tenant_id=tenant_id,
            event_key=event_key,
            channel="email",
            current_version_id=version_id,
            **common,
        )
    )
    await session.execute(
        insert(TemplateVersion).values(id=version_id, template_id=template_id, version=1, **common)
    )
    return template_id, version_id


async def add_deliveries(
    session,
    tenant_id: uuid.UUID,
    batches: Iterable[Batch],
    versions: dict[str, uuid.UUID],
) -> None:
    """Each batch's deliveries, each of a notification of its own to one recipient;
    `versions`: the template version of each template name the batches use."""
    recipient_id = uuid.uuid4()
    await session.execute(
        insert(Recipient).values(
            id=recipient_id, tenant_id=tenant_id, external_id=f"stats-{recipient_id.hex[:8]}"
        )
    )
    for created_at, channel, provider, event_key, template, counts in batches:
        for status, how_many in counts.items():
            for _ in range(how_many):
                notification_id = uuid.uuid4()
                await session.execute(
                    insert(Notification).values(
                        id=notification_id,
                        tenant_id=tenant_id,
                        recipient_id=recipient_id,
                        event_key=event_key,
                        priority="normal",
                        context={},
                        idempotency_key=str(notification_id),
                        request_digest=hashlib.sha256(b"").digest(),
                        workflow_id=f"wf-{notification_id}",
                        status="sent",
                        created_at=created_at,
                    )
                )
                await session.execute(
                    insert(Delivery).values(
                        id=uuid.uuid4(),
                        tenant_id=tenant_id,
                        notification_id=notification_id,
                        channel=channel,
                        provider=provider,
                        status=status,
                        created_at=created_at,
                        template_version_id=versions[template] if template else None,
                    )
                )
