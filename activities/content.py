"""What each channel says: the tenant's template (or Herald's) rendered with the context.

Context keys with a meaning here (besides the template variables):
- `owner_id`: the organizer whose own templates win over the tenant's;
- `unsubscribe_url`: also sent as the email's List-Unsubscribe header, and shown in a footer
  when the layout and template leave it out (domain/unsubscribe_footer.py);
- `_template_version_id`: render exactly this version (test sends), whatever is active;
- `_test`: a test send; the subject (SMS: the text) starts with "[TEST] ".
"""

import textwrap
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from db.deliveries import DeliveryJob, NotificationRow, RecipientRow
from db.template_lookup import SendTemplates, StoredTemplate, send_candidates, send_version
from domain.send_failures import SendFailure
from domain.templating import (
    DEFAULT_EMAIL_LAYOUT,
    MissingPlaceholdersError,
    Rendered,
    RenderedChat,
    RenderedEmail,
    RenderedPush,
    RenderedSms,
    TemplateError,
    TemplateRenderer,
    TemplateSource,
    choose_template,
    notification_variables,
    shipped_template,
)
from domain.templating.context import OWNER_KEY, TEMPLATE_VERSION_KEY, TEST_SEND_KEY
from domain.templating.defaults import DEFAULT_LOCALE
from domain.templating.render_thread import in_render_thread
from domain.unsubscribe_footer import with_unsubscribe_link

TEST_PREFIX = "[TEST] "
LOG_SUBJECT_CHARS = 120  # an SMS has no subject: the delivery log shows the start of its text

# One per process: compiled templates are cached by version id (immutable), so every
# delivery of a version after the first one only renders.
RENDERER = TemplateRenderer()


@dataclass(frozen=True)
class Content:
    """A delivery's rendered message. `subject`: the email subject, the title of the other
    channels ("" when a push, chat or webhook template has none); an SMS's start for the
    delivery log. `text`: the text part, the SMS, or the body of the others (chat: in the
    platform's markdown)."""

    subject: str
    text: str
    html: str | None = None
    action_url: str | None = None  # in-app, push, chat and webhook
    icon: str | None = None  # push: the icon's https URL
    template_version_id: uuid.UUID | None = None  # None: one of Herald's shipped templates
    headers: dict[str, str] = field(default_factory=dict)


async def render_content(session: AsyncSession, job: DeliveryJob) -> Content:
    """Raises a non-retryable ApplicationError when the content cannot be rendered:
    MissingPlaceholders (naming them), InvalidContext, InvalidTemplate (naming the field and
    why: a limit of the sandbox, its render budget included, or a template stored before a
    check that now refuses it) or TemplateNotFound."""
    return await render_message(
        session, job.delivery.tenant_id, job.delivery.channel, job.notification, job.recipient
    )


async def render_message(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    channel: str,
    notification: NotificationRow,
    recipient: RecipientRow,
) -> Content:
    """What `channel` says for the notification to the recipient, as `render_content` renders
    it (the dashboard renders a delivery again with it: Herald keeps no message bodies)."""
    found = await read_templates(session, tenant_id, channel, notification)
    # In the render thread, within the render budget: a template that runs too long or
    # builds too much fails this delivery, never the worker's event loop.
    return await in_render_thread(render_read, found, channel, notification, recipient)


async def read_templates(
    session: AsyncSession, tenant_id: uuid.UUID, channel: str, notification: NotificationRow
) -> SendTemplates:
    """The templates that may render `channel` of the notification: read once, they render it
    for any number of recipients (`render_read`; a broadcast's page)."""
    context = notification.context or {}
    return await _templates_for(session, tenant_id, channel, notification.event_key, context)


