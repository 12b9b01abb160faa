"""The configured providers of each channel, by name, in failover order.

config/providers.py builds them from Settings; the adapters here take plain values.
"""

from dataclasses import dataclass

from channels.base import EmailProvider, SmsProvider

EMAIL_PROVIDERS = ("smtp", "sendgrid")
SMS_PROVIDERS = ("twilio", "twilio_secondary", "outbox")


@dataclass(frozen=True)
class Providers:
    email: dict[str, EmailProvider]  # by name, in failover order
    sms: dict[str, SmsProvider]

    def email_provider(self, name: str | None) -> EmailProvider:
        return self.email[name] if name else next(iter(self.email.values()))

    def sms_provider(self, name: str | None) -> SmsProvider:
        return self.sms[name] if name else next(iter(self.sms.values()))
