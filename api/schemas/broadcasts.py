"""Bodies of /v1/broadcasts: one notification to a whole audience (a list of recipients, a
topic's subscribers, or every recipient of the tenant), its progress, and its steering."""

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import ExternalId, InputModel
from api.schemas.notifications import MessageFields
from api.schemas.pages import Page
from api.schemas.topics import TopicKey
from domain.broadcasts import MAX_LISTED_RECIPIENTS, AudienceKind


class Audience(InputModel):
    """Exactly one of `recipients`, `topic` or `all`."""

    recipients: list[ExternalId] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LISTED_RECIPIENTS,
        description=f"Recipients' external ids, 1 to {MAX_LISTED_RECIPIENTS:,}; each must be a "
        "recipient of the tenant.",
    )
    topic: TopicKey | None = Field(
        default=None, description="A topic's subscribers, as they are when the broadcast runs."
    )
    all: Literal[True] | None = Field(
        default=None, description="Every recipient of the tenant, as they are when it runs."
    )

    @model_validator(mode="after")
    def _one(self) -> "Audience":
        given = [v for v in (self.recipients, self.topic, self.all) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of recipients, topic or all")
        return self


class BroadcastCreate(MessageFields):
    audience: Audience


class BroadcastAccepted(BaseModel):
    id: uuid.UUID
    status: str
    workflow_id: str
    idempotency_key: str
    replayed: bool = Field(description="True when this Idempotency-Key was seen before.")
    total: int | None = Field(
        description="The audience's size: known now for listed recipients; for a topic or "
        "every recipient, counted when the broadcast starts."
    )


class AudiencePublic(BaseModel):
    kind: AudienceKind = Field(description="recipients (listed), topic, or tenant (all).")
    topic: str | None = None


class BroadcastProgressPublic(BaseModel):
    """Where a broadcast is. `planned` counts recipients written (one notification each);
    `sent`, `suppressed`, `deferred` and `failed` count their deliveries, one per channel."""

    id: uuid.UUID
    status: str
    total: int | None
    planned: int
    sent: int
    suppressed: int
    deferred: int
    failed: int
    rate_per_second: float | None = Field(
        default=None, description="Recipients written per second since it started."
    )
    eta_seconds: float | None = Field(
        default=None, description="Seconds until every recipient is written, at that rate."
    )


class BroadcastPublic(BroadcastProgressPublic):
    event_key: str
    audience: AudiencePublic
    priority: str
    channels: list[str] | None
    context: dict[str, Any]
    send_at: datetime | None
    workflow_id: str
    idempotency_key: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class BroadcastPage(Page[BroadcastPublic]):
    pass
