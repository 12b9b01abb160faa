"""What the preferences routes answer: the effective preferences, and what the recipient's
addresses unsubscribed from."""

from pydantic import BaseModel, Field

from domain.preferences import Preferences
from domain.types import Channel


class AddressUnsubscribe(BaseModel):
    channel: Channel
    category: str = Field(examples=["booking"])


class RecipientPreferences(Preferences):
    """The effective preferences (the tenant's defaults overlaid with the recipient's own
    settings), and the suppression list's entries for the recipient's addresses."""

    unsubscribed: list[AddressUnsubscribe] = Field(
        default_factory=list,
        description="Categories the recipient's address unsubscribed from on a channel, through "
        "this recipient or another with the same address: never sent there, whatever `rules` "
        "say. Read-only; `rules: {category: {channel: true}}` in a PUT or PATCH lifts one.",
    )
