"""Broadcasts and topics (migration 0021; the design in docs/broadcasts.md).

A broadcast is one request to notify a whole audience: the recipients it lists
(broadcast_recipients), a topic's subscribers, or every recipient of the tenant. Its workflow
walks that audience in pages by recipient id and writes, per page, one notification per recipient
(notifications.broadcast_id, idempotency key "broadcast:<broadcast>:<recipient>") with its
deliveries; the counters here advance in the same transaction as the rows they count."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, now_column


class Topic(Base):
    __tablename__ = "topics"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = now_column()


class TopicSubscription(Base):
    __tablename__ = "topic_subscriptions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "topic_key"], ["topics.tenant_id", "topics.key"], ondelete="CASCADE"
        ),
        Index("ix_topic_subscriptions_recipient", "recipient_id", "topic_key"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    topic_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipients.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = now_column()


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index("ix_broadcasts_tenant_created", "tenant_id", text("created_at DESC")),
        # The stranded-broadcasts sweep: stored but never started.
        Index(
            "ix_broadcasts_unstarted",
            "created_at",
            postgresql_where=text("started_at IS NULL AND status IN ('scheduled', 'running')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    event_key: Mapped[str] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(10))
    channels: Mapped[list[str] | None] = mapped_column(ARRAY(String(10)))  # None: preferences
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    inbox_options: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    audience_kind: Mapped[str] = mapped_column(String(10))  # domain.broadcasts.AudienceKind
    topic_key: Mapped[str | None] = mapped_column(String(100))
    send_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    workflow_id: Mapped[str] = mapped_column(String(600))
    status: Mapped[str] = mapped_column(String(12))  # domain.broadcasts.BroadcastStatus
    # The audience's size when its walk began (None before): the progress' denominator.
    total: Mapped[int | None] = mapped_column(Integer)
    # Recipients written so far, and what their deliveries came to (a recipient with two
    # channels counts once in planned and once per channel below).
    planned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    suppressed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deferred: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The last recipient id whose page was written: where a resumed walk goes on.
    cursor: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = now_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BroadcastRecipient(Base):
    """A listed audience's member (audience_kind "recipients")."""

    __tablename__ = "broadcast_recipients"

    broadcast_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipients.id", ondelete="CASCADE"), primary_key=True
    )
