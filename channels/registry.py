"""The configured providers of each channel, by name, in failover order.

config/providers.py builds them from Settings; the adapters here take plain values.
"""

import asyncio
import logging
from dataclasses import dataclass

from channels.base import EmailProvider, SmsProvider

EMAIL_PROVIDERS = ("smtp", "sendgrid")
SMS_PROVIDERS = ("twilio", "twilio_secondary", "outbox")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Providers:
    email: dict[str, EmailProvider]  # by name, in failover order
    sms: dict[str, SmsProvider]

    def email_provider(self, name: str | None) -> EmailProvider:
        return self.email[name] if name else next(iter(self.email.values()))

    def sms_provider(self, name: str | None) -> SmsProvider:
        return self.sms[name] if name else next(iter(self.sms.values()))

    async def close(self) -> None:
        """Let go of what the providers hold open (SMTP sessions), once their worker has
        stopped. A provider may have an async `close()`; each is bounded in time by itself,
        and one that fails does not keep the others open."""
        providers = (*self.email.values(), *self.sms.values())
        closes = [provider.close() for provider in providers if hasattr(provider, "close")]
        for outcome in await asyncio.gather(*closes, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.warning("closing a provider failed", exc_info=outcome)
