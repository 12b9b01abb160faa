"""Templates, their versions and email layouts, always within one tenant."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.template_models import (
    CONTENT_COLUMNS,
    NotificationTemplate,
    TemplateVersion,
    TenantEmailLayout,
)
from domain.filters import TemplateFilter
from domain.templating import EmailLayout, TemplateSource
from domain.types import Channel

# Saved with every version: the content and what rendering it depends on.
VERSIONED_COLUMNS = ("name", "locale", *CONTENT_COLUMNS, "required_placeholders", "fallbacks")


class TemplateConflict(Exception):
    """The save clashes with another live template; `field` says on what."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


# Unique index -> the field it guards and what a clash means.
_CONFLICTS = {
    "uq_templates_name": (
        "name",
        "another template of this owner, event and channel has this name",
    ),
    "uq_templates_active_default": (
        "is_default",
        "another default for this owner, event, channel and locale was just saved; retry",
    ),
}


def current_source(template: NotificationTemplate) -> TemplateSource:
    """The engine's view of the template's current version."""
    return TemplateSource(
        version_id=str(template.current_version_id),
        event_key=template.event_key,
        channel=Channel(template.channel),
        **{column: getattr(template, column) for column in VERSIONED_COLUMNS},
    )


def _live_and_filtered(tenant_id: uuid.UUID, filters: TemplateFilter) -> list[Any]:
    """The conditions of a listing: the tenant's live templates, narrowed by `filters`."""
    conditions: list[Any] = [
        NotificationTemplate.tenant_id == tenant_id,
        NotificationTemplate.deleted_at.is_(None),
    ]
    for column, value in (
        (NotificationTemplate.event_key, filters.event_key),
        (NotificationTemplate.channel, filters.channel),
        (NotificationTemplate.owner_id, filters.owner_id),
        (NotificationTemplate.is_active, filters.active),
    ):
        if value is not None:
            conditions.append(column == value)
    return conditions


