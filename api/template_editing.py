"""Saving templates and layouts: validate with the template engine, then store a new version."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.template_schemas import TemplateCreate, TemplateUpdate
from db import templates as store
from db.template_models import NotificationTemplate, TenantEmailLayout
from db.tenants import TenantIdentity
from domain.templating import (
    EmailLayout,
    TemplateIssue,
    TemplateSource,
    validate_layout,
    validate_template,
)

UNSAVED = "unsaved"  # the version id of content being validated before it has one


def invalid(issues: list[TemplateIssue]) -> ApiError:
    """A 422 naming each problem's field and line: `html_body line 3: syntax error ...`."""
    described = [
        f"{i.field} line {i.line}: {i.message}" if i.line else f"{i.field}: {i.message}"
        for i in issues
    ]
    return ApiError(422, "validation_error", "; ".join(described), issues[0].field)


def not_found(template_id: uuid.UUID) -> ApiError:
    return ApiError(404, "not_found", f"template {template_id} not found")


async def find_template(
    session: AsyncSession, tenant: TenantIdentity, template_id: uuid.UUID
) -> NotificationTemplate:
    template = await store.get_template(session, tenant.id, template_id)
    if template is None:
        raise not_found(template_id)
    return template


async def create_template(
    session: AsyncSession, tenant: TenantIdentity, body: TemplateCreate, max_sms_segments: int
) -> NotificationTemplate:
    fields = body.model_dump()
    _require_valid(fields, max_sms_segments)
    async with session.begin():
        with _conflicts_as_409():
            return await store.create_template(session, tenant.id, fields)


async def update_template(
    session: AsyncSession,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    body: TemplateUpdate,
    max_sms_segments: int,
) -> NotificationTemplate:
    """Every update is a new immutable version, even when only a flag changes."""
    changes = body.model_dump(exclude_unset=True)
    async with session.begin():
        template = await find_template(session, tenant, template_id)
        current = {column: getattr(template, column) for column in _FIELDS}
        _require_valid(current | changes, max_sms_segments)
        with _conflicts_as_409():
            return await store.update_template(session, template, changes)


async def delete_template(
    session: AsyncSession, tenant: TenantIdentity, template_id: uuid.UUID
) -> None:
    async with session.begin():
        await store.delete_template(session, await find_template(session, tenant, template_id))


async def put_layout(session: AsyncSession, tenant: TenantIdentity, html: str) -> TenantEmailLayout:
    issues = validate_layout(EmailLayout(version_id=UNSAVED, html=html))
    if issues:
        raise invalid(issues)
    async with session.begin():
        return await store.put_layout(session, tenant.id, html)


_FIELDS = ("event_key", "channel", *store.VERSIONED_COLUMNS, "is_active", "is_default")


def _require_valid(fields: dict[str, Any], max_sms_segments: int) -> None:
    # The tenant layout is checked when it is saved; a template is checked on its own.
    source = TemplateSource(
        version_id=UNSAVED,
        **{name: fields[name] for name in ("event_key", "channel")},
        **{name: fields[name] for name in store.VERSIONED_COLUMNS},
    )
    issues = validate_template(source, max_sms_segments=max_sms_segments)
    if issues:
        raise invalid(issues)


@contextmanager
def _conflicts_as_409() -> Iterator[None]:
    try:
        yield
    except store.TemplateConflict as conflict:
        raise ApiError(
            409, "conflict", f"{conflict.field}: {conflict.message}", conflict.field
        ) from None