def render_read(
    found: SendTemplates,
    channel: str,
    notification: NotificationRow,
    recipient: RecipientRow,
    render: Callable[..., Rendered] = RENDERER.render,
) -> Content:
    """`render_message` with its templates read (`read_templates`): CPU only, so call it in the
    render thread (render_thread.in_render_thread). Each template version compiles once per
    process. Raises what render_content raises. `render`: RENDERER.render or a stand-in with
    its signature (a broadcast's activities/render_memo.RenderMemo)."""
    context = notification.context or {}
    stored = _chosen(found, context, recipient.locale)
    source: TemplateSource | None
    if stored is not None:
        source = stored.source
    else:
        source = shipped_template(notification.event_key, channel, context)
    if source is None:  # an event key or channel the API would have refused
        raise _permanent(
            SendFailure.TEMPLATE_NOT_FOUND, f"no template for {notification.event_key}"
        )
    try:
        variables = notification_variables(
            context,
            recipient_name=recipient.name,
            recipient_email=recipient.email,
            recipient_timezone=recipient.timezone,
            recipient_locale=recipient.locale,
        )
    except ValueError as error:
        raise _permanent(SendFailure.INVALID_CONTEXT, f"context: {error}") from None
    try:
        rendered = render(source, variables, found.layout or DEFAULT_EMAIL_LAYOUT)
    except MissingPlaceholdersError as error:
        raise _permanent(SendFailure.MISSING_PLACEHOLDERS, str(error)) from None
    except TemplateError as error:
        raise _permanent(SendFailure.INVALID_TEMPLATE, f"{source.name}: {error}") from None
    return as_content(rendered, context, stored.version_id if stored else None)


def _chosen(found: SendTemplates, context: Mapping[str, Any], locale: str) -> StoredTemplate | None:
    if not context.get(TEMPLATE_VERSION_KEY):
        return choose_template(found.candidates, context.get(OWNER_KEY), locale, DEFAULT_LOCALE)
    if not found.candidates:
        raise _permanent(
            SendFailure.TEMPLATE_NOT_FOUND,
            f"no template version {context[TEMPLATE_VERSION_KEY]} of this tenant for this channel",
        )
    return found.candidates[0]


def _permanent(kind: SendFailure, message: str) -> ApplicationError:
    # Rendering the same template with the same context fails the same way: never retry.
    return ApplicationError(message, type=kind, non_retryable=True)


async def _templates_for(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    channel: str,
    event_key: str,
    context: Mapping[str, Any],
) -> SendTemplates:
    if context.get(TEMPLATE_VERSION_KEY):
        try:
            version_id = uuid.UUID(str(context[TEMPLATE_VERSION_KEY]))
        except ValueError:
            return SendTemplates()
        return await send_version(session, tenant_id, version_id, channel)
    return await send_candidates(session, tenant_id, event_key, channel, context.get(OWNER_KEY))


def as_content(
    rendered: Rendered, context: Mapping[str, Any], version_id: uuid.UUID | None = None
) -> Content:
    """What the providers send (activities/channel_sends.py builds each channel's message)."""
    prefix = TEST_PREFIX if context.get(TEST_SEND_KEY) else ""
    if isinstance(rendered, RenderedEmail):
        unsubscribe = context.get("unsubscribe_url")
        # RFC 8058: mail clients POST to the link to unsubscribe in one click.
        headers = (
            {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
            if unsubscribe
            else {}
        )
        html, text = (
            with_unsubscribe_link(rendered.html, rendered.text, unsubscribe)
            if unsubscribe and isinstance(unsubscribe, str)
            else (rendered.html, rendered.text)
        )
        return Content(
            prefix + rendered.subject,
            text,
            html,
            template_version_id=version_id,
            headers=headers,
        )
    if isinstance(rendered, RenderedSms):
        text = prefix + rendered.body
        subject = textwrap.shorten(text, LOG_SUBJECT_CHARS, placeholder="...")
        return Content(subject, text, template_version_id=version_id)
    # In-app, push, chat and webhook: a title, a text and a link; push has an icon too.
    text = rendered.text if isinstance(rendered, RenderedChat) else rendered.body
    return Content(
        prefix + (rendered.title or ""),
        text,
        action_url=rendered.action_url,
        icon=rendered.icon if isinstance(rendered, RenderedPush) else None,
        template_version_id=version_id,
    )
