"""The chat channel's one provider, "chat": a delivery's address names its platform
(`slack:U123`, `teams:https://...`), and the platform's provider sends it."""

from collections.abc import Sequence
from dataclasses import replace

from channels.base import ChatMessage, ChatProvider, PermanentSendError, SendResult
from domain.chat import split_chat_address


class ChatRouter:
    name = "chat"

    def __init__(self, providers: Sequence[ChatProvider]):
        self._by_platform = {provider.name: provider for provider in providers}

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self._by_platform)

    async def send_chat(self, message: ChatMessage) -> SendResult:
        try:
            platform, address = split_chat_address(message.to)
        except ValueError as exc:
            raise PermanentSendError(str(exc)) from exc
        provider = self._by_platform.get(platform)
        if provider is None:
            raise PermanentSendError(
                f"no {platform} provider is configured (CHAT_PROVIDERS)", provider_fault=True
            )
        return await provider.send_chat(replace(message, to=address))

    async def close(self) -> None:
        for provider in self._by_platform.values():
            close = getattr(provider, "close", None)
            if close is not None:
                await close()
