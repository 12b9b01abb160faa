"""Bodies of /v1/settings/delivery-policy."""

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt, model_validator

from api.schemas.common import EventKey, InputModel
from domain.policy import DEFAULT_REMINDER_EVENT_KEYS
from domain.types import Channel

MAX_RETRY_WINDOW_MINUTES = 3 * 24 * 60  # as long as the leading services retry


class FallbackRuleIn(InputModel):
    """If `from_channel` has not reached `unless` within `within_minutes` (or failed),
    send `to_channel`."""

    from_channel: Channel
    to_channel: Channel
    unless: Literal["delivered", "opened", "clicked"] = "delivered"
    within_minutes: Annotated[StrictFloat, Field(gt=0, le=7 * 24 * 60)]

    @model_validator(mode="after")
    def _two_channels(self) -> "FallbackRuleIn":
        if self.from_channel == self.to_channel:
            raise ValueError("to_channel must differ from from_channel")
        return self


class DeliveryPolicySettings(InputModel):
    reminder_event_keys: list[EventKey] = Field(
        default_factory=lambda: sorted(DEFAULT_REMINDER_EVENT_KEYS),
        description="Event keys counted against each recipient's daily reminder cap.",
    )
    urgent_bypass: dict[EventKey, StrictBool] = Field(
        default_factory=dict,
        description="Whether an urgent notification of this event key bypasses quiet hours, "
        "weekends, digests and rate limits (unlisted keys bypass). Opt-outs always apply.",
    )
    fallbacks: dict[EventKey, FallbackRuleIn] = Field(
        default_factory=dict, description="Channel fallback per event key."
    )
    retry_window_minutes: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_RETRY_WINDOW_MINUTES,
        description="How long a send failing for a provider's reasons (an outage, timeouts, "
        "5xx) keeps being retried, with backoff, before it fails; null: Herald's "
        "DELIVERY_MAX_RETRY_SECONDS (an hour). At most 3 days.",
    )
