"""Bodies of /v1/webhook-endpoints: a tenant's receivers of status events (their URL, the event
types they take, their signing secret, shown once), and the messages sent to each with every
attempt."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)

from api.schemas.common import InputModel
from api.schemas.pages import Page
from api.schemas.webhook_channel import MAX_URL_LENGTH
from domain.status_webhooks import EventType

MessageStatus = Literal["pending", "delivered", "failed"]

Url = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH)]
Description = Annotated[str, StringConstraints(max_length=200)]
# Each type once, in the order given.
EventTypes = Annotated[list[EventType], AfterValidator(lambda types: list(dict.fromkeys(types)))]

URL_DOC = (
    "Where status events are POSTed: an https URL whose host resolves to public addresses only "
    "(http, and private addresses, only when WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on), without "
    "user, password or fragment. Checked now and again at every send."
)
EVENT_TYPES_DOC = "The event types sent to it; empty (or left out): every type."


class WebhookEndpointCreate(InputModel):
    url: Url = Field(description=URL_DOC, examples=["https://hooks.acme.example/herald-status"])
    description: Description | None = Field(default=None, examples=["Bookings service"])
    event_types: EventTypes = Field(
        default_factory=list,
        description=EVENT_TYPES_DOC,
        examples=[["delivery.delivered", "delivery.failed"]],
    )
    enabled: StrictBool = Field(default=True, description="Off: nothing is sent to it.")


class WebhookEndpointPatch(InputModel):
    """The fields to change; a field left out keeps its value (`description: null` removes
    it). Turning `enabled` on again clears why it was disabled and its failing streak."""

    url: Url | None = Field(default=None, description=URL_DOC)
    description: Description | None = None
    event_types: EventTypes | None = Field(default=None, description=EVENT_TYPES_DOC)
    enabled: StrictBool | None = None

    @field_validator("url", "event_types", "enabled")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:  # only a null that was sent is validated: a default is not
            raise ValueError("may not be null: leave it out to keep its value")
        return value


class WebhookEndpointPublic(BaseModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str] = Field(description=EVENT_TYPES_DOC)
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why it is off: turned off by the tenant, or by Herald after failing too long."
    )
    failing_since: datetime | None = Field(
        description="Since when every message to it has failed; null once one is delivered."
    )
    secret_hint: str | None = Field(
        description="The signing secret's last characters, to tell which one a receiver has; "
        "null when it does not open with this SECRET_KEY (rotate it)."
    )
    created_at: datetime
    updated_at: datetime


class WebhookEndpointWithSecret(WebhookEndpointPublic):
    secret: str = Field(
        description="The signing secret (`whsec_...`, Standard Webhooks): only in the answer "
        "that made it (the creation, or rotate-secret), never again."
    )


WebhookEndpointPage = Page[WebhookEndpointPublic]


class WebhookMessageSummary(BaseModel):
    id: uuid.UUID = Field(description="The message's `webhook-id`: the same on every attempt.")
    event_type: str
    subject_id: uuid.UUID = Field(
        description="What the event is about: a delivery's, a notification's or a broadcast's id."
    )
    status: str = Field(description="pending, delivered or failed.")
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None


WebhookMessagePage = Page[WebhookMessageSummary]


class WebhookAttemptPublic(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's answer; null: none came.")
    response_body: str | None = Field(description="The start of the receiver's answer.")
    error: str | None = Field(description="Why the attempt failed, if it did.")
    duration_ms: int


class WebhookMessagePublic(WebhookMessageSummary):
    payload: dict[str, Any] = Field(description="What was sent (signed), as JSON.")
    attempts: list[WebhookAttemptPublic] = Field(description="Every attempt, oldest first.")
