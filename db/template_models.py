"""Tables of the template system: templates, their immutable versions, tenant email layouts."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, now_column

# The template parts that hold Jinja source; a version keeps a copy of each.
CONTENT_COLUMNS = ("subject", "html_body", "text_body", "body", "action_url", "icon")
LIVE = text("deleted_at IS NULL")


class _TemplateContent:
    """The columns a template and each of its versions share: what a version freezes."""

    name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(35))
    subject: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    action_url: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(Text)  # push: the icon's URL (migration 0022)
    required_placeholders: Mapped[list[str]] = mapped_column(JSONB, default=list)
    fallbacks: Mapped[dict[str, Any]] = mapped_column(default=dict)


class NotificationTemplate(_TemplateContent, Base):
    """A tenant's (or one organizer's, when `owner_id` is set) template for an event and channel.

    The row holds the current content too, so choosing and rendering a template at send
    time is one read of this table; `current_version_id` names that content's version.
    """

    __tablename__ = "templates"
    __table_args__ = (
        # The send-time lookup: live, active templates of one event and channel.
        Index(
            "ix_templates_send_lookup",
            "tenant_id",
            "event_key",
            "channel",
            postgresql_where=text("is_active AND deleted_at IS NULL"),
        ),
        Index("ix_templates_tenant_updated", "tenant_id", "updated_at"),
        Index(
            "uq_templates_name",
            "tenant_id",
            func.coalesce(text("owner_id"), ""),
            "event_key",
            "channel",
            func.lower(text("name")),
            unique=True,
            postgresql_where=LIVE,
        ),
        Index(
            "uq_templates_active_default",
            "tenant_id",
            func.coalesce(text("owner_id"), ""),
            "event_key",
            "channel",
            func.lower(text("locale")),
            unique=True,
            postgresql_where=text("is_default AND is_active AND deleted_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    owner_id: Mapped[str | None] = mapped_column(String(255))  # an organizer's external id
    event_key: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # No foreign key: the template and its first version are written in one transaction,
    # and a circular constraint would only complicate that insert.
    current_version_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TemplateVersion(_TemplateContent, Base):
    """One saved content of a template. Never updated: deliveries point at it."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = now_column()


class TenantEmailLayout(Base):
    """A tenant's own email frame; tenants without one get Herald's default layout.

    `version_id` changes on every save, because compiled emails are cached by it.
    """

    __tablename__ = "email_layouts"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    html: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = now_column()
