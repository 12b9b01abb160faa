"""Build the configured providers from Settings."""

from dataclasses import dataclass

from channels.base import EmailProvider, SmsProvider
from channels.outbox import OutboxSmsProvider
from channels.sendgrid import SendGridEmailProvider
from channels.smtp import SmtpEmailProvider
from channels.twilio import TwilioSmsProvider
from herald.settings import Settings


@dataclass(frozen=True)
class Providers:
    email: EmailProvider
    sms: SmsProvider


def build_providers(settings: Settings) -> Providers:
    return Providers(email=_email(settings), sms=_sms(settings))


def _email(settings: Settings) -> EmailProvider:
    if settings.resolved_email_provider == "sendgrid":
        return SendGridEmailProvider(
            settings.sendgrid_api_key.get_secret_value(),
            base_url=settings.sendgrid_base_url,
            timeout=settings.provider_timeout_seconds,
        )
    return SmtpEmailProvider(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        use_tls=settings.smtp_use_tls,
        start_tls=settings.smtp_start_tls,
        timeout=settings.provider_timeout_seconds,
    )


def _sms(settings: Settings) -> SmsProvider:
    if settings.resolved_sms_provider == "twilio":
        return TwilioSmsProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            settings.twilio_from_number,
            base_url=settings.twilio_base_url,
            status_callback=f"{settings.public_base_url}/v1/webhooks/twilio/status",
            timeout=settings.provider_timeout_seconds,
        )
    return OutboxSmsProvider(settings.sms_outbox_path)


def describe_providers(settings: Settings) -> dict[str, dict[str, str]]:
    """What health reports: which provider serves each channel, never its secrets."""
    email = settings.resolved_email_provider
    sms = settings.resolved_sms_provider
    return {
        "email": {"provider": email, "target": settings.sendgrid_base_url if email == "sendgrid"
                  else f"{settings.smtp_host}:{settings.smtp_port}"},
        "sms": {"provider": sms, "target": settings.twilio_base_url if sms == "twilio"
                else settings.sms_outbox_path},
        "in_app": {"provider": "database", "target": "in_app_messages"},
    }
