"""Chat through Slack: with the bot token, chat.postMessage (official SDK, slack_sdk) to a
member or channel id (U..., C..., G..., D..., W...); or a POST to an incoming webhook URL
(https://hooks.slack.com/services/...) through the SSRF guard, which needs no token.

The message is Block Kit: a header with the title, a section with the text in Slack's mrkdwn,
a button to the action URL; `text` (the notification's preview, and what clients without
blocks show) is the same text. Herald's text is markdown-ish; `mrkdwn` converts what differs.
"""

import re
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from channels.base import ChatMessage, PermanentSendError, SendResult, TransientSendError
from channels.chat_http import MAX_DETAIL_CHARS, ChatHttp, shorten
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from domain.chat import is_webhook_url

MAX_HEADER_CHARS = 150  # a header block's plain text
MAX_SECTION_CHARS = 3000  # a section block's text
BUTTON_TEXT = "Open"

_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def mrkdwn(text: str) -> str:
    """Markdown-ish text as Slack's mrkdwn: `&`, `<` and `>` escaped (so rendered values
    cannot write `<!channel>` or a link of their own), `[label](url)` -> `<url|label>`,
    `**bold**` and `__bold__` -> `*bold*`, `~~struck~~` -> `~struck~`, `# Heading` ->
    `*Heading*`. Italics (`_x_`), code and lists read the same in both and are left as they
    are; a single `*x*` (markdown's italics) shows bold in Slack."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _LINK.sub(lambda m: f"<{m[2]}|{m[1].replace('|', '/')}>", text)
    text = _BOLD.sub(r"*\2*", text)
    text = _STRIKE.sub(r"~\1~", text)
    return _HEADING.sub(r"*\1*", text)


def slack_payload(message: ChatMessage) -> dict[str, Any]:
    """The `text` and `blocks` of a message (the same for chat.postMessage and webhooks):
    the message's own blocks when it has them, else header, section and button."""
    body = mrkdwn(message.text)
    text = f"*{mrkdwn(message.title)}*\n{body}" if message.title else body
    if message.blocks:
        return {"text": text, "blocks": message.blocks}
    blocks: list[dict[str, Any]] = []
    if message.title:
        header = {"type": "plain_text", "text": shorten(message.title, MAX_HEADER_CHARS)}
        blocks.append({"type": "header", "text": header})
    if body:
        section = {"type": "mrkdwn", "text": shorten(body, MAX_SECTION_CHARS)}
        blocks.append({"type": "section", "text": section})
    if message.action_url:
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": BUTTON_TEXT},
            "url": message.action_url,
        }
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": text, "blocks": blocks}


class SlackChatProvider:
    name = "slack"

    def __init__(
        self,
        *,
        bot_token: str | None,
        base_url: str,
        timeout: float = 10.0,
        allow_private: bool = False,
    ):
        self._token = bot_token or None
        self._base_url = base_url
        self._timeout = timeout
        self._http = ChatHttp(self.name, ERRORS, timeout=timeout, allow_private=allow_private)
        # Made at the first Web API call (aiohttp wants a running event loop), then reused.
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    async def send_chat(self, message: ChatMessage) -> SendResult:
        if is_webhook_url(message.to):
            return await self._send_to_webhook(message)
        return await self._post_message(message)

    async def _post_message(self, message: ChatMessage) -> SendResult:
        if self._token is None:
            raise PermanentSendError(
                f"SLACK_BOT_TOKEN is not set: slack cannot post to {message.to}"
                " (a Slack incoming webhook URL needs no token)",
                code="not_authed",
                provider_fault=True,
            )
        try:
            answer = await self._web_client().chat_postMessage(
                channel=message.to, unfurl_links=False, **slack_payload(message)
            )
        except SlackApiError as exc:
            raise self._api_failure(exc) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise TransientSendError(f"slack unreachable: {type(exc).__name__} {exc}") from exc
        return SendResult(self.name, answer.get("ts"), {"channel": answer.get("channel")})

    def _api_failure(self, exc: SlackApiError) -> Exception:
        # The SDK's response: a SlackResponse (status_code, data), or aiohttp's own response
        # (status) when the body was not JSON.
        response = exc.response
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        data = getattr(response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        headers = getattr(response, "headers", None) or {}
        return self._http.failure(
            code or str(status),
            f"chat.postMessage answered {status}",
            status=status,
            retry_after=headers.get("Retry-After"),
        )

    def _web_client(self) -> AsyncWebClient:
        if self._client is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                session=self._session,
                retry_handlers=[],  # Herald retries (with backoff, Retry-After and the circuit)
            )
        return self._client

    async def _send_to_webhook(self, message: ChatMessage) -> SendResult:
        response = await self._http.post_webhook(message.to, slack_payload(message))
        if response.is_success:  # Slack answers 200 "ok"; it gives no message id
            return SendResult(self.name, None, {"status": response.status_code})
        # Slack's webhooks explain a refusal with a code as the body: no_service, ...
        code = response.text.strip()[:MAX_DETAIL_CHARS]
        raise self._http.webhook_failure(response, code=code or None, detail=code)

    async def close(self) -> None:
        await self._http.close()
        if self._session is not None:
            await self._session.close()


