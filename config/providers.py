"""Build the configured providers from Settings, in each channel's failover order.

Here rather than in channels/ so that the provider adapters take plain values and never
read configuration themselves (an import contract in pyproject.toml keeps it so).
"""

from channels.base import EmailProvider, SmsProvider
from channels.outbox import OutboxSmsProvider
from channels.registry import EMAIL_PROVIDERS, SMS_PROVIDERS, Providers
from channels.sendgrid import SendGridEmailProvider
from channels.smtp import SmtpEmailProvider
from channels.twilio import TwilioSmsProvider
from config.settings import Settings

SMTP_SESSIONS_KEPT = 10  # at the least, for single sends


def build_providers(settings: Settings) -> Providers:
    return Providers(
        email={name: _email(settings, name) for name in settings.provider_order("email")},
        sms={name: _sms(settings, name) for name in settings.provider_order("sms")},
    )


def _email(settings: Settings, name: str) -> EmailProvider:
    if name == "sendgrid":
        if not settings.sendgrid_api_key:
            raise ValueError("the sendgrid email provider needs SENDGRID_API_KEY")
        return SendGridEmailProvider(
            settings.sendgrid_api_key.get_secret_value(),
            base_url=settings.sendgrid_base_url,
            timeout=settings.provider_timeout_seconds,
        )
    if name == "smtp":
        return SmtpEmailProvider(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            use_tls=settings.smtp_use_tls,
            start_tls=settings.smtp_start_tls,
            timeout=settings.provider_timeout_seconds,
            # A broadcast's batch sends that many at once: each keeps its session.
            keep_sessions=max(SMTP_SESSIONS_KEPT, settings.broadcast_send_concurrency),
        )
    raise ValueError(f"unknown email provider {name!r}; known: {', '.join(EMAIL_PROVIDERS)}")


def _sms(settings: Settings, name: str) -> SmsProvider:
    if name in ("twilio", "twilio_secondary"):
        sender = (
            settings.twilio_from_number
            if name == "twilio"
            else settings.twilio_secondary_from_number
        )
        if not (settings.twilio_account_sid and settings.twilio_auth_token and sender):
            raise ValueError(
                f"the {name} sms provider needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"
                " and its sender number"
            )
        provider = TwilioSmsProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            sender,
            base_url=settings.twilio_base_url,
            status_callback=f"{settings.public_base_url}/v1/webhooks/twilio/status",
            timeout=settings.provider_timeout_seconds,
        )
        provider.name = name
        return provider
    if name == "outbox":
        return OutboxSmsProvider(settings.sms_outbox_path)
    raise ValueError(f"unknown sms provider {name!r}; known: {', '.join(SMS_PROVIDERS)}")


def describe_providers(settings: Settings) -> dict[str, dict[str, object]]:
    """What health reports: which providers serve each channel, in order; never secrets."""
    targets = {
        "smtp": f"{settings.smtp_host}:{settings.smtp_port}",
        "sendgrid": settings.sendgrid_base_url,
        "twilio": settings.twilio_base_url,
        "twilio_secondary": settings.twilio_base_url,
        "outbox": settings.sms_outbox_path,
    }
    described: dict[str, dict[str, object]] = {
        channel: {
            "provider": settings.provider_order(channel)[0],
            "failover": settings.provider_order(channel),
            "target": targets[settings.provider_order(channel)[0]],
        }
        for channel in ("email", "sms")
    }
    described["in_app"] = {
        "provider": "database",
        "failover": ["database"],
        "target": "in_app_messages",
    }
    return described
