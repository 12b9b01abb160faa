"""Web Push (RFC 8030) to browsers' Push API subscriptions: the payload encrypted for the
subscription (RFC 8291, aes128gcm, with pywebpush) and the request signed with Herald's VAPID
key (RFC 8292, with py_vapid).

The payload is JSON, what Herald's service worker shows (web/static/inbox/herald-sw.js):
`{"title", "body", "icon", "action_url", "data"}`.

The request itself goes through channels/safe_http.py rather than pywebpush's own senders: the
endpoint is a URL a browser (so anyone holding a recipient token) handed Herald, and must not
lead into Herald's own network (WEBHOOK_ALLOW_PRIVATE_ADDRESSES allows it, for tests).

The VAPID key pair is not a setting: Herald makes it and keeps it in the database
(services/vapid.py); bootstrap loads it and passes it to the build beside the settings
(`vapid_private_key`). Built without it, every send is refused, saying why.
"""

import json
import re
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import certifi
import httpx
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from py_vapid import Vapid
from pywebpush import WebPusher, WebPushException

from channels.base import (
    DeviceGoneError,
    PermanentSendError,
    PushMessage,
    SendResult,
)
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.http_status import error_for_code, transient_when_unreachable
from channels.safe_http import guarded_post
from domain.devices import DeviceKind

# How long a push service keeps a message for a browser that is offline (the TTL header):
# a day, after which a notification is stale.
TTL_SECONDS = 24 * 3600
# Push services take at most 4096 bytes of encrypted payload (RFC 8030 7.2); aes128gcm adds a
# 86-byte header, a 16-byte tag and a padding delimiter (RFC 8188, 8291).
MAX_PLAINTEXT_BYTES = 4096 - 86 - 16 - 1
# A VAPID token lives 12 hours (push services refuse more than 24); one is signed per push
# service and used until an hour before it ends.
TOKEN_SECONDS = 12 * 3600
TOKEN_REUSE_SECONDS = 11 * 3600
SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$")


def payload(message: PushMessage) -> bytes:
    """What the service worker gets, fitted under the push services' size limit: the body is
    cut short (with an ellipsis) while the whole does not fit, then the data dropped."""
    content: dict[str, Any] = {
        "title": message.title,
        "body": message.body,
        "icon": message.icon,
        "action_url": message.action_url,
        "data": message.data,
    }
    encoded = _json(content)
    body = message.body.encode()
    while len(encoded) > MAX_PLAINTEXT_BYTES and body:
        # Cut the bytes over, and the ellipsis' three; a character cut in two is dropped, and
        # JSON escapes (quotes, control characters) may leave it over still: cut again.
        body = body[: max(len(body) - (len(encoded) - MAX_PLAINTEXT_BYTES) - 3, 0)]
        content["body"] = body.decode(errors="ignore") + "…"
        encoded = _json(content)
    if len(encoded) > MAX_PLAINTEXT_BYTES:
        content["data"] = {}
        encoded = _json(content)
    if len(encoded) > MAX_PLAINTEXT_BYTES:
        raise PermanentSendError(f"the push is over {MAX_PLAINTEXT_BYTES} bytes with no body")
    return encoded


def _json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


class WebPushProvider:
    name = "webpush"
    kinds = (DeviceKind.WEBPUSH.value,)

    def __init__(
        self,
        private_key_pem: str | None,
        *,
        subject: str,
        timeout: float = 10.0,
        allow_private_addresses: bool = False,
        ca_file: str | None = None,
    ):
        if not SUBJECT.match(subject):
            raise ValueError(f"VAPID_SUBJECT must be a mailto: or https: URL, not {subject!r}")
        self._vapid = (
            Vapid(load_pem_private_key(private_key_pem.encode(), password=None))
            if private_key_pem
            else None
        )
        self._subject = subject
        self._allow_private = allow_private_addresses
        self._client = httpx.AsyncClient(timeout=timeout, verify=_tls_context(ca_file))
        self._tokens: dict[str, tuple[str, float]] = {}  # push service -> (Authorization, until)

    async def send_push(self, message: PushMessage) -> SendResult:
        if self._vapid is None:
            raise PermanentSendError(
                "web push has no VAPID key: the worker could not load it at start (SECRET_KEY "
                "unset, or not the one it was sealed with; see the worker's log)",
                provider_fault=True,
            )
        try:
            subscription = json.loads(message.device.token)
            endpoint = subscription["endpoint"]
            body = WebPusher(subscription).encode(payload(message), "aes128gcm")["body"]
        except (ValueError, TypeError, KeyError, WebPushException) as exc:
            # Stored broken (the devices API checks a subscription): it can never take a push.
            raise DeviceGoneError(f"the web push subscription is not usable: {exc!r}") from exc
        headers = {
            "Authorization": self._authorization(endpoint),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
        }
        with transient_when_unreachable("the push service"):
            response = await guarded_post(
                self._client,
                endpoint,
                allow_private=self._allow_private,
                headers=headers,
                content=body,
            )
        if response.status_code in (200, 201, 202):
            return SendResult(
                self.name,
                response.headers.get("Location"),  # the push message's resource (RFC 8030 5)
                {"status": response.status_code},
            )
        status = response.status_code
        raise error_for_code(
            self.name,
            DECLARATION.errors,
            str(status),
            response.text[:300] or response.reason_phrase,
            status=status,
            retry_after=response.headers.get("Retry-After"),
        )

    def _authorization(self, endpoint: str) -> str:
        """`vapid t=<JWT>, k=<public key>` for the endpoint's push service (its origin)."""
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = time.time()
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] > now:
            return cached[0]
        assert self._vapid is not None
        claims = {"sub": self._subject, "aud": audience, "exp": int(now) + TOKEN_SECONDS}
        header = str(self._vapid.sign(claims)["Authorization"])
        self._tokens[audience] = (header, now + TOKEN_REUSE_SECONDS)
        return header

    async def close(self) -> None:
        await self._client.aclose()


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """The public CAs (certifi's, as httpx trusts by default), and `ca_file`'s as well."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def build(config: ProviderConfig) -> WebPushProvider:
    return WebPushProvider(
        config.get("vapid_private_key"),  # from the database, through bootstrap (not a setting)
        subject=config["vapid_subject"],
        timeout=config.timeout,
        allow_private_addresses=config.allow_private_addresses,
        ca_file=config.get("webpush_ca_file"),
    )


DECLARATION = ProviderDeclaration(
    name="webpush",
    channel="push",
    build=build,
    settings=(Setting("vapid_subject"), Setting("webpush_ca_file", required=False)),
    errors={
        "404": ErrorKind.GONE,  # the subscription is unknown or expired (RFC 8030 7.3)
        "410": ErrorKind.GONE,  # the browser unsubscribed
        "400": ErrorKind.PERMANENT,
        "413": ErrorKind.PERMANENT,  # payload too large: the same message never fits
        "429": ErrorKind.TRANSIENT,  # with Retry-After
        "401": ErrorKind.PROVIDER_REFUSED,  # the VAPID signature is refused
        "403": ErrorKind.PROVIDER_REFUSED,  # subscribed with another application server key
    },
    summary="Web Push (VAPID, RFC 8030/8291/8292) to browsers' Push API subscriptions",
)
