"""Every provider Herald has, from their modules' declarations, and the configured ones of
each channel, by name, in failover order.

config/providers.py builds them from Settings; the adapters take plain values. A new provider
is its module (with a DECLARATION) and one line in `_MODULES`.
"""

import asyncio
import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from channels.base import EmailProvider, SmsProvider
from channels.declaration import ProviderDeclaration
from domain.send_rate import SendRate
from domain.types import Channel

log = logging.getLogger(__name__)

# The modules that declare providers (each has DECLARATION, or DECLARATIONS for several).
_MODULES = (
    "channels.smtp",
    "channels.sendgrid",
    "channels.mailgun",
    "channels.ses",
    "channels.twilio",
    "channels.vonage",
    "channels.outbox",
    "channels.slack",
    "channels.teams",
    "channels.discord",
    "channels.fcm",
    "channels.apns",
    "channels.webpush",
    "channels.webhook",
)
# The channel providers that stand for a whole channel and send by what each message is for:
# push by the device's kind, chat by the address's platform, the webhook channel to the URL.
ROUTED_CHANNELS = {Channel.PUSH: "push", Channel.CHAT: "chat", Channel.WEBHOOK: "webhook"}


@cache
def declarations() -> Mapping[str, ProviderDeclaration]:
    """Every declared provider, by name."""
    found: dict[str, ProviderDeclaration] = {}
    for module_name in _MODULES:
        module = importlib.import_module(module_name)
        declared = getattr(module, "DECLARATIONS", None) or (module.DECLARATION,)
        for declaration in declared:
            if declaration.name in found:
                raise ValueError(f"provider {declaration.name!r} is declared twice")
            found[declaration.name] = declaration
    return found


def declared_send_rates() -> dict[str, SendRate]:
    """The send rate each provider declares (PROVIDER_RATE_LIMITS may set others)."""
    return {
        name: SendRate(d.rate_limit, burst=max(d.rate_limit, 1.0))
        for name, d in declarations().items()
        if d.rate_limit
    }


def provider_names(channel: str) -> tuple[str, ...]:
    """The declared providers of a channel."""
    return tuple(d.name for d in declarations().values() if d.channel == channel)


@dataclass(frozen=True)
class Providers:
    # Channel -> the configured providers by name, in failover order. Push and chat have one
    # each ("push", "chat": ROUTED_CHANNELS), which sends through the configured platforms.
    by_channel: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def email(self) -> Mapping[str, EmailProvider]:
        return self.by_channel.get(Channel.EMAIL, {})

    @property
    def sms(self) -> Mapping[str, SmsProvider]:
        return self.by_channel.get(Channel.SMS, {})

    def provider(self, channel: str, name: str | None) -> Any:
        """The named provider of the channel (None: its first). KeyError when there is none."""
        configured = self.by_channel.get(channel) or {}
        if name:
            return configured[name]
        if not configured:
            raise KeyError(channel)
        return next(iter(configured.values()))

    def email_provider(self, name: str | None) -> EmailProvider:
        return self.provider(Channel.EMAIL, name)

    def sms_provider(self, name: str | None) -> SmsProvider:
        return self.provider(Channel.SMS, name)

    async def close(self) -> None:
        """Let go of what the providers hold open (SMTP sessions, HTTP clients), once their
        worker has stopped. A provider may have an async `close()`; each is bounded in time by
        itself, and one that fails does not keep the others open."""
        providers = [p for configured in self.by_channel.values() for p in configured.values()]
        closes = [provider.close() for provider in providers if hasattr(provider, "close")]
        for outcome in await asyncio.gather(*closes, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.warning("closing a provider failed", exc_info=outcome)
