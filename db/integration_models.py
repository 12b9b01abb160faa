"""Tables of what Herald offers the services that call it (migration 0023): outbound status
webhooks (endpoints, the messages sent to them and each attempt), recipients' consent history,
and the record of erasures."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, now_column


class WebhookEndpoint(Base):
    """A tenant's receiver of status events. `event_types` empty: every type. The signing
    secret is sealed (services/inbox_secrets.SecretBox, kid "webhook-endpoint:<id>"); after a
    rotation the previous one also signs until `previous_secret_expires_at`."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_tenant", "tenant_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(200))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(40)), server_default="{}")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # Why it was disabled: by the tenant, or by Herald after failing too long (an alert too).
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    secret_sealed: Mapped[str] = mapped_column(Text)
    previous_secret_sealed: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Since when every message to it has failed (None: the last one was delivered).
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()


class WebhookOutbox(Base):
    """Status events waiting to be handed to their delivery workflows: written in the same
    transaction as the change they report (a trigger on deliveries, and the code paths of
    notification.deferred and broadcast.completed), taken by the dispatcher, which starts one
    workflow per (event, endpoint) under a deterministic id, then deletes the row."""

    __tablename__ = "webhook_outbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    # What the event is about: a delivery's id, a notification's, a broadcast's.
    subject_id: Mapped[uuid.UUID] = mapped_column()
    occurred_at: Mapped[datetime] = now_column()


class WebhookMessage(Base):
    """One event for one endpoint: its id is the `webhook-id` (the same on every attempt and on
    a replay, so receivers deduplicate). `payload` is the last one sent (each attempt carries
    the subject's status at that time, and a timestamp)."""

    __tablename__ = "webhook_messages"
    __table_args__ = (
        Index(
            "ix_webhook_messages_endpoint", "endpoint_id", text("created_at DESC"), text("id DESC")
        ),
        # The messages about a delivery, notification or broadcast (a person's erasure).
        Index("ix_webhook_messages_subject", "subject_id"),
        # The dispatcher's sweep: pending messages by when their next attempt is due.
        Index(
            "ix_webhook_messages_pending",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[str] = mapped_column(String(12))  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    workflow_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = now_column()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One POST of a message: its answer (status and the start of its body) or its error."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_message", "message_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_messages.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[datetime] = now_column()
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # at most 2,000 characters
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class ConsentEvent(Base):
    """One opt-in or opt-out of a recipient: what (a channel, a category or event key, or
    everything), which way, where it came from (api, preferences, unsubscribe_link,
    spam_report, provider_unsubscribe, inbox, dashboard) and when."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_recipient", "recipient_id", text("at DESC")),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipients.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(10))  # opt_in, opt_out
    channel: Mapped[str | None] = mapped_column(String(10))  # None: every channel
    scope: Mapped[str | None] = mapped_column(String(200))  # a category or event key; None: all
    source: Mapped[str] = mapped_column(String(30))
    details: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    at: Mapped[datetime] = now_column()


class Erasure(Base):
    """A recipient erased (DELETE /v1/recipients/{id}): who asked and when, and what was
    removed, counted; nothing about the person (the recipient's row keeps its id only)."""

    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_tenant", "tenant_id", text("requested_at DESC")),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    recipient_id: Mapped[uuid.UUID] = mapped_column()  # the anonymous row's id
    requested_by: Mapped[str] = mapped_column(String(200))  # "api_key:<id>", "operator:<id>"
    requested_at: Mapped[datetime] = now_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed: Mapped[dict[str, Any]] = mapped_column(server_default="{}")  # counts by kind
