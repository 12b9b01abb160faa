"""daily statistics rollup: per UTC day, deliveries counted per tenant and group

Revision ID: 0020_daily_stats
Revises: 0019_dashboard_indexes

- daily_stats_days: the days the rollup holds (for every tenant) and when each was computed.
- daily_stats and daily_event_key_stats: per day, tenant, channel, provider, status and template
  version (the first) or event key (the second), how many deliveries were created that day; a
  day's rows go with its daily_stats_days row.

GET /v1/stats and the dashboard's Analytics read it for settled days (domain/daily_stats.py)
instead of every delivery: the largest tenant's 90 days at a million deliveries read a few
thousand rows, where they read 229,000 index entries. Empty here: the maintenance Schedule
`daily-stats` fills it (every day of LOG_RETENTION_DAYS on its first run); until then every
count reads the deliveries, as before.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_daily_stats"
down_revision = "0019_dashboard_indexes"
branch_labels = None
depends_on = None


def _day_counts(name: str, key: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column(
            "day",
            sa.Date(),
            sa.ForeignKey("daily_stats_days.day", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "tenant_id", sa.Uuid(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("provider", sa.String(30)),
        key,
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index(
        f"uq_{name}_group",
        name,
        ["day", "tenant_id", "channel", "provider", key.name, "status"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )


def upgrade() -> None:
    op.create_table(
        "daily_stats_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )
    _day_counts("daily_stats", sa.Column("template_version_id", sa.Uuid()))
    _day_counts("daily_event_key_stats", sa.Column("event_key", sa.String(200), nullable=False))


def downgrade() -> None:
    op.drop_table("daily_event_key_stats")
    op.drop_table("daily_stats")
    op.drop_table("daily_stats_days")
