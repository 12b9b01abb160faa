"""Previewing a template with sample data, and sending it as a real, marked test notification."""

import json
import uuid
from dataclasses import dataclass, replace
from hashlib import sha256
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.notifications import NotificationAccepted, NotificationCreate, RecipientRef
from api.schemas.templates import PreviewResult, SmsPreview, TestSendRequest
from config.settings import Settings
from db import templates as store
from db.template_models import NotificationTemplate
from domain.templating import (
    DEFAULT_EMAIL_LAYOUT,
    EmailLayout,
    Rendered,
    RenderedChat,
    RenderedEmail,
    RenderedInApp,
    RenderedPush,
    RenderedSms,
    RenderedWebhook,
    SmsInfo,
    TemplateError,
    TemplateIssue,
    TemplateRenderer,
    TemplateRenderError,
    TemplateSource,
    TemplateValidationError,
    notification_variables,
    sample_context,
)
from domain.templating.compiled import is_blank
from domain.templating.context import TEMPLATE_VERSION_KEY, TEST_SEND_KEY
from domain.templating.fallbacks import fallback_text
from domain.templating.render_thread import in_render_thread
from domain.templating.validation import render_issue, validate_compiled
from domain.tenants import TenantIdentity
from domain.types import Channel
from services.errors import invalid_field
from services.notifications import submit_notification
from services.templates import find_template, invalid

# The API process's own compiled-template cache (the worker has its own).
PREVIEW_RENDERER = TemplateRenderer()
# Drafts change at every keystroke: a small cache of their own, so they push no saved
# template out of the one above.
DRAFT_RENDERER = TemplateRenderer(cache_size=32)


async def preview(
    session: AsyncSession,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    context: dict[str, Any],
    max_sms_segments: int,
) -> PreviewResult:
    """The template rendered with the event's sample data overlaid with `context`."""
    rendered = await _render_current(session, tenant, template_id, context)
    return _result(rendered.message, rendered.warnings, max_sms_segments)


@dataclass(frozen=True)
class DraftPreview:
    """A template's content as it is being written, before it is saved: rendered with its
    event's sample data when it compiles (`result`), and what a save would refuse (`issues`,
    each with its field and line), in the same words as a refused save."""

    result: PreviewResult | None  # None: it does not compile (see `issues`)
    issues: list[TemplateIssue]
    sms: SmsInfo | None  # an SMS's encoding, segments and length


async def preview_draft(
    session: AsyncSession, tenant: TenantIdentity, draft: TemplateSource, max_sms_segments: int
) -> DraftPreview:
    """`draft` (unsaved: its version_id is not read) checked as a save would check it and
    rendered with the event's sample data, in the tenant's email layout."""
    async with session.begin():
        stored = await store.get_layout(session, tenant.id)
    layout = store.as_layout(stored) if stored else DEFAULT_EMAIL_LAYOUT
    source = replace(draft, version_id=_draft_version(draft, layout))
    values = _variables(sample_context(source.event_key), source.locale)
    return await in_render_thread(_render_draft, source, layout, values, max_sms_segments)


def _render_draft(
    source: TemplateSource, layout: EmailLayout, values: dict[str, Any], max_sms_segments: int
) -> DraftPreview:
    """Runs in the render thread. Compiled once (checked as a save checks it, then rendered)."""
    try:
        compiled = DRAFT_RENDERER.compiled(source, layout)
    except TemplateValidationError as error:  # its shape or syntax: it does not compile
        return DraftPreview(None, error.issues, None)
    issues = validate_compiled(compiled, max_sms_segments=max_sms_segments)
    try:
        message, warnings, _ = _render_preview(source, layout, values, DRAFT_RENDERER)
    except TemplateRenderError as error:  # fails with the sample data
        issue = render_issue(error)
        return DraftPreview(None, issues if issue in issues else [*issues, issue], None)
    sms = message.info if isinstance(message, RenderedSms) else None
    # A save refuses an SMS over the segment limit: said once, among the issues.
    return DraftPreview(_result(message, warnings, None), issues, sms)


def _draft_version(draft: TemplateSource, layout: EmailLayout) -> str:
    """An id for exactly this content (in this layout), so the drafts' cache never serves a
    compiled template for other content."""
    content = [draft.event_key, draft.channel, draft.field_sources(), layout.version_id]
    content += [list(draft.required_placeholders), dict(draft.fallbacks)]
    digest = sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"draft:{digest}"


