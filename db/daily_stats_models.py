"""The statistics' daily rollup (migration 0020; rules in domain/daily_stats.py): per closed
UTC day, the deliveries created that day counted per tenant, channel, provider, status and
either template version (daily_stats) or event key (daily_event_key_stats). GET /v1/stats and
the dashboard's Analytics read it for settled days instead of every delivery (db/stats.py); the
nightly refresh writes it (db/daily_stats.py).

Two tables, not one with both keys: a template version nearly always implies its event key,
but a day's deliveries written without a template spread over every event key, and counting
both keys at once multiplied the rows the Analytics page reads (by 5 at bench/seed_deliveries.py's
million deliveries)."""

from datetime import date, datetime

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, Table, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base


class DailyStatsDay(Base):
    """A day the rollup holds, for every tenant: its rows count the deliveries as they were
    when it was computed. A day without a row is counted from the deliveries."""

    __tablename__ = "daily_stats_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)  # a UTC day
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # its transaction's


def _day_counts(name: str, key: Column) -> Table:
    """A table of a day's counts per tenant, channel, provider, `key` and status. No primary
    key: a group's columns are its identity, nullable ones included, which the unique index
    enforces and a key could not. A day's rows go with its daily_stats_days row."""
    table = Table(
        name,
        Base.metadata,
        Column("day", Date, ForeignKey("daily_stats_days.day", ondelete="CASCADE"), nullable=False),
        Column("tenant_id", Uuid, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        Column("channel", String(10), nullable=False),
        Column("provider", String(30)),  # None: it failed before any provider
        key,
        Column("status", String(12), nullable=False),
        Column("count", Integer, nullable=False),
    )
    # The day leads: a refresh replaces a day's rows, and a read asks for a tenant's rows of
    # each of its days (day = ANY(...) AND tenant_id = ...: one descent per day). NULLS NOT
    # DISTINCT: one row per group even when its provider or template version is none.
    Index(
        f"uq_{name}_group",
        table.c.day,
        table.c.tenant_id,
        table.c.channel,
        table.c.provider,
        table.c[key.name],
        table.c.status,
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    return table


daily_stats = _day_counts(
    "daily_stats",
    Column("template_version_id", Uuid),  # None: written without a template
)
daily_event_key_stats = _day_counts(
    "daily_event_key_stats", Column("event_key", String(200), nullable=False)
)
