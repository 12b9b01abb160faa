"""The send-time read: a delivery's candidate templates and its tenant's email layout, one query.

Plain SQL returning plain rows, like db/deliveries.py: this runs once per delivery, where
the ORM's entity loading and statement compilation cost more than the query itself.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.templating import EmailLayout, TemplateSource


@dataclass(frozen=True)
class StoredTemplate:
    """A template that may render a delivery: what choose_template ranks, and its content."""

    owner_id: str | None
    locale: str
    is_default: bool
    updated_at: datetime
    version_id: uuid.UUID
    source: TemplateSource


@dataclass(frozen=True)
class SendTemplates:
    candidates: list[StoredTemplate] = field(default_factory=list)
    layout: EmailLayout | None = None  # the tenant's own, when it has one and the channel is email


def _columns(content: str, version_id: str) -> str:
    """`content` is the template row itself (its current version) or one of its versions."""
    c = content
    return f"""t.owner_id, {c}.locale, t.is_default, t.updated_at, {version_id} AS version_id,
        {c}.name, t.event_key, t.channel, {c}.subject, {c}.html_body, {c}.text_body, {c}.body,
        {c}.action_url, {c}.icon, {c}.required_placeholders, {c}.fallbacks,
        l.version_id AS layout_version_id, l.html AS layout_html"""


# Outer joins hang off one constant row, so the layout comes back even when no template matches.
_LAYOUT = "LEFT JOIN email_layouts l ON l.tenant_id = :tenant_id AND :channel = 'email'"

_CANDIDATES = text(f"""
    SELECT {_columns("t", "t.current_version_id")}
    FROM (SELECT 1) AS one
    LEFT JOIN templates t ON t.tenant_id = :tenant_id AND t.event_key = :event_key
        AND t.channel = :channel AND t.is_active AND t.deleted_at IS NULL
        AND (t.owner_id IS NULL OR t.owner_id = :owner_id)
    {_LAYOUT}
""")

_VERSION = text(f"""
    SELECT {_columns("v", "v.id")}
    FROM (SELECT 1) AS one
    LEFT JOIN (template_versions v JOIN templates t ON t.id = v.template_id
               AND t.tenant_id = :tenant_id AND t.channel = :channel) ON v.id = :version_id
    {_LAYOUT}
""")


async def send_candidates(
    session: AsyncSession, tenant_id: uuid.UUID, event_key: str, channel: str, owner_id: str | None
) -> SendTemplates:
    """The tenant's active templates for this event and channel: tenant-wide, or the owner's."""
    parameters = {
        "tenant_id": tenant_id,
        "event_key": event_key,
        "channel": channel,
        "owner_id": owner_id,
    }
    return _send_templates((await session.execute(_CANDIDATES, parameters)).all())


async def send_version(
    session: AsyncSession, tenant_id: uuid.UUID, version_id: uuid.UUID, channel: str
) -> SendTemplates:
    """One version named explicitly (test sends), whatever is active; no candidate when the
    tenant has no such version for this channel."""
    parameters = {"tenant_id": tenant_id, "version_id": version_id, "channel": channel}
    return _send_templates((await session.execute(_VERSION, parameters)).all())


def _send_templates(rows: Sequence[Row[Any]]) -> SendTemplates:
    candidates = [_stored(row) for row in rows if row.version_id is not None]
    first = rows[0]
    layout = (
        EmailLayout(version_id=str(first.layout_version_id), html=first.layout_html)
        if first.layout_version_id is not None
        else None
    )
    return SendTemplates(candidates, layout)


def _stored(row: Row[Any]) -> StoredTemplate:
    source = TemplateSource(
        version_id=str(row.version_id),
        name=row.name,
        event_key=row.event_key,
        channel=row.channel,
        locale=row.locale,
        subject=row.subject,
        html_body=row.html_body,
        text_body=row.text_body,
        body=row.body,
        action_url=row.action_url,
        icon=row.icon,
        required_placeholders=row.required_placeholders,
        fallbacks=row.fallbacks,
    )
    return StoredTemplate(
        row.owner_id, row.locale, row.is_default, row.updated_at, row.version_id, source
    )