async def send_test(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    body: TestSendRequest,
) -> NotificationAccepted:
    """Submit a notification rendered with this exact version and marked as a test.

    It goes through the same path as POST /v1/notifications (preferences included).
    """
    rendered = await _render_current(session, tenant, template_id, body.context)
    if rendered.missing:  # refused here rather than ending as a failed delivery
        raise invalid_field(
            "context", "missing required placeholders: " + ", ".join(rendered.missing)
        )
    template = rendered.template
    channel = Channel(template.channel)
    _require_address_for(channel, body)
    # An ordinary notification, flagged as a test and pinned to this version.
    context = sample_context(template.event_key) | body.context
    context |= {TEST_SEND_KEY: True, TEMPLATE_VERSION_KEY: str(template.current_version_id)}
    request = NotificationCreate(
        recipient=RecipientRef(email=body.email, phone=body.phone, locale=template.locale),
        event_key=template.event_key,
        channels=[channel],
        context=context,
    )
    return await submit_notification(session, temporal, settings, tenant, request, None)


async def _render_current(
    session: AsyncSession, tenant: TenantIdentity, template_id: uuid.UUID, context: dict[str, Any]
) -> "_Preview":
    """The template rendered, with warnings and the required placeholders `context` lacks.

    Missing variables are previewed as their fallbacks, required ones included, so the
    author sees the whole message and a warning rather than an error.
    """
    async with session.begin():
        template = await find_template(session, tenant, template_id)
        layout = await store.get_layout(session, tenant.id)
    source = store.current_source(template)
    email_layout = store.as_layout(layout) if layout else DEFAULT_EMAIL_LAYOUT
    values = _variables(sample_context(template.event_key) | context, template.locale)
    try:
        message, warnings, missing = await in_render_thread(
            _render_preview, source, email_layout, values
        )
    except TemplateValidationError as error:  # stored before a check that now refuses it
        raise invalid(error.issues) from None
    except TemplateError as error:  # e.g. a loop over a value of the wrong type, or a limit
        issue = TemplateIssue("context", None, f"the template cannot render it: {error}")
        raise invalid([issue]) from None
    return _Preview(template, message, warnings, missing)


def _render_preview(
    source: TemplateSource,
    layout: EmailLayout,
    values: dict[str, Any],
    renderer: TemplateRenderer = PREVIEW_RENDERER,
) -> tuple[Rendered, list[str], list[str]]:
    """Runs in the render thread: the message, its warnings and the required names missing."""
    missing = [name for name in source.required_placeholders if is_blank(values.get(name))]
    warnings = []
    for name in sorted(renderer.compiled(source, layout).variable_names):
        if name in missing:
            warnings.append(f"{name}: required but missing, so a real send would fail")
        elif values.get(name) is None:
            warnings.append(
                f"{name}: missing from the context; shown as its fallback "
                f"{fallback_text(name, source.fallbacks)!r}"
            )
    values |= {name: fallback_text(name, source.fallbacks) for name in missing}
    return renderer.render(source, values, layout), warnings, missing


class _Preview(NamedTuple):
    template: NotificationTemplate
    message: Rendered
    warnings: list[str]
    missing: list[str]


def _variables(context: dict[str, Any], locale: str) -> dict[str, Any]:
    try:
        return notification_variables(
            context,
            recipient_name=None,
            recipient_email=None,
            recipient_timezone="UTC",
            recipient_locale=locale,
        )
    except ValueError as error:
        raise invalid_field("context", str(error)) from None


def _result(rendered: Rendered, warnings: list[str], max_sms_segments: int | None) -> PreviewResult:
    """The API's preview; an SMS over `max_sms_segments` (None: no limit) has a warning."""
    if isinstance(rendered, RenderedEmail):
        return PreviewResult(
            channel=Channel.EMAIL,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            warnings=warnings,
        )
    if isinstance(rendered, RenderedSms):
        info = rendered.info
        if max_sms_segments is not None and info.segments > max_sms_segments:
            warnings.append(f"body: {info.segments} segments, over the limit of {max_sms_segments}")
        sms = SmsPreview(encoding=info.encoding, segments=info.segments, characters=info.characters)
        return PreviewResult(channel=Channel.SMS, text=rendered.body, sms=sms, warnings=warnings)
    # In-app, push, chat and webhook: a title, a text and a link; push has an icon too.
    return PreviewResult(
        channel=_CHANNEL_OF[type(rendered)],
        subject=rendered.title,
        text=rendered.text if isinstance(rendered, RenderedChat) else rendered.body,
        action_url=rendered.action_url,
        icon=rendered.icon if isinstance(rendered, RenderedPush) else None,
        warnings=warnings,
    )


_CHANNEL_OF = {
    RenderedInApp: Channel.IN_APP,
    RenderedPush: Channel.PUSH,
    RenderedChat: Channel.CHAT,
    RenderedWebhook: Channel.WEBHOOK,
}


def _require_address_for(channel: Channel, body: TestSendRequest) -> None:
    if channel == Channel.EMAIL and body.email is None:
        raise invalid_field("email", "required to test an email template")
    if channel == Channel.SMS and body.phone is None:
        raise invalid_field("phone", "required to test an SMS template")
