"""templates: templates, their versions, tenant email layouts, the version a delivery used

Revision ID: 0002_templates
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_templates"
down_revision = "0001"
branch_labels = None
depends_on = None

_CONTENT = ("subject", "html_body", "text_body", "body", "action_url")


def _content_columns() -> list[sa.Column]:
    return [
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=True) for name in _CONTENT),
        sa.Column("required_placeholders", postgresql.JSONB(), nullable=False),
        sa.Column("fallbacks", postgresql.JSONB(), nullable=False),
    ]


def _now(name: str) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "tenant_id", sa.UUID(), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("owner_id", sa.String(length=255), nullable=True),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        *_content_columns(),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("current_version_id", sa.UUID(), nullable=False),
        _now("created_at"),
        _now("updated_at"),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_templates_send_lookup",
        "templates",
        ["tenant_id", "event_key", "channel"],
        postgresql_where=sa.text("is_active AND deleted_at IS NULL"),
    )
    op.create_index("ix_templates_tenant_updated", "templates", ["tenant_id", "updated_at"])
    op.create_index(
        "uq_templates_name",
        "templates",
        [
            "tenant_id",
            sa.text("coalesce(owner_id, '')"),
            "event_key",
            "channel",
            sa.text("lower(name)"),
        ],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_templates_active_default",
        "templates",
        [
            "tenant_id",
            sa.text("coalesce(owner_id, '')"),
            "event_key",
            "channel",
            sa.text("lower(locale)"),
        ],
        unique=True,
        postgresql_where=sa.text("is_default AND is_active AND deleted_at IS NULL"),
    )

    op.create_table(
        "template_versions",
        sa.Column("id", sa.UUID(), primary_key=True),
        sa.Column(
            "template_id",
            sa.UUID(),
            sa.ForeignKey("templates.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        *_content_columns(),
        _now("created_at"),
        sa.UniqueConstraint("template_id", "version"),
    )

    op.create_table(
        "email_layouts",
        sa.Column(
            "tenant_id",
            sa.UUID(),
            sa.ForeignKey("tenants.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("version_id", sa.UUID(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        _now("updated_at"),
    )

    op.add_column("deliveries", sa.Column("template_version_id", sa.UUID(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "template_version_id")
    op.drop_table("email_layouts")
    op.drop_table("template_versions")
    op.drop_table("templates")
