"""The answer of POST /v1/webhook-endpoints/{endpoint_id}/messages/{message_id}/replay."""

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class WebhookReplayStarted(BaseModel):
    message_id: uuid.UUID = Field(
        description="The message, sent again with this same `webhook-id`: receivers that "
        "processed it already can tell."
    )
    endpoint_id: uuid.UUID
    status: Literal["pending"] = Field(
        description="Pending until its attempts, on a fresh schedule, deliver it or fail."
    )
    replay: int = Field(description="Which replay of the message this is: 1 for the first.")
