"""Delivery counts and rates of a tenant's deliveries created in a time range (README,
"Statistics"): GET /v1/stats, and the dashboard's Analytics, which shows several groupings of
one period at once. Both count with one query (db/stats.py: per status and key) and add the
counts up here, by the rule of domain/delivery_stats.py."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.stats import AnalyticsFilters, GroupBy, StatsFigures, StatsGroupPublic, StatsPublic
from db.stats import StatusCount, VersionsTemplate, status_counts, versions_templates
from domain.delivery_stats import DeliveryFigures, figures_of
from domain.tenants import TenantIdentity
from services.errors import invalid_field

DEFAULT_SPAN = timedelta(days=30)
MAX_SPAN = timedelta(days=366)  # bounds the rows one request can make the database read

# group_by -> the key db/stats.py counts by (templates: by version, then added up per template)
COUNTED_BY = {
    "day": "day",
    "channel": "channel",
    "provider": "provider",
    "event_key": "event_key",
    "template": "template_version",
}

Groups = dict[str | None, DeliveryFigures]  # a group's key (as text; None: none) -> figures


@dataclass(frozen=True)
class Counted:
    totals: DeliveryFigures
    groups: dict[str, Groups]  # grouping -> its groups
    templates: dict[uuid.UUID, VersionsTemplate]  # the templates counted, by id


async def _counts(
    session: AsyncSession,
    tenant: TenantIdentity,
    start: datetime,
    end: datetime,
    groupings: Sequence[str],
    channel: str | None = None,
    provider: str | None = None,
) -> list[StatusCount]:
    """The deliveries created in [start, end) (of `channel` and `provider`, when given)
    counted per status and per the keys of `groupings` (names of COUNTED_BY)."""
    filters = {
        name: value for name, value in (("channel", channel), ("provider", provider)) if value
    }
    keys = [COUNTED_BY[grouping] for grouping in groupings]
    return await status_counts(session, tenant.id, start, end, keys, filters)


async def _added_up(
    session: AsyncSession, tenant: TenantIdentity, rows: list[StatusCount], groupings: Sequence[str]
) -> Counted:
    """The figures of the counts (per status and the value of each grouping's key on its own),
    in total and per group of each grouping."""
    grouping_of = {COUNTED_BY[grouping]: grouping for grouping in groupings}
    versions: dict[uuid.UUID, VersionsTemplate] = {}
    if "template" in groupings:
        found = {row.value for row in rows if row.key == "template_version"} - {None}
        versions = await versions_templates(session, tenant.id, list(found))  # type: ignore[arg-type]
    # Every grouping counts each delivery once: the totals are any one grouping's sum.
    totalled_by = COUNTED_BY[groupings[0]] if groupings else None
    totals: Counter[str] = Counter()
    per_group: dict[str, defaultdict[str | None, Counter[str]]] = {
        grouping: defaultdict(Counter) for grouping in groupings
    }
    for row in rows:
        if row.key == totalled_by:
            totals[row.status] += row.count
        if row.key is None:
            continue
        grouping, value = grouping_of[row.key], row.value
        if grouping == "template":
            template = versions.get(value)  # type: ignore[arg-type]
            value = template.template_id if template else None
        per_group[grouping][None if value is None else str(value)][row.status] += row.count
    return Counted(
        figures_of(totals),
        {
            grouping: {key: figures_of(counts) for key, counts in groups.items()}
            for grouping, groups in per_group.items()
        },
        {template.template_id: template for template in versions.values()},
    )


def _in_order(groups: Groups) -> list[StatsGroupPublic]:
    """By key (days in order), none last."""
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return [StatsGroupPublic.of(figures, key=key) for key, figures in ordered]


async def tenant_stats(
    session: AsyncSession,
    tenant: TenantIdentity,
    start: datetime | None,
    end: datetime | None,
    group_by: GroupBy | None,
    channel: str | None = None,
    provider: str | None = None,
) -> StatsPublic:
    """From `start` (default: `end` - 30 days) up to `end` (default: now); a naive time is UTC.
    Only the deliveries of `channel` and `provider`, when given."""
    end = _aware(end) if end else datetime.now(UTC)
    start = _aware(start) if start else end - DEFAULT_SPAN
    if start >= end:
        raise invalid_field("from", "must be before to")
    if end - start > MAX_SPAN:
        raise invalid_field("to", f"the range may span at most {MAX_SPAN.days} days")
    groupings = [group_by] if group_by else []
    rows = await _counts(session, tenant, start, end, groupings, channel, provider)
    result = await _added_up(session, tenant, rows, groupings)
    return StatsPublic(
        start=start,
        end=end,
        group_by=group_by,
        totals=StatsFigures.of(result.totals),
        groups=_in_order(result.groups[group_by]) if group_by else [],
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ------------------------------------------------------------------ the dashboard's Analytics


@dataclass(frozen=True)
class TemplatePerformance:
    """One template's figures (`template_id` None: deliveries written without a template)."""

    template_id: uuid.UUID | None
    name: str
    event_key: str | None
    channel: str | None
    deleted: bool
    figures: StatsFigures


@dataclass(frozen=True)
class Analytics:
    filters: AnalyticsFilters
    start: datetime
    end: datetime
    totals: StatsFigures
    by_day: list[StatsGroupPublic]  # every day of the period, in order, zeros included
    by_channel: list[StatsGroupPublic]
    by_provider: list[StatsGroupPublic]
    by_template: list[TemplatePerformance]  # the busiest first
    providers: list[str]  # what the provider filter offers


def analytics_period(days: int, now: datetime) -> tuple[datetime, datetime]:
    """The last `days` whole UTC days, today included: [midnight `days` - 1 days ago,
    tomorrow's midnight). The same request gives the same range all day long."""
    tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    return tomorrow - timedelta(days=days), tomorrow


async def analytics(
    session: AsyncSession,
    tenant: TenantIdentity,
    filters: AnalyticsFilters,
    now: datetime | None = None,
) -> Analytics:
    """The period's totals and its figures per day, channel, provider and template, from one
    count (db/stats.py: the daily rollup's settled days, the deliveries of the rest) and one
    read of the templates' names."""
    start, end = analytics_period(filters.days, now or datetime.now(UTC))
    groupings = ["day", "channel", "provider", "template"]
    rows = await _counts(session, tenant, start, end, groupings, filters.channel, filters.provider)
    # The provider filter offers every provider of the period (of the channel chosen): with a
    # provider chosen, those are read again without it (one grouping, a few rows).
    by_provider = rows
    if filters.provider:
        by_provider = await _counts(session, tenant, start, end, ["provider"], filters.channel)
    providers = {row.value for row in by_provider if row.key == "provider"} - {None}
    result = await _added_up(session, tenant, rows, groupings)
    return Analytics(
        filters=filters,
        start=start,
        end=end,
        totals=StatsFigures.of(result.totals),
        by_day=_every_day(start.date(), filters.days, result.groups["day"]),
        by_channel=_in_order(result.groups["channel"]),
        by_provider=_in_order(result.groups["provider"]),
        by_template=_templates(result.groups["template"], result.templates),
        providers=sorted({str(name) for name in providers} | set(filter(None, [filters.provider]))),
    )


def _every_day(first: date, days: int, groups: Groups) -> list[StatsGroupPublic]:
    keys = [(first + timedelta(days=n)).isoformat() for n in range(days)]
    return [StatsGroupPublic.of(groups.get(key, DeliveryFigures()), key=key) for key in keys]


def _templates(
    groups: Groups, templates: dict[uuid.UUID, VersionsTemplate]
) -> list[TemplatePerformance]:
    performance = []
    for key, figures in groups.items():
        template = templates.get(uuid.UUID(key)) if key else None
        performance.append(
            TemplatePerformance(
                template_id=template.template_id if template else None,
                name=template.name if template else "No template (Herald's own text)",
                event_key=template.event_key if template else None,
                channel=template.channel if template else None,
                deleted=template.deleted if template else False,
                figures=StatsFigures.of(figures),
            )
        )
    return sorted(performance, key=lambda template: -template.figures.attempted)
