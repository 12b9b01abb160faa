"""Chat through Microsoft Teams: an Adaptive Card POSTed to the recipient's incoming webhook or
Workflows ("When a Teams webhook request is received") URL, through the SSRF guard.

The card: the title as a bold TextBlock, the text as a TextBlock (Teams renders a markdown
subset in it: **bold**, _italic_, [links](url), lists, so Herald's text goes as it is), and an
Action.OpenUrl button to the action URL. A message with its own `blocks` uses them as the
card's body. Teams answers 200 (older webhooks, body "1") or 202 (Workflows), and gives no
message id.
"""

from typing import Any

from channels.base import ChatMessage, SendResult
from channels.chat_http import ChatHttp
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration

CARD_VERSION = "1.4"  # what both the old webhooks and Workflows render
BUTTON_TEXT = "Open"


def teams_card(message: ChatMessage) -> dict[str, Any]:
    """The webhook's body: a message with one Adaptive Card attachment."""
    body: list[dict[str, Any]] = list(message.blocks or [])
    if not body:
        if message.title:
            body.append(
                {
                    "type": "TextBlock",
                    "text": message.title,
                    "weight": "Bolder",
                    "size": "Medium",
                    "wrap": True,
                }
            )
        body.append({"type": "TextBlock", "text": message.text, "wrap": True})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
    }
    if message.action_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": BUTTON_TEXT, "url": message.action_url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


class TeamsChatProvider:
    name = "teams"

    def __init__(self, *, timeout: float = 10.0, allow_private: bool = False):
        self._http = ChatHttp(self.name, ERRORS, timeout=timeout, allow_private=allow_private)

    async def send_chat(self, message: ChatMessage) -> SendResult:
        response = await self._http.post_webhook(message.to, teams_card(message))
        if not response.is_success:
            raise self._http.webhook_failure(response)
        return SendResult(self.name, None, {"status": response.status_code})

    async def close(self) -> None:
        await self._http.close()


def _build(config: ProviderConfig) -> TeamsChatProvider:
    return TeamsChatProvider(timeout=config.timeout, allow_private=config.allow_private_addresses)


ERRORS = {
    # The URL is the recipient's: a refusal of it (even 401/403: a revoked webhook or flow)
    # is the address's fault, not Herald's account's.
    "400": ErrorKind.PERMANENT,
    "401": ErrorKind.PERMANENT,
    "403": ErrorKind.PERMANENT,
    "404": ErrorKind.PERMANENT,
    "410": ErrorKind.PERMANENT,
    "413": ErrorKind.PERMANENT,
    "429": ErrorKind.TRANSIENT,
    "5xx": ErrorKind.TRANSIENT,
}

DECLARATION = ProviderDeclaration(
    name="teams",
    channel="chat",
    summary="Microsoft Teams: an Adaptive Card POSTed to the recipient's incoming webhook or"
    " Workflows URL",
    build=_build,
    errors=ERRORS,
)
