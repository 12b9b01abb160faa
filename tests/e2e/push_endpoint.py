"""A local Web Push service (RFC 8030) for the tests, and browsers' sides of subscriptions to it.

- PushService: pytest-httpserver over TLS (a self-signed certificate Herald trusts through
  WEBPUSH_CA_FILE) taking `POST /push/<id>`: it records each push and answers as scripted per
  subscription (201 Created by default; a status, headers, a delay before answering).
- Subscriber: what a browser makes when it subscribes (a P-256 key pair and a 16-byte auth
  secret), so a test can decrypt what Herald pushed (RFC 8291, aes128gcm) with its private key.
- vapid_claims: the VAPID Authorization header checked (RFC 8292) as a push service would.

    with running_push_service(tmp_path) as service:
        ada = service.subscriber()
        service.answer(ada, Answer(410))
"""

import base64
import json
import os
import re
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.e2e.push_servers import self_signed_certificate


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Answer:
    status: int = 201
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (longer than Herald waits: a timeout)


@dataclass(frozen=True)
class Pushed:
    """One push as the push service received it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()


class Subscriber:
    """A browser's side of one subscription: its endpoint, key pair and auth secret."""

    def __init__(
        self,
        endpoint: str,
        private_key: ec.EllipticCurvePrivateKey | None = None,
        auth_secret: bytes | None = None,
    ):
        """A new key pair and secret, unless given (a browser's, made in the page)."""
        self.endpoint = endpoint
        self.path = urlsplit(endpoint).path
        self.private_key = private_key or ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = auth_secret or os.urandom(16)

    def subscription(self) -> dict[str, Any]:
        """As `PushSubscription.toJSON()` gives it."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, pushed: Pushed) -> dict[str, Any]:
        """The payload, decrypted as the browser does (RFC 8291)."""
        assert pushed.headers.get("Content-Encoding") == "aes128gcm", pushed.headers
        plain = http_ece.decrypt(
            pushed.body,
            private_key=self.private_key,
            auth_secret=self.auth_secret,
            version="aes128gcm",
        )
        return json.loads(plain)


def vapid_claims(pushed: Pushed, public_key: str) -> dict[str, Any]:
    """The VAPID token's claims, verified as a push service does (RFC 8292): the header is
    `vapid t=<JWT>, k=<public key>`, k is Herald's key, and the JWT is signed with it (ES256)
    for this push service's origin."""
    scheme, _, params = pushed.headers["Authorization"].partition(" ")
    assert scheme == "vapid", pushed.headers["Authorization"]
    parts = dict(part.strip().split("=", 1) for part in params.split(","))
    assert parts["k"] == public_key
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_bytes(parts["k"]))
    audience = "https://" + pushed.headers["Host"]
    claims = jwt.decode(parts["t"], key, algorithms=["ES256"], audience=audience)
    assert claims["exp"] - time.time() <= 24 * 3600  # push services refuse longer
    return claims


class PushService:
    def __init__(self, directory: Path):
        self.ca_file, key_file = self_signed_certificate(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        self.server = HTTPServer("127.0.0.1", 0, ssl_context=context, threaded=True)
        self.received: list[Pushed] = []
        self._answers: dict[str, deque[Answer]] = {}
        self._lock = threading.Lock()
        self.server.expect_request(re.compile(r"^/push/"), method="POST").respond_with_handler(
            self._answer
        )

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def settings(self) -> dict[str, Any]:
        """What a stack needs to push here: web push alone, this service's certificate
        trusted, its loopback address allowed."""
        return {
            "push_providers": "webpush",
            "webpush_ca_file": self.ca_file,
            "webhook_allow_private_addresses": True,
        }

    def subscriber(self) -> Subscriber:
        return Subscriber(f"{self.origin}/push/{uuid.uuid4().hex}")

    def answer(self, subscriber: Subscriber, *answers: Answer) -> None:
        """The next answers to the subscriber's pushes, in turn; then 201 again."""
        with self._lock:
            self._answers.setdefault(subscriber.path, deque()).extend(answers)

    def received_by(self, subscriber: Subscriber) -> list[Pushed]:
        with self._lock:
            return [p for p in self.received if p.path == subscriber.path]

    def _answer(self, request: Request) -> Response:
        pushed = Pushed(request.path, dict(request.headers), request.get_data(), time.monotonic())
        with self._lock:
            self.received.append(pushed)
            queued = self._answers.get(request.path)
            answer = queued.popleft() if queued else Answer()
        if answer.delay:
            time.sleep(answer.delay)
        headers = {"Location": f"{self.origin}/message/{uuid.uuid4().hex}"} | answer.headers
        return Response(b"", status=answer.status, headers=headers)


@contextmanager
def running_push_service(directory: Path) -> Iterator[PushService]:
    service = PushService(directory)
    service.server.start()
    try:
        yield service
    finally:
        service.server.clear()
        if service.server.is_running():
            service.server.stop()
