"""A recipient's chat addresses, one per platform, as requests give them (the rules:
domain/chat.py). A bad one is refused naming it: `chat_addresses.slack`."""

from typing import Annotated, Any

from pydantic import AfterValidator, Field, SerializerFunctionWrapHandler, model_serializer

from api.schemas.common import InputModel
from domain.chat import check_chat_addresses


def _address_on(platform: str) -> AfterValidator:
    def check(address: str) -> str:
        try:
            return check_chat_addresses({platform: address})[platform]
        except ValueError as exc:  # its message names the platform, which the field name does
            raise ValueError(str(exc).removeprefix(f"{platform}: ")) from None

    return AfterValidator(check)


class ChatAddresses(InputModel):
    """Where the recipient is reached on each platform (one field per domain.chat.PLATFORMS);
    a chat notification goes to the first of slack, teams, discord the recipient has."""

    slack: Annotated[str, _address_on("slack")] | None = Field(
        default=None,
        description="A member or channel id (`U024BE7LH`), sent with the bot token; or an "
        "incoming webhook URL.",
    )
    teams: Annotated[str, _address_on("teams")] | None = Field(
        default=None, description="An incoming webhook or Workflows URL."
    )
    discord: Annotated[str, _address_on("discord")] | None = Field(
        default=None, description="A webhook URL."
    )

    @model_serializer(mode="wrap")
    def _only_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Stored and shown as the platforms the recipient has an address on, no nulls.
        return {platform: value for platform, value in handler(self).items() if value is not None}
