"""Templates and the tenant's email layout: checked by the template engine, then saved as a
new immutable version. Previewing and test sends are in services/template_preview.py."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.templates import (
    LayoutPublic,
    TemplateCreate,
    TemplatePublic,
    TemplatesPublic,
    TemplateUpdate,
    TemplateVersionPublic,
    TemplateVersionsPublic,
)
from db import templates as store
from db.template_models import NotificationTemplate, TenantEmailLayout
from domain.filters import TemplateFilter
from domain.operators import Operator
from domain.templating import (
    DEFAULT_EMAIL_LAYOUT,
    EmailLayout,
    TemplateIssue,
    TemplateSource,
    validate_layout,
    validate_template,
)
from domain.templating.render_thread import in_render_thread
from domain.tenants import TenantIdentity
from domain.types import Channel
from services import audit
from services.errors import Conflict, Invalid, NotFound, invalid_field
from services.pages import decode_cursor, page

UNSAVED = "unsaved"  # the version id of content being validated before it has one


def invalid(issues: list[TemplateIssue]) -> Invalid:
    """A refusal naming each problem's field and line: `html_body line 3: syntax error ...`;
    its `problems` hold each one by field (`html_body`, `line 3: syntax error ...`)."""
    problems = [(i.field, f"line {i.line}: {i.message}" if i.line else i.message) for i in issues]
    described = [
        f"{field} {problem}" if problem.startswith("line ") else f"{field}: {problem}"
        for field, problem in problems
    ]
    return Invalid("; ".join(described), issues[0].field, problems=problems)


async def find_template(
    session: AsyncSession, tenant: TenantIdentity, template_id: uuid.UUID
) -> NotificationTemplate:
    template = await store.get_template(session, tenant.id, template_id)
    if template is None:
        raise NotFound(f"template {template_id} not found")
    return template


async def read_template(
    session: AsyncSession, tenant: TenantIdentity, template_id: uuid.UUID
) -> TemplatePublic:
    async with session.begin():  # its own transaction: a caller may go on to save
        return TemplatePublic.model_validate(await find_template(session, tenant, template_id))


async def list_templates(
    session: AsyncSession,
    tenant: TenantIdentity,
    filters: TemplateFilter,
    cursor: str | None,
    limit: int,
) -> TemplatesPublic:
    """A page, most recently updated first (a template updated meanwhile moves to the front)."""
    after = decode_cursor(cursor, datetime, uuid.UUID)
    rows = await store.list_templates(session, tenant.id, filters, after, limit + 1)
    shown, next_cursor = page(rows, limit, lambda t: (t.updated_at, t.id))
    data = [TemplatePublic.model_validate(t) for t in shown]
    return TemplatesPublic(data=data, next_cursor=next_cursor)


async def list_versions(
    session: AsyncSession,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> TemplateVersionsPublic:
    """A page of the saved versions, newest first."""
    template = await find_template(session, tenant, template_id)
    before = decode_cursor(cursor, int)
    rows = await store.list_versions(session, template.id, before[0] if before else None, limit + 1)
    shown, next_cursor = page(rows, limit, lambda version: (version.version,))
    data = [TemplateVersionPublic.model_validate(version) for version in shown]
    return TemplateVersionsPublic(data=data, next_cursor=next_cursor)


async def create_template(
    session: AsyncSession,
    tenant: TenantIdentity,
    body: TemplateCreate,
    max_sms_segments: int,
    actor: Operator | None = None,
) -> TemplatePublic:
    """Validate and store a template as its version 1; `actor`: the operator who made it, in
    the audit log (the API's keys are not people)."""
    fields = body.model_dump()
    async with session.begin():
        layout = await _layout_for(session, tenant, fields["channel"])
    await _require_valid(fields, layout, max_sms_segments)
    async with session.begin():
        with _conflicts_refused():
            template = await store.create_template(session, tenant.id, fields)
        if actor is not None:
            details = {name: fields[name] for name in ("name", "event_key", "channel")}
            await audit.record(session, actor, "template.create", _target(template), details)
    return TemplatePublic.model_validate(template)


async def update_template(
    session: AsyncSession,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    body: TemplateUpdate,
    max_sms_segments: int,
    actor: Operator | None = None,
) -> TemplatePublic:
    """Every update is a new immutable version, even when only a flag changes."""
    changes = body.model_dump(exclude_unset=True)
    return await _save_changes(session, tenant, template_id, changes, max_sms_segments, actor)


async def restore_version(
    session: AsyncSession,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    version: int,
    max_sms_segments: int,
    actor: Operator,
) -> TemplatePublic:
    """A new version equal to `version` (its content, name and locale; the template's active
    and default flags stay as they are), checked as any save is: history is never rewritten."""
    async with session.begin():
        template = await find_template(session, tenant, template_id)
        old = await store.get_version(session, template.id, version)
    if old is None:
        raise invalid_field("version", f"template {template_id} has no version {version}")
    if old.id == template.current_version_id:
        raise invalid_field("version", f"version {version} is the current version already")
    changes = {column: getattr(old, column) for column in store.VERSIONED_COLUMNS}
    restored = {"restored_version": version}
    return await _save_changes(
        session, tenant, template_id, changes, max_sms_segments, actor, restored
    )


async def _save_changes(
    session: AsyncSession,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    changes: dict[str, Any],
    max_sms_segments: int,
    actor: Operator | None,
    restored: dict[str, int] | None = None,
) -> TemplatePublic:
    async with session.begin():
        template = await find_template(session, tenant, template_id)
        current = {column: getattr(template, column) for column in _FIELDS}
        fields = current | changes
        layout = await _layout_for(session, tenant, fields["channel"])
        await _require_valid(fields, layout, max_sms_segments)
        changed = sorted(name for name, value in changes.items() if current[name] != value)
        with _conflicts_refused():
            template = await store.update_template(session, template, changes)
        if actor is not None:
            action = "template.restore" if restored else "template.update"
            details = {"fields": changed, "version": template.version, **(restored or {})}
            await audit.record(session, actor, action, _target(template), details)
    return TemplatePublic.model_validate(template)


def _target(template: NotificationTemplate) -> str:
    return f"template {template.id} ({template.name})"


async def delete_template(
    session: AsyncSession, tenant: TenantIdentity, template_id: uuid.UUID
) -> None:
    """Deactivate and hide the template; its versions stay for the deliveries that used them."""
    async with session.begin():
        await store.delete_template(session, await find_template(session, tenant, template_id))


async def get_layout(session: AsyncSession, tenant: TenantIdentity) -> LayoutPublic:
    """The email layout that wraps every email body: the tenant's own, or Herald's."""
    layout = await store.get_layout(session, tenant.id)
    if layout is None:
        return LayoutPublic(
            html=DEFAULT_EMAIL_LAYOUT.html,
            version_id=DEFAULT_EMAIL_LAYOUT.version_id,
            is_herald_default=True,
            updated_at=None,
        )
    return _layout_public(layout)


async def put_layout(session: AsyncSession, tenant: TenantIdentity, html: str) -> LayoutPublic:
    issues = await in_render_thread(validate_layout, EmailLayout(version_id=UNSAVED, html=html))
    if issues:
        raise invalid(issues)
    async with session.begin():
        return _layout_public(await store.put_layout(session, tenant.id, html))


async def delete_layout(session: AsyncSession, tenant: TenantIdentity) -> None:
    """Go back to Herald's default layout."""
    async with session.begin():
        await store.delete_layout(session, tenant.id)


def _layout_public(layout: TenantEmailLayout) -> LayoutPublic:
    return LayoutPublic(
        html=layout.html,
        version_id=str(layout.version_id),
        is_herald_default=False,
        updated_at=layout.updated_at,
    )


_FIELDS = ("event_key", "channel", *store.VERSIONED_COLUMNS, "is_active", "is_default")


async def _layout_for(
    session: AsyncSession, tenant: TenantIdentity, channel: str
) -> EmailLayout | None:
    """The layout an email template is sent in: the tenant's current one, or Herald's."""
    if channel != Channel.EMAIL:
        return None
    stored = await store.get_layout(session, tenant.id)
    return store.as_layout(stored) if stored else DEFAULT_EMAIL_LAYOUT


async def _require_valid(
    fields: dict[str, Any], layout: EmailLayout | None, max_sms_segments: int
) -> None:
    """Every field compiled (an email inside `layout`) and rendered once with sample data
    within the render budget, in the render thread: a 422 naming the field otherwise."""
    source = TemplateSource(
        version_id=UNSAVED,
        **{name: fields[name] for name in ("event_key", "channel")},
        **{name: fields[name] for name in store.VERSIONED_COLUMNS},
    )
    issues = await in_render_thread(
        validate_template, source, layout, max_sms_segments=max_sms_segments
    )
    if issues:
        raise invalid(issues)


@contextmanager
def _conflicts_refused() -> Iterator[None]:
    try:
        yield
    except store.TemplateConflict as conflict:
        raise Conflict(f"{conflict.field}: {conflict.message}", conflict.field) from None
