"""Chat addresses: where a recipient is reached on Slack, Microsoft Teams or Discord.

A recipient's `chat_addresses` maps a platform to its address there:
- slack: a member or channel id (`U024BE7LH`, `C024BE7LR`), sent with the bot token through
  chat.postMessage; or an incoming webhook URL (https://hooks.slack.com/...);
- teams: an incoming webhook or Workflows URL (an Adaptive Card is posted to it);
- discord: a webhook URL (https://discord.com/api/webhooks/...).
A delivery's address is `<platform>:<address>`; the first platform of PLATFORMS the recipient
has an address on is the one used.
"""

import re
from collections.abc import Mapping
from typing import Any

PLATFORMS = ("slack", "teams", "discord")
MAX_ADDRESS_CHARS = 2048
_SLACK_ID = re.compile(r"^[CDGUW][A-Z0-9]{2,20}$")


def chat_address(addresses: Mapping[str, Any] | None) -> str | None:
    """`<platform>:<address>` of the first platform the recipient has an address on."""
    for platform in PLATFORMS:
        value = (addresses or {}).get(platform)
        if isinstance(value, str) and value:
            return f"{platform}:{value}"
    return None


def split_chat_address(address: str) -> tuple[str, str]:
    """(platform, address) of a delivery's chat address; ValueError if it has no platform."""
    platform, _, rest = address.partition(":")
    if platform not in PLATFORMS or not rest:
        raise ValueError(f"not a chat address: {address[:60]!r}")
    return platform, rest


def shown_address(address: str | None) -> str | None:
    """A delivery's address as logs and the dashboard show it: a chat webhook URL's path is its
    secret (whoever has it can post), so only its scheme and host are shown."""
    if not address:
        return address
    platform, _, rest = address.partition(":")
    if platform not in PLATFORMS or not is_webhook_url(rest):
        return address
    scheme, _, after = rest.partition("://")
    return f"{platform}:{scheme}://{after.split('/', 1)[0]}/…"


def is_webhook_url(value: str) -> bool:
    return value.startswith("https://") or value.startswith("http://")


def check_chat_addresses(addresses: Mapping[str, Any]) -> dict[str, str]:
    """The addresses, checked: known platforms, strings of a sane length, a Slack id or a URL;
    teams and discord take URLs only. ValueError naming the platform and the problem."""
    checked: dict[str, str] = {}
    for platform, value in addresses.items():
        if platform not in PLATFORMS:
            raise ValueError(f"{platform!r} is not a chat platform (known: {', '.join(PLATFORMS)})")
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{platform}: must be a non-empty string")
        if len(value) > MAX_ADDRESS_CHARS:
            raise ValueError(f"{platform}: at most {MAX_ADDRESS_CHARS} characters")
        if is_webhook_url(value):
            if not value.startswith("https://") and not value.startswith("http://localhost"):
                raise ValueError(f"{platform}: a webhook URL must use https")
        elif platform != "slack" or not _SLACK_ID.match(value):
            raise ValueError(
                f"{platform}: must be a webhook URL"
                + (" or a Slack member or channel id like U024BE7LH" if platform == "slack" else "")
            )
        checked[platform] = value
    return checked
