"""Email through Amazon SES's v2 API (SendEmail), with botocore.

The email goes as raw MIME, composed as for SMTP (channels/mime.py), so it carries the same
headers (List-Unsubscribe, Auto-Submitted...); SES replaces the Message-ID and Date with its
own. The delivery id travels as the message tag `herald_delivery_id`, which SES echoes in
every event it publishes (through SNS: services/ses_events.py), and the configuration set
names where those events go.

SES takes no SMTPUTF8 addresses: a non-ASCII local part fails at once, before any request, as
a fault of this provider (a failover provider may carry it).

botocore is synchronous: each send runs in a thread, on one client per provider (botocore's
clients are thread-safe; its sessions are not, so the session is used only to create it).
Without keys, botocore's usual chain finds credentials (environment, instance role...).
"""

import asyncio
from typing import Any

import botocore.config
import botocore.exceptions
import botocore.session

from channels.base import EmailMessage, PermanentSendError, SendResult, TransientSendError
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.email_headers import ascii_wire_headers
from channels.http_status import error_for_code
from channels.mime import compose
from domain.provider_events import DELIVERY_REFERENCE_ARG

ERRORS = {
    # The recipient's or the message's fault.
    "MessageRejected": ErrorKind.PERMANENT,
    "BadRequestException": ErrorKind.PERMANENT,  # an invalid address, among others
    # Herald's account or credentials: another provider may well send it.
    "AccountSuspendedException": ErrorKind.PROVIDER_REFUSED,
    "SendingPausedException": ErrorKind.PROVIDER_REFUSED,
    "MailFromDomainNotVerifiedException": ErrorKind.PROVIDER_REFUSED,
    "NotFoundException": ErrorKind.PROVIDER_REFUSED,  # the sending identity or the config set
    "AccessDeniedException": ErrorKind.PROVIDER_REFUSED,
    "AccessDenied": ErrorKind.PROVIDER_REFUSED,
    "UnrecognizedClientException": ErrorKind.PROVIDER_REFUSED,
    "InvalidClientTokenId": ErrorKind.PROVIDER_REFUSED,
    "SignatureDoesNotMatch": ErrorKind.PROVIDER_REFUSED,
    "ExpiredTokenException": ErrorKind.PROVIDER_REFUSED,
    # Flow control: the account's sending rate or quota.
    "TooManyRequestsException": ErrorKind.TRANSIENT,
    "LimitExceededException": ErrorKind.TRANSIENT,
    "Throttling": ErrorKind.TRANSIENT,
    "ThrottlingException": ErrorKind.TRANSIENT,
    "429": ErrorKind.TRANSIENT,
    "5xx": ErrorKind.TRANSIENT,
}
# Throttling says SES is up and answering: not an outage for the circuit breaker.
_FLOW_CONTROL = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)


class SesEmailProvider:
    name = "ses"

    def __init__(
        self,
        *,
        region: str,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        configuration_set: str | None = None,
        timeout: float = 10.0,
        max_connections: int = 10,
    ):
        if bool(access_key_id) != bool(secret_access_key):
            raise ValueError("SES_ACCESS_KEY_ID and SES_SECRET_ACCESS_KEY go together")
        self._configuration_set = configuration_set
        self._client = botocore.session.Session().create_client(
            "sesv2",
            region_name=region,
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=botocore.config.Config(
                # One attempt: Herald retries (with Retry-After, then failover) itself.
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=timeout,
                read_timeout=timeout,
                max_pool_connections=max_connections,
            ),
        )

    async def send_email(self, message: EmailMessage) -> SendResult:
        # botocore is synchronous; a thread keeps the worker's event loop free.
        return await asyncio.to_thread(self._send, message)

    async def close(self) -> None:
        self._client.close()

    def _send(self, message: EmailMessage) -> SendResult:
        wire = ascii_wire_headers(message, "SES")
        try:
            raw, _ = compose(message, wire)
        except ValueError as exc:
            raise PermanentSendError(f"cannot write this email: {exc}") from exc
        request: dict[str, Any] = {
            "Destination": {"ToAddresses": [wire.to]},
            "Content": {"Raw": {"Data": raw}},
        }
        if message.reference:
            request["EmailTags"] = [{"Name": DELIVERY_REFERENCE_ARG, "Value": message.reference}]
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**request)
        except botocore.exceptions.ClientError as exc:
            raise _refusal(exc) from exc
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
            # Unreachable, or no answer in time: the send may or may not have gone out.
            raise TransientSendError(f"ses unreachable: {exc}") from exc
        except (
            botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError,
        ) as exc:
            raise PermanentSendError(f"ses: {exc}", provider_fault=True) from exc
        except botocore.exceptions.ParamValidationError as exc:
            raise PermanentSendError(f"ses refused the request: {exc}") from exc
        except botocore.exceptions.BotoCoreError as exc:  # fetching credentials failed, ...
            raise TransientSendError(f"ses: {exc}") from exc
        return SendResult(
            self.name,
            response.get("MessageId"),
            {"status": response["ResponseMetadata"]["HTTPStatusCode"]},
        )


def _refusal(exc: botocore.exceptions.ClientError) -> Exception:
    """SES's answer as Herald's failure, by its error code (ERRORS), then its HTTP status."""
    error = exc.response.get("Error", {})
    metadata = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or "")
    status = metadata.get("HTTPStatusCode")
    failure = error_for_code(
        "ses",
        ERRORS,
        code,
        str(error.get("Message") or ""),
        status=status,
        retry_after=metadata.get("HTTPHeaders", {}).get("retry-after"),
        response={"code": code},
    )
    if isinstance(failure, TransientSendError) and code in _FLOW_CONTROL:
        failure.provider_down = False
    return failure


def _build(config: ProviderConfig) -> SesEmailProvider:
    return SesEmailProvider(
        region=config["ses_region"],
        endpoint_url=config.get("ses_endpoint_url"),
        access_key_id=config.get("ses_access_key_id"),
        secret_access_key=config.get("ses_secret_access_key"),
        configuration_set=config.get("ses_configuration_set"),
        timeout=config.timeout,
        max_connections=max(10, config.send_concurrency),
    )


DECLARATION = ProviderDeclaration(
    name="ses",
    channel="email",
    summary="Amazon SES's v2 API (botocore), raw MIME as over SMTP; events through SNS",
    build=_build,
    settings=(
        Setting("ses_region"),
        # Without keys, botocore's chain (environment, instance role) provides credentials.
        Setting("ses_access_key_id", required=False),
        Setting("ses_secret_access_key", secret=True, required=False),
        Setting("ses_endpoint_url", required=False),
        Setting("ses_configuration_set", required=False),
        Setting("ses_sns_topic_arns", required=False),
    ),
    target="ses_region",
    # SES's starting sending quota out of the sandbox; an account's own is in its console.
    rate_limit=14.0,
    errors=ERRORS,
)
