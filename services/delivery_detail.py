"""One delivery as the dashboard's History shows it: its timeline from Herald's records and
from its workflow's history in Temporal, what it said, and where its workflow is in Temporal's
Web UI. Herald's records are read first and stand on their own: Temporal down, slow, or past
its retention leaves the page whole, with a word about the part it could not add."""

import uuid
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.content import render_message
from config.settings import Settings
from db.deliveries import NotificationRow, RecipientRow
from db.history import DeliveryRecord, delivery_record
from domain.chat import shown_address
from domain.delivery_timeline import DeliveryFacts, TimelineEntry, herald_timeline, in_time_order
from domain.templating.context import TEMPLATE_VERSION_KEY
from domain.types import Channel
from services.errors import NotFound
from services.resend import RESENDABLE
from temporal_clients.notifications import resend_workflow_id
from temporal_clients.workflow_history import WorkflowHistory, read_history


@dataclass(frozen=True)
class Content:
    """What the delivery said, or why it cannot be shown."""

    subject: str | None = None
    text: str | None = None
    html: str | None = None
    note: str = ""  # how it was obtained
    problem: str | None = None  # it could not be rendered: why


@dataclass(frozen=True)
class DeliveryView:
    record: DeliveryRecord
    timeline: list[TimelineEntry]  # Herald's records and the workflow's history, in time order
    workflow: WorkflowHistory
    workflow_id: str
    workflow_url: str  # the workflow in Temporal's Web UI
    content: Content
    resendable: bool


async def delivery_view(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> DeliveryView:
    async with session.begin():
        record = await _record(session, tenant_id, delivery_id)
        content = await rendered_content(session, record)
    # The connection is back in the pool before Temporal is asked (it may take seconds).
    workflow_id = delivery_workflow_id(record)
    history = await read_history(temporal, workflow_id)
    delivery = record.delivery
    return DeliveryView(
        record,
        in_time_order(herald_timeline(facts_of(record)) + history.entries),
        history,
        workflow_id,
        web_ui_url(settings, workflow_id, history.run_id),
        content,
        resendable=delivery.status in RESENDABLE and not record.resent_as,
    )


async def delivery_html(session: AsyncSession, tenant_id: uuid.UUID, delivery_id: uuid.UUID) -> str:
    """The email's HTML, rendered again (for its sandboxed frame)."""
    async with session.begin():
        record = await _record(session, tenant_id, delivery_id)
        content = await rendered_content(session, record)
    if content.html is None:
        raise NotFound(f"delivery {delivery_id} has no HTML to show")
    return content.html


async def _record(
    session: AsyncSession, tenant_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRecord:
    record = await delivery_record(session, tenant_id, delivery_id)
    if record is None:
        raise NotFound(f"delivery {delivery_id} not found")
    return record


def delivery_workflow_id(record: DeliveryRecord) -> str:
    """A resend runs in a workflow of its own; any other delivery in its notification's."""
    if record.delivery.resent_from_id is not None:
        return resend_workflow_id(record.delivery.id)
    return record.notification.workflow_id


def web_ui_url(settings: Settings, workflow_id: str, run_id: str | None) -> str:
    """The workflow in Temporal's Web UI: its run when known, else a search for its id."""
    base = f"{settings.temporal_ui_url.rstrip('/')}/namespaces/"
    base += quote(settings.temporal_namespace, safe="")
    if run_id:
        return f"{base}/workflows/{quote(workflow_id, safe='')}/{quote(run_id, safe='')}/history"
    return f"{base}/workflows?query=" + quote(f'WorkflowId="{workflow_id}"', safe="")


def facts_of(record: DeliveryRecord) -> DeliveryFacts:
    delivery, in_app = record.delivery, record.in_app
    return DeliveryFacts(
        notification_created_at=record.notification.created_at,
        send_at=record.notification.send_at,
        channel=delivery.channel,
        status=delivery.status,
        status_reason=delivery.status_reason,
        provider=delivery.provider,
        provider_message_id=delivery.provider_message_id,
        address=shown_address(delivery.address),
        error=delivery.error,
        retry_count=delivery.retry_count,
        deferred_until=delivery.deferred_until,
        sent_at=delivery.sent_at,
        delivered_at=delivery.delivered_at,
        opened_at=delivery.opened_at,
        clicked_at=delivery.clicked_at,
        failed_at=delivery.failed_at,
        provider_response=delivery.provider_response,
        failover_log=delivery.failover_log,
        created_at=delivery.created_at,
        updated_at=delivery.updated_at,
        resent_from_id=delivery.resent_from_id,
        resent_as=record.resent_as,
        read_at=in_app.read_at if in_app else None,
        archived_at=in_app.archived_at if in_app else None,
    )


async def rendered_content(session: AsyncSession, record: DeliveryRecord) -> Content:
    """An in-app message as stored; anything else rendered again as the send renders it
    (activities/content.py), from the template version it recorded and the notification's
    context: Herald keeps no message bodies."""
    if record.in_app is not None:
        message = record.in_app
        return Content(message.title, message.body, note="The in-app message as stored.")
    delivery, notification, recipient = record.delivery, record.notification, record.recipient
    context = dict(notification.context or {})
    if delivery.template_version_id is not None:
        context[TEMPLATE_VERSION_KEY] = str(delivery.template_version_id)
        note = (
            f"Rendered again from template version {delivery.template_version_id}, which it was "
            "sent with, and the notification's context."
        )
    else:
        note = "Rendered with the template this delivery would use now and its context."
    note += " Links made for each send (unsubscribe, sign-in links) are not kept, so not shown."
    try:
        content = await render_message(
            session,
            delivery.tenant_id,
            delivery.channel,
            NotificationRow(
                id=notification.id,
                tenant_id=notification.tenant_id,
                event_key=notification.event_key,
                priority=notification.priority,
                channels=notification.channels,
                context=context,
                send_at=notification.send_at,
            ),
            RecipientRow(
                id=recipient.id,
                external_id=recipient.external_id,
                name=recipient.name,
                email=notification.recipient_email or recipient.email,
                phone=notification.recipient_phone or recipient.phone,
                timezone=recipient.timezone,
                locale=recipient.locale,
                preference_overrides=recipient.preference_overrides,
            ),
        )
    except ApplicationError as refused:  # what made the send fail, if it did
        return Content(note=note, problem=str(refused))
    subject = content.subject if delivery.channel != Channel.SMS else None
    return Content(subject, content.text, content.html, note)