def _build(config: ProviderConfig) -> SlackChatProvider:
    return SlackChatProvider(
        bot_token=config.get("slack_bot_token"),
        base_url=config["slack_base_url"],
        timeout=config.timeout,
        allow_private=config.allow_private_addresses,
    )


ERRORS = {
    # chat.postMessage's error codes (https://api.slack.com/methods/chat.postMessage)
    "ratelimited": ErrorKind.TRANSIENT,
    "429": ErrorKind.TRANSIENT,
    "internal_error": ErrorKind.TRANSIENT,
    "fatal_error": ErrorKind.TRANSIENT,
    "service_unavailable": ErrorKind.TRANSIENT,
    "request_timeout": ErrorKind.TRANSIENT,
    "channel_not_found": ErrorKind.PERMANENT,
    "user_not_found": ErrorKind.PERMANENT,
    "is_archived": ErrorKind.PERMANENT,
    "not_in_channel": ErrorKind.PERMANENT,
    "msg_too_long": ErrorKind.PERMANENT,
    "invalid_blocks": ErrorKind.PERMANENT,
    "no_text": ErrorKind.PERMANENT,
    "restricted_action": ErrorKind.PERMANENT,
    "invalid_auth": ErrorKind.PROVIDER_REFUSED,
    "not_authed": ErrorKind.PROVIDER_REFUSED,
    "account_inactive": ErrorKind.PROVIDER_REFUSED,
    "token_revoked": ErrorKind.PROVIDER_REFUSED,
    "missing_scope": ErrorKind.PROVIDER_REFUSED,
    # incoming webhooks' answers: the webhook (the recipient's address) is gone or refused
    "invalid_payload": ErrorKind.PERMANENT,  # 400
    "action_prohibited": ErrorKind.PERMANENT,  # 403
    "invalid_token": ErrorKind.PERMANENT,  # 403
    "no_service": ErrorKind.PERMANENT,  # 404
    "channel_is_archived": ErrorKind.PERMANENT,  # 410
    "403": ErrorKind.PERMANENT,
    "404": ErrorKind.PERMANENT,
    "410": ErrorKind.PERMANENT,
    "5xx": ErrorKind.TRANSIENT,
}

DECLARATION = ProviderDeclaration(
    name="slack",
    channel="chat",
    summary="Slack: chat.postMessage with the bot token (slack_sdk) to a member or channel id,"
    " or a POST to the recipient's incoming webhook URL (no token needed)",
    build=_build,
    settings=(
        # Optional: without it Slack still posts to incoming webhook URLs.
        Setting("slack_bot_token", secret=True, required=False),
        Setting("slack_base_url"),
    ),
    target="slack_base_url",
    errors=ERRORS,
)
