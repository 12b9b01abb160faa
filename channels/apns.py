"""Push to Apple devices through the Apple Push Notification service: token-based
authentication, HTTP/2.

Herald signs a provider token (a JWT, ES256, with the team id and the key id) with the .p8
key from Apple and sends it with each request. Apple refuses a token older than an hour, and
renewing it more often than every 20 minutes (TooManyProviderTokenUpdates), so one token is
used for TOKEN_LIFETIME and then renewed; a token Apple calls expired or invalid is renewed
once at once, and the send tried again.

Errors follow Apple's documented reasons (the JSON answer's `reason`): Unregistered (410),
BadDeviceToken (400) mean the device is gone; PayloadTooLarge is
the message's fault; TooManyRequests and 5xx may pass; the provider token's and topic's
refusals are Herald's configuration. DeviceTokenNotForTopic (a token of another app) is one of
those too, not a gone device: a wrong APNS_TOPIC would otherwise deactivate every device it
reached, while refusing keeps them for when the topic is corrected."""

import ssl
import time
import uuid
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from channels.base import PushMessage, SendError, SendResult
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.http_status import error_for_code, transient_when_unreachable

TOKEN_LIFETIME = 50 * 60  # seconds: within Apple's hour, beyond its 20-minute minimum
REFUSED_TOKEN = ("ExpiredProviderToken", "InvalidProviderToken")
# apns-id: the same for a delivery's retries to a device, so Apple's answers and logs match.
APNS_ID_NAMESPACE = uuid.UUID("5b0e1c9e-7a4f-4d53-9d1c-2f3a8e6b4c71")

ERRORS = {
    "Unregistered": ErrorKind.GONE,  # 410: no longer active for the topic
    "BadDeviceToken": ErrorKind.GONE,  # 400: not a token of this environment or app
    # 400: the token is another app's, or APNS_TOPIC is wrong: the device is kept.
    "DeviceTokenNotForTopic": ErrorKind.PROVIDER_REFUSED,
    "PayloadTooLarge": ErrorKind.PERMANENT,  # 413: over 4 KB
    "ExpiredProviderToken": ErrorKind.PROVIDER_REFUSED,  # 403, after one renewal
    "InvalidProviderToken": ErrorKind.PROVIDER_REFUSED,  # 403, after one renewal
    "BadTopic": ErrorKind.PROVIDER_REFUSED,  # 400: APNS_TOPIC is wrong
    "TopicDisallowed": ErrorKind.PROVIDER_REFUSED,  # 400
    "TooManyProviderTokenUpdates": ErrorKind.TRANSIENT,  # 429
    "TooManyRequests": ErrorKind.TRANSIENT,  # 429: too many to this one device
    "InternalServerError": ErrorKind.TRANSIENT,  # 500
    "ServiceUnavailable": ErrorKind.TRANSIENT,  # 503
    "Shutdown": ErrorKind.TRANSIENT,  # 503: the server is going away; reconnect
}


class ProviderToken:
    """Apple's provider authentication token, signed with the .p8 key, renewed after
    TOKEN_LIFETIME (or when Apple refuses it)."""

    def __init__(self, key_pem: str, key_id: str, team_id: str):
        try:
            key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"APNS_KEY is not a PEM private key (the .p8 file): {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("APNS_KEY is not an elliptic-curve (P-256) key, as Apple's .p8 are")
        self._key = key
        self._key_id = key_id
        self._team_id = team_id
        self._token: str | None = None
        self._renew_at = 0.0  # time.monotonic()

    def current(self, refused: str | None = None) -> str:
        if self._token is None or time.monotonic() >= self._renew_at or self._token == refused:
            self._token = jwt.encode(
                {"iss": self._team_id, "iat": int(time.time())},
                self._key,
                algorithm="ES256",
                headers={"kid": self._key_id},
            )
            self._renew_at = time.monotonic() + TOKEN_LIFETIME
        return self._token


class ApnsPushProvider:
    name = "apns"
    kinds = ("apns",)

    def __init__(
        self,
        token: ProviderToken,
        topic: str,
        *,
        base_url: str,
        ca_file: str | None = None,
        timeout: float = 10.0,
    ):
        self._token = token
        self._topic = topic
        self._base_url = base_url.rstrip("/")
        verify = ssl.create_default_context()
        if ca_file:  # trusted beside the system's CAs (a local test server)
            verify.load_verify_locations(cafile=ca_file)
        self._client = httpx.AsyncClient(http2=True, verify=verify, timeout=timeout)

    async def send_push(self, message: PushMessage) -> SendResult:
        url = f"{self._base_url}/3/device/{message.device.token}"
        apns_id = str(uuid.uuid5(APNS_ID_NAMESPACE, f"{message.reference}:{message.device.id}"))
        payload = apns_payload(message)
        token = self._token.current()
        response = await self._post(url, payload, apns_id, token)
        if response.status_code == 403 and _reason(response) in REFUSED_TOKEN:
            response = await self._post(url, payload, apns_id, self._token.current(token))
        if response.is_success:
            return SendResult(self.name, response.headers.get("apns-id", apns_id), {"status": 200})
        raise self._error(response)

    async def _post(
        self, url: str, payload: dict[str, Any], apns_id: str, token: str
    ) -> httpx.Response:
        headers = {
            "authorization": f"bearer {token}",
            "apns-topic": self._topic,
            "apns-push-type": "alert",
            "apns-priority": "10",  # at once (alerts)
            "apns-id": apns_id,
        }
        with transient_when_unreachable("apns"):
            return await self._client.post(url, json=payload, headers=headers)

    def _error(self, response: httpx.Response) -> SendError:
        reason = _reason(response)
        return error_for_code(
            self.name,
            ERRORS,
            reason or str(response.status_code),
            reason or response.text[:300],
            status=response.status_code,
            retry_after=response.headers.get("Retry-After"),
        )

    async def close(self) -> None:
        await self._client.aclose()


def apns_payload(message: PushMessage) -> dict[str, Any]:
    """The alert Apple shows, and the data for the app beside `aps` (which it cannot
    replace). Apple shows no icon of a notification's own: `icon` is for a Notification Service
    Extension to fetch (mutable-content lets it run)."""
    alert = {"body": message.body} | ({"title": message.title} if message.title else {})
    aps: dict[str, Any] = {"alert": alert}
    extra: dict[str, Any] = {}
    if message.action_url:
        extra["action_url"] = message.action_url
    if message.icon:
        extra["icon"] = message.icon
        aps["mutable-content"] = 1
    return {**message.data, **extra, "aps": aps}


def _reason(response: httpx.Response) -> str | None:
    """Apple explains a refusal as {"reason": "BadDeviceToken"}."""
    try:
        reason = response.json().get("reason")
    except (ValueError, AttributeError):
        return None
    return str(reason) if reason else None


def _build(config: ProviderConfig) -> ApnsPushProvider:
    return ApnsPushProvider(
        ProviderToken(config["apns_key"], config["apns_key_id"], config["apns_team_id"]),
        config["apns_topic"],
        base_url=config["apns_base_url"],
        ca_file=config.get("apns_ca_file"),
        timeout=config.timeout,
    )


DECLARATION = ProviderDeclaration(
    name="apns",
    channel="push",
    summary="Apple Push Notification service over HTTP/2, token-based (ES256 provider token)",
    build=_build,
    settings=(
        Setting("apns_key", secret=True),
        Setting("apns_key_id"),
        Setting("apns_team_id"),
        Setting("apns_topic"),
        Setting("apns_base_url"),
        Setting("apns_ca_file", required=False),
    ),
    target="apns_base_url",
    errors=ERRORS,
)
