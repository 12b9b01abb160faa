"""bookings: processed events, bookings and reminders, tenant booking settings, failure alerts

Revision ID: 0003_bookings
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_bookings"
down_revision = "0001"
branch_labels = None
depends_on = None


def _now(name: str) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def _tenant(primary_key: bool = False, nullable: bool = False) -> sa.Column:
    return sa.Column(
        "tenant_id",
        sa.UUID(),
        sa.ForeignKey("tenants.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "processed_events",
        _tenant(primary_key=True),
        sa.Column("event_id", sa.String(length=200), primary_key=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        _now("received_at"),
    )
    op.create_index("ix_processed_events_received", "processed_events", ["received_at"])
    op.create_table(
        "bookings",
        _tenant(primary_key=True),
        sa.Column("id", sa.String(length=100), primary_key=True),
        sa.Column("organizer_id", sa.String(length=255), nullable=False),
        sa.Column("invitee_name", sa.String(length=200), nullable=True),
        sa.Column("invitee_email", sa.String(length=320), nullable=True),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("workflow_id", sa.String(length=600), nullable=False),
        _now("created_at"),
        _now("updated_at"),
    )
    op.create_index(
        "ix_bookings_organizer_start", "bookings", ["tenant_id", "organizer_id", "start_at"]
    )
    op.create_table(
        "booking_reminders",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("booking_id", sa.String(length=100), nullable=False),
        sa.Column("offset_minutes", sa.Float(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("notification_id", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "booking_id"], ["bookings.tenant_id", "bookings.id"], ondelete="CASCADE"
        ),
        sa.UniqueConstraint("tenant_id", "booking_id", "offset_minutes"),
    )
    op.create_index(
        "ix_booking_reminders_due", "booking_reminders", ["tenant_id", "status", "due_at"]
    )
    op.create_table(
        "tenant_booking_settings",
        _tenant(primary_key=True),
        sa.Column("follow_up_enabled", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("follow_up_delay_minutes", sa.Integer(), server_default="60", nullable=False),
        _now("updated_at"),
    )
    op.create_table(
        "failure_alerts",
        sa.Column("id", sa.UUID(), primary_key=True),
        _tenant(nullable=True),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        _now("created_at"),
        sa.UniqueConstraint("scope", "subject", "window_start"),
    )
    op.create_index("ix_failure_alerts_created", "failure_alerts", ["created_at"])
    # The retention purge walks notifications by age.
    op.create_index("ix_notifications_created_at", "notifications", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_created_at", table_name="notifications")
    op.drop_table("failure_alerts")
    op.drop_table("tenant_booking_settings")
    op.drop_table("booking_reminders")
    op.drop_table("bookings")
    op.drop_table("processed_events")
