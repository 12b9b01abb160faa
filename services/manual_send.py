"""The dashboard's Send page: a notification sent by hand. The operator picks an event (and
maybe one of the tenant's templates for it) and a recipient, fills in the context the event's
variables make up, previews it with the preview service, and sends it now or at a time: as the
API submits one (services/notifications.py, so services/new_notifications.py accepts it), with
the same refusals, and recorded in the audit log."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.schemas.notifications import NotificationAccepted, NotificationCreate
from api.schemas.templates import PreviewResult
from config.settings import Settings
from db import templates as store
from db.recipient_search import RecipientMatch, search_recipients
from db.template_models import NotificationTemplate
from domain.filters import TemplateFilter
from domain.operators import Operator
from domain.templating.context import TEMPLATE_VERSION_KEY
from domain.templating.variables import (
    AGENDA_EVENTS,
    BOOKING_EVENTS,
    PAYMENT_EVENTS,
    variables_for,
)
from domain.tenants import TenantIdentity
from domain.types import Channel
from services import audit, template_preview
from services.errors import Invalid, Unavailable, invalid_field
from services.notifications import submit_notification

RECIPIENTS_SHOWN = 10
TEMPLATES_READ = 200  # the tenant's templates the page offers, at most
# Variables Herald fills in itself when it sends: nothing to type.
FILLED_BY_HERALD = {"recipient_name", "recipient_email", "unsubscribe_url"}


@dataclass(frozen=True)
class TemplateChoice:
    id: uuid.UUID
    name: str
    event_key: str
    channel: str
    locale: str
    is_default: bool
    required: list[str]
    version_id: uuid.UUID


@dataclass(frozen=True)
class ContextField:
    name: str
    description: str
    example: Any
    required: bool  # the chosen template cannot render without it
    as_json: bool  # a list or an object: typed as JSON


@dataclass(frozen=True)
class MessageFields:
    """What the form offers for an event: its templates, the one chosen, the context fields."""

    event_key: str
    templates: list[TemplateChoice]
    chosen: TemplateChoice | None
    fields: list[ContextField] = field(default_factory=list)


async def event_keys(session: AsyncSession, tenant_id: uuid.UUID) -> list[str]:
    """The events Herald knows, and those the tenant has templates for."""
    own = {choice.event_key for choice in await _templates(session, tenant_id)}
    return sorted({*BOOKING_EVENTS, *PAYMENT_EVENTS, *AGENDA_EVENTS, *own})


async def message_fields(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    event_key: str | None,
    template_id: uuid.UUID | None,
    chosen_default: bool = True,
) -> MessageFields | None:
    """The event's templates and context fields (None without an event). Without a template
    named, the event's default template is chosen unless `chosen_default` is False (the
    operator chose "each channel's own")."""
    if not event_key:
        return None
    templates = [c for c in await _templates(session, tenant_id) if c.event_key == event_key]
    chosen = next((c for c in templates if c.id == template_id), None)
    if chosen is None and template_id is None and chosen_default:
        chosen = next((c for c in templates if c.is_default), None)
    return MessageFields(event_key, templates, chosen, context_fields(event_key, chosen))


def context_fields(event_key: str, template: TemplateChoice | None) -> list[ContextField]:
    """A field per variable of the event (the template's required ones first, marked), and per
    required placeholder the catalogue does not know."""
    required = set(template.required if template else ())
    known = [
        variable
        for variable in variables_for(event_key)
        if not variable.name.endswith("<key>") and variable.name not in FILLED_BY_HERALD
    ]
    fields = [
        ContextField(
            v.name,
            v.description,
            v.example,
            v.name in required,
            isinstance(v.example, dict | list),
        )
        for v in known
    ]
    names = {f.name for f in fields}
    fields += [
        ContextField(name, "A placeholder of the template", "", True, False)
        for name in sorted(required - names)
    ]
    return sorted(fields, key=lambda f: not f.required)  # stable: the catalogue's order within


async def _templates(session: AsyncSession, tenant_id: uuid.UUID) -> list[TemplateChoice]:
    found = await store.list_templates(
        session, tenant_id, TemplateFilter(active=True), None, TEMPLATES_READ
    )
    return sorted(
        (_choice(template) for template in found if template.owner_id is None),
        key=lambda c: (c.event_key, not c.is_default, c.channel, c.name.lower()),
    )


def _choice(template: NotificationTemplate) -> TemplateChoice:
    return TemplateChoice(
        template.id,
        template.name,
        template.event_key,
        template.channel,
        template.locale,
        template.is_default,
        list(template.required_placeholders or []),
        template.current_version_id,
    )


async def find_recipients(
    session: AsyncSession, tenant_id: uuid.UUID, typed: str
) -> list[RecipientMatch]:
    """The recipients the operator's typing finds (db/recipient_search.py)."""
    return await search_recipients(session, tenant_id, typed, RECIPIENTS_SHOWN)


@dataclass(frozen=True)
class ManualSend:
    """A send as the form asks it: the API's request, the template chosen (if any) and the
    form's idempotency key (a form sent twice sends once)."""

    request: NotificationCreate
    template_id: uuid.UUID | None
    idempotency_key: str


async def preview(
    session: AsyncSession,
    settings: Settings,
    tenant_id: uuid.UUID,
    template_id: uuid.UUID,
    context: dict[str, Any],
) -> PreviewResult:
    """The template rendered with the context (the preview service)."""
    return await template_preview.preview(
        session,
        TenantIdentity(id=tenant_id, name=""),
        template_id,
        context,
        settings.sms_max_segments,
    )


async def send(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    operator: Operator,
    send: ManualSend,
) -> NotificationAccepted:
    """Submit the notification as the API does; with a template chosen, on its channel and
    pinned to its current version. Recorded in the audit log once accepted (accepting commits
    on its own)."""
    request = send.request
    if send.template_id is not None:
        request = await _with_template(session, operator.tenant_id, send.template_id, request)
    tenant = TenantIdentity(id=operator.tenant_id, name="")
    try:
        accepted = await submit_notification(
            session, temporal, settings, tenant, request, send.idempotency_key
        )
    except RPCError as error:  # stored: sending the same form again starts it
        raise Unavailable(
            f"Temporal could not be reached ({error.message}): send again in a moment"
        ) from None
    if not accepted.replayed:
        async with session.begin():
            await audit.record(
                session,
                operator,
                "notification.send",
                f"notification {accepted.id}",
                {
                    "event_key": request.event_key,
                    "recipient": request.recipient.external_id,
                    "channels": request.channels,
                    "template_id": str(send.template_id) if send.template_id else None,
                    "send_at": request.send_at.isoformat() if request.send_at else None,
                },
            )
    return accepted


async def _with_template(
    session: AsyncSession, tenant_id: uuid.UUID, template_id: uuid.UUID, request: NotificationCreate
) -> NotificationCreate:
    async with session.begin():
        template = await store.get_template(session, tenant_id, template_id)
    if template is None or not template.is_active:
        raise invalid_field("template_id", "is not one of your active templates")
    if template.event_key != request.event_key:
        raise invalid_field("template_id", f"is a template of {template.event_key}")
    missing = [name for name in template.required_placeholders or [] if name not in request.context]
    if missing:
        raise Invalid(
            "context: missing required placeholders: " + ", ".join(missing),
            "context",
            problems=[(f"context.{name}", "is required by the template") for name in missing],
        )
    context = request.context | {TEMPLATE_VERSION_KEY: str(template.current_version_id)}
    return request.model_copy(update={"channels": [Channel(template.channel)], "context": context})