async def list_templates(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: TemplateFilter,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[NotificationTemplate]:
    """Most recently updated first, from after `after` (updated_at, id), at most `limit`."""
    conditions = _live_and_filtered(tenant_id, filters)
    position = tuple_(NotificationTemplate.updated_at, NotificationTemplate.id)
    if after is not None:
        conditions.append(position < tuple_(*after))
    page = await session.scalars(
        select(NotificationTemplate)
        .where(*conditions)
        .order_by(NotificationTemplate.updated_at.desc(), NotificationTemplate.id.desc())
        .limit(limit)
    )
    return list(page)


async def get_template(
    session: AsyncSession, tenant_id: uuid.UUID, template_id: uuid.UUID
) -> NotificationTemplate | None:
    """A live (not deleted) template of this tenant."""
    return await session.scalar(
        select(NotificationTemplate).where(
            NotificationTemplate.id == template_id,
            NotificationTemplate.tenant_id == tenant_id,
            NotificationTemplate.deleted_at.is_(None),
        )
    )


async def create_template(
    session: AsyncSession, tenant_id: uuid.UUID, fields: dict[str, Any]
) -> NotificationTemplate:
    template = NotificationTemplate(id=uuid.uuid4(), tenant_id=tenant_id, version=0, **fields)
    return await _save_version(session, template, add=True)


async def update_template(
    session: AsyncSession, template: NotificationTemplate, changes: dict[str, Any]
) -> NotificationTemplate:
    """Apply `changes` and save them as the template's next version."""
    for column, value in changes.items():
        setattr(template, column, value)
    template.updated_at = func.now()
    return await _save_version(session, template, add=False)


async def delete_template(session: AsyncSession, template: NotificationTemplate) -> None:
    """Soft delete: versions stay, since deliveries point at them."""
    template.deleted_at = template.updated_at = func.now()
    template.is_active = template.is_default = False
    await session.flush()


async def list_versions(
    session: AsyncSession, template_id: uuid.UUID, before: int | None, limit: int
) -> list[TemplateVersion]:
    """Newest first, from the version before `before`, at most `limit`. The caller has checked
    that the template belongs to its tenant."""
    conditions = [TemplateVersion.template_id == template_id]
    if before is not None:
        conditions.append(TemplateVersion.version < before)
    result = await session.scalars(
        select(TemplateVersion)
        .where(*conditions)
        .order_by(TemplateVersion.version.desc())
        .limit(limit)
    )
    return list(result)


async def get_version(
    session: AsyncSession, template_id: uuid.UUID, version: int
) -> TemplateVersion | None:
    """One saved version by its number. The caller has checked the template's tenant."""
    return await session.scalar(
        select(TemplateVersion).where(
            TemplateVersion.template_id == template_id, TemplateVersion.version == version
        )
    )


async def list_by_event(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    filters: TemplateFilter,
    after: tuple[str, str, str, uuid.UUID] | None,
    limit: int,
) -> list[NotificationTemplate]:
    """Live templates by event key, channel and name (the dashboard's list), from after `after`
    (event key, channel, name, id), at most `limit`."""
    conditions = _live_and_filtered(tenant_id, filters)
    order = (
        NotificationTemplate.event_key,
        NotificationTemplate.channel,
        NotificationTemplate.name,
        NotificationTemplate.id,
    )
    if after is not None:
        conditions.append(tuple_(*order) > tuple_(*after))
    found = await session.scalars(
        select(NotificationTemplate).where(*conditions).order_by(*order).limit(limit)
    )
    return list(found)


async def _save_version(
    session: AsyncSession, template: NotificationTemplate, *, add: bool
) -> NotificationTemplate:
    version = TemplateVersion(
        id=uuid.uuid4(),
        template_id=template.id,
        version=template.version + 1,
        **{column: getattr(template, column) for column in VERSIONED_COLUMNS},
    )
    template.version, template.current_version_id = version.version, version.id
    if template.is_default and template.is_active:
        with session.no_autoflush:  # demote first: flushing this default would clash
            await _demote_other_defaults(session, template)
    if add:
        session.add(template)
    try:
        await session.flush()  # the template first: the version row references it
        session.add(version)
        await session.flush()
    except IntegrityError as error:
        for index, (field, message) in _CONFLICTS.items():
            if index in str(error.orig):
                raise TemplateConflict(field, message) from None
        raise
    await session.refresh(template)
    return template


async def _demote_other_defaults(session: AsyncSession, template: NotificationTemplate) -> None:
    """A new default replaces the previous one for the same owner, event, channel and locale."""
    await session.execute(
        update(NotificationTemplate)
        .where(
            NotificationTemplate.tenant_id == template.tenant_id,
            func.coalesce(NotificationTemplate.owner_id, "") == (template.owner_id or ""),
            NotificationTemplate.event_key == template.event_key,
            NotificationTemplate.channel == template.channel,
            func.lower(NotificationTemplate.locale) == template.locale.lower(),
            NotificationTemplate.id != template.id,
            NotificationTemplate.is_default,
            NotificationTemplate.deleted_at.is_(None),
        )
        .values(is_default=False, updated_at=func.now())
    )


async def get_layout(session: AsyncSession, tenant_id: uuid.UUID) -> TenantEmailLayout | None:
    return await session.get(TenantEmailLayout, tenant_id)


async def put_layout(session: AsyncSession, tenant_id: uuid.UUID, html: str) -> TenantEmailLayout:
    """Store the tenant's layout under a new version id, so no stale compiled email is reused."""
    values = {"version_id": uuid.uuid4(), "html": html, "updated_at": func.now()}
    statement = (
        insert(TenantEmailLayout)
        .values(tenant_id=tenant_id, **values)
        .on_conflict_do_update(index_elements=[TenantEmailLayout.tenant_id], set_=values)
        .returning(TenantEmailLayout)
    )
    return (await session.scalars(statement, execution_options={"populate_existing": True})).one()


async def delete_layout(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    layout = await get_layout(session, tenant_id)
    if layout is not None:
        await session.delete(layout)
        await session.flush()


def as_layout(layout: TenantEmailLayout) -> EmailLayout:
    return EmailLayout(version_id=str(layout.version_id), html=layout.html)
