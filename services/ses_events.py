"""SES events through SNS: a message trusted only once its signature verifies, then applied to
its delivery as every provider's events are (services/tracking.py).

What makes a message trusted is decided in domain/sns.py; here is what needs the network: the
signing certificate fetched from SigningCertURL (once per URL per process: SNS signs with one
certificate per region for months), and a SubscriptionConfirmation confirmed by calling its
SubscribeURL, so that the topic starts sending. Any doubt is a Forbidden, and nothing is
written.
"""

import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from config.settings import Settings
from domain.provider_events import ProviderEvent
from domain.sns import SUBSCRIPTION_CONFIRMATION, SnsMessage, on_sns_host, signature_valid
from services.errors import Forbidden, Unavailable
from services.tracking import TrackingSummary, record_provider_events

log = logging.getLogger("herald.webhooks")

MAX_CERTIFICATE_BYTES = 64 * 1024  # a PEM certificate is 2 KB or so
CERTIFICATES_KEPT = 16  # SNS has a certificate per region; more means someone is trying URLs
_certificates: dict[str, x509.Certificate] = {}


@dataclass(frozen=True)
class SnsTrust:
    """Which SNS messages are accepted (from settings)."""

    host_pattern: str  # SigningCertURL and SubscribeURL hosts (SES_SNS_CERT_HOST_PATTERN)
    topic_arns: frozenset[str]  # SES_SNS_TOPIC_ARNS (the route refuses all when it is unset)
    ca_file: str | None  # trusted instead of the system's CAs (a test server's)
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "SnsTrust":
        arns = {arn.strip() for arn in settings.ses_sns_topic_arns.split(",") if arn.strip()}
        return cls(
            host_pattern=settings.ses_sns_cert_host_pattern,
            topic_arns=frozenset(arns),
            ca_file=settings.ses_sns_ca_file,
            timeout=settings.provider_timeout_seconds,
        )


async def receive_ses_message(
    session: AsyncSession,
    temporal: Client,
    trust: SnsTrust,
    message: SnsMessage,
    event: ProviderEvent | None,
) -> TrackingSummary:
    """One SNS message, verified already (verify_sns_message): a Notification's SES `event`
    applied to its delivery; a SubscriptionConfirmation confirmed (nothing to count); an
    UnsubscribeConfirmation acknowledged."""
    if message.type == SUBSCRIPTION_CONFIRMATION:
        await _confirm_subscription(message, trust)
        return TrackingSummary()
    if event is None:  # an UnsubscribeConfirmation: the topic stops sending, nothing to do
        log.info("SNS unsubscribed Herald from %s", message.topic_arn)
        return TrackingSummary()
    return await record_provider_events(session, temporal, [event])


async def verify_sns_message(message: SnsMessage, trust: SnsTrust) -> None:
    """Forbidden when the message is not from SNS, or not from an accepted topic."""
    if not on_sns_host(message.signing_cert_url, trust.host_pattern):
        raise Forbidden(
            "SigningCertURL: not an https URL on an SNS host", "SigningCertURL", "invalid_signature"
        )
    if trust.topic_arns and message.topic_arn not in trust.topic_arns:
        raise Forbidden(
            f"TopicArn: {message.topic_arn} is not one of SES_SNS_TOPIC_ARNS",
            "TopicArn",
            "unknown_topic",
        )
    certificate = await _signing_certificate(message.signing_cert_url, trust)
    if not signature_valid(message, certificate, datetime.now(UTC)):
        raise Forbidden(
            "Signature: the SNS message signature is wrong", "Signature", "invalid_signature"
        )


async def _signing_certificate(url: str, trust: SnsTrust) -> x509.Certificate:
    if (cached := _certificates.get(url)) is not None:
        return cached
    response = await _get(url, trust, "SigningCertURL")
    if response.status_code != 200 or len(response.content) > MAX_CERTIFICATE_BYTES:
        raise Forbidden(
            f"SigningCertURL: answered {response.status_code}, not a certificate",
            "SigningCertURL",
            "invalid_signature",
        )
    try:
        certificate = x509.load_pem_x509_certificate(response.content)
    except ValueError:
        raise Forbidden(
            "SigningCertURL: not a PEM certificate", "SigningCertURL", "invalid_signature"
        ) from None
    if len(_certificates) >= CERTIFICATES_KEPT:
        _certificates.clear()
    _certificates[url] = certificate
    return certificate


async def _confirm_subscription(message: SnsMessage, trust: SnsTrust) -> None:
    """Calling SubscribeURL confirms the subscription; only on an SNS host, or a forged
    confirmation would make Herald call any URL."""
    url = message.subscribe_url or ""
    if not on_sns_host(url, trust.host_pattern):
        raise Forbidden(
            "SubscribeURL: not an https URL on an SNS host; the subscription is not confirmed",
            "SubscribeURL",
            "untrusted_url",
        )
    response = await _get(url, trust, "SubscribeURL")
    if response.status_code != 200:
        raise Unavailable(f"SubscribeURL: SNS answered {response.status_code}")
    log.info("confirmed the SNS subscription to %s", message.topic_arn)


async def _get(url: str, trust: SnsTrust, field: str) -> httpx.Response:
    """GET on an SNS host, no redirects; unreachable or failing (5xx) is Unavailable, so SNS
    delivers the message again later."""
    verify: ssl.SSLContext | bool = (
        ssl.create_default_context(cafile=trust.ca_file) if trust.ca_file else True
    )
    try:
        async with httpx.AsyncClient(verify=verify, timeout=trust.timeout) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise Unavailable(f"{field}: SNS could not be reached: {exc!r}") from None
    if response.status_code >= 500:
        raise Unavailable(f"{field}: SNS answered {response.status_code}")
    return response
