"""Templates as the dashboard lists them (by event key and channel, with how many deliveries
each rendered lately), a template's versions with theirs, and what changed between two
versions. Saving and restoring are in services/templates.py."""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.templates import TemplatePublic, TemplateVersionPublic
from db import templates as store
from db.template_models import TemplateVersion
from db.template_usage import version_usage
from domain.filters import TemplateFilter
from domain.templating.fallbacks import fallbacks_as_lines
from domain.templating.model import TEMPLATE_FIELDS
from domain.templating.version_diff import FieldDiff, version_diff
from domain.tenants import TenantIdentity
from services.errors import invalid_field
from services.pages import decode_cursor, page
from services.templates import find_template, list_versions

# Usage counts cover this window (db/template_usage.py says why a window).
USAGE_DAYS = 30


def usage_since(now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=USAGE_DAYS)


@dataclass(frozen=True)
class ListedTemplate:
    template: TemplatePublic
    deliveries: int  # rendered by any of its versions since `usage_since`


@dataclass(frozen=True)
class TemplateGroup:
    event_key: str
    channel: str
    templates: list[ListedTemplate]


@dataclass(frozen=True)
class TemplateListing:
    groups: list[TemplateGroup]
    next_cursor: str | None
    usage_since: datetime


async def template_listing(
    session: AsyncSession,
    tenant: TenantIdentity,
    filters: TemplateFilter,
    cursor: str | None,
    limit: int = 100,
) -> TemplateListing:
    """A page of the tenant's templates grouped by event key and channel, each with its usage."""
    after = decode_cursor(cursor, str, str, str, uuid.UUID)
    since = usage_since()
    async with session.begin():
        rows = await store.list_by_event(session, tenant.id, filters, after, limit + 1)
        usage = await version_usage(session, tenant.id, since)
    shown, next_cursor = page(rows, limit, lambda t: (t.event_key, t.channel, t.name, t.id))
    per_template = Counter[uuid.UUID]()
    for used in usage:
        per_template[used.template_id] += used.deliveries
    listed = [
        ListedTemplate(TemplatePublic.model_validate(row), per_template[row.id]) for row in shown
    ]
    groups = [
        TemplateGroup(event_key, channel, list(templates))
        for (event_key, channel), templates in groupby(
            listed, key=lambda item: (item.template.event_key, item.template.channel)
        )
    ]
    return TemplateListing(groups, next_cursor, since)


@dataclass(frozen=True)
class ListedVersion:
    version: TemplateVersionPublic
    deliveries: int


@dataclass(frozen=True)
class VersionHistory:
    template: TemplatePublic
    versions: list[ListedVersion]  # newest first
    next_cursor: str | None
    usage_since: datetime


async def version_history(
    session: AsyncSession,
    tenant: TenantIdentity,
    template_id: uuid.UUID,
    cursor: str | None,
    limit: int = 50,
) -> VersionHistory:
    """A page of the template's versions, newest first, each with the deliveries it rendered."""
    since = usage_since()
    async with session.begin():
        versions = await list_versions(session, tenant, template_id, cursor, limit)
        template = await find_template(session, tenant, template_id)
        usage = await version_usage(session, tenant.id, since, template_id)
    by_version = {used.version: used.deliveries for used in usage}
    listed = [ListedVersion(v, by_version.get(v.version, 0)) for v in versions.data]
    return VersionHistory(
        TemplatePublic.model_validate(template), listed, versions.next_cursor, since
    )


@dataclass(frozen=True)
class VersionComparison:
    template: TemplatePublic
    old: TemplateVersionPublic
    new: TemplateVersionPublic
    diffs: list[FieldDiff]  # only the fields that differ


async def compare_versions(
    session: AsyncSession, tenant: TenantIdentity, template_id: uuid.UUID, old: int, new: int
) -> VersionComparison:
    """What changed from version `old` to version `new`, field by field and line by line."""
    async with session.begin():
        template = await find_template(session, tenant, template_id)
        versions = {}
        for name, number in (("old", old), ("new", new)):
            found = await store.get_version(session, template.id, number)
            if found is None:
                raise invalid_field(name, f"template {template_id} has no version {number}")
            versions[name] = found
    diffs = version_diff(_texts(versions["old"]), _texts(versions["new"]))
    return VersionComparison(
        TemplatePublic.model_validate(template),
        TemplateVersionPublic.model_validate(versions["old"]),
        TemplateVersionPublic.model_validate(versions["new"]),
        diffs,
    )


def _texts(version: TemplateVersion) -> dict[str, str]:
    """A version's saved fields as text, compared line by line (fallbacks one a line)."""
    texts = {"name": version.name, "locale": version.locale}
    texts |= {field: text for field in TEMPLATE_FIELDS if (text := getattr(version, field))}
    texts["required_placeholders"] = ", ".join(version.required_placeholders)
    texts["fallbacks"] = fallbacks_as_lines(version.fallbacks)
    return texts
