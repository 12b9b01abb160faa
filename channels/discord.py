"""Chat through Discord: a POST to the recipient's webhook URL
(https://discord.com/api/webhooks/<id>/<token>) through the SSRF guard, with `?wait=true` so
that Discord answers with the message (its id).

The message: `content` is the text (Discord renders markdown as Herald writes it), at most
2,000 characters; the title, linked to the action URL, is an embed. No mention in the text
pings anyone (`allowed_mentions` is empty): rendered values cannot write `@everyone`.
"""

from typing import Any

from channels.base import ChatMessage, SendResult
from channels.chat_http import MAX_DETAIL_CHARS, ChatHttp, shorten
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration
from channels.http_status import json_object

MAX_CONTENT_CHARS = 2000
MAX_TITLE_CHARS = 256


def discord_payload(message: ChatMessage) -> dict[str, Any]:
    content = shorten(message.text, MAX_CONTENT_CHARS)
    if message.action_url and not message.title:  # no embed to carry the link: it goes last
        room = max(MAX_CONTENT_CHARS - len(message.action_url) - 1, 1)
        content = "\n".join(filter(None, (shorten(message.text, room), message.action_url)))
    payload: dict[str, Any] = {
        "content": content,
        "allowed_mentions": {"parse": []},
    }
    if message.title:
        embed = {"title": shorten(message.title, MAX_TITLE_CHARS)}
        if message.action_url:
            embed["url"] = message.action_url
        payload["embeds"] = [embed]
    return payload


class DiscordChatProvider:
    name = "discord"

    def __init__(self, *, timeout: float = 10.0, allow_private: bool = False):
        self._http = ChatHttp(self.name, ERRORS, timeout=timeout, allow_private=allow_private)

    async def send_chat(self, message: ChatMessage) -> SendResult:
        response = await self._http.post_webhook(
            message.to, discord_payload(message), params={"wait": "true"}
        )
        answer = json_object(response)
        if not response.is_success:
            # {"message": "Unknown Webhook", "code": 10015}; a 429 adds "retry_after" (seconds,
            # finer than the Retry-After header).
            code = answer.get("code")
            retry_after = answer.get("retry_after")
            raise self._http.webhook_failure(
                response,
                code=str(code) if code else None,
                detail=str(answer.get("message") or response.text[:MAX_DETAIL_CHARS]),
                retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
            )
        message_id = answer.get("id")
        return SendResult(
            self.name, str(message_id) if message_id else None, {"status": response.status_code}
        )

    async def close(self) -> None:
        await self._http.close()


def _build(config: ProviderConfig) -> DiscordChatProvider:
    return DiscordChatProvider(timeout=config.timeout, allow_private=config.allow_private_addresses)


ERRORS = {
    "10015": ErrorKind.PERMANENT,  # Unknown Webhook (deleted)
    "50027": ErrorKind.PERMANENT,  # Invalid Webhook Token
    "50035": ErrorKind.PERMANENT,  # Invalid Form Body
    # The URL is the recipient's: its refusal is the address's fault, not Herald's account's.
    "401": ErrorKind.PERMANENT,
    "403": ErrorKind.PERMANENT,
    "404": ErrorKind.PERMANENT,
    "429": ErrorKind.TRANSIENT,
    "5xx": ErrorKind.TRANSIENT,
}

DECLARATION = ProviderDeclaration(
    name="discord",
    channel="chat",
    summary="Discord: a POST to the recipient's webhook URL (content and an embed)",
    build=_build,
    errors=ERRORS,
)
