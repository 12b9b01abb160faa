"""Snoozing an inbox message: what the recipient's client sends and gets back."""

from pydantic import BaseModel, Field

from api.schemas.common import AwareDateTime, InputModel
from api.schemas.inbox import InboxCountsPublic, MessagePublic


class SnoozeRequest(InputModel):
    until: AwareDateTime = Field(
        description="When the message returns: ISO 8601 with an offset, at least "
        "INBOX_MIN_SNOOZE_SECONDS (5 minutes) and at most 90 days ahead, before the message "
        "expires.",
        examples=["2026-05-01T09:00:00+02:00"],
    )


class SnoozeResult(BaseModel):
    message: MessagePublic = Field(description="The message after the change.")
    counts: InboxCountsPublic = Field(description="The feed's counts after the change.")
