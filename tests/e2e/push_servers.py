"""Local stand-ins for FCM and APNs that check what Herald sends as the real services would,
record it, and answer as scripted.

- FcmServer (on pytest-httpserver): Google's token endpoint, which verifies the signed JWT
  assertion with the service account's public key and grants access tokens, and FCM's
  messages:send, which takes only a granted, unrevoked access token.
- ApnsServer (hypercorn, HTTP/2 over TLS with a self-signed certificate): /3/device/<token>,
  which verifies the provider token (ES256) with the .p8 key's public key and the headers.

A check that fails is recorded in `problems` and answered 400 (never an exception in the
server's thread): a test asserts `problems == []`."""

import asyncio
import datetime
import hashlib
import ipaddress
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypercorn.asyncio import serve
from hypercorn.config import Config
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from db.channel_models import Device
from db.models import Recipient
from tests.conftest import free_port

FCM_PROJECT = "herald-test"
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
FCM_SEND_PATH = f"/v1/projects/{FCM_PROJECT}/messages:send"
TOKEN_PATH = "/token"
GOOGLE_TYPES = "type.googleapis.com"
APNS_TEAM = "TEAM123456"
APNS_KEY_ID = "KEY1234567"
APNS_TOPIC = "com.example.herald"


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


# --- FCM ---------------------------------------------------------------------------------


@dataclass
class FcmSend:
    token: str  # the device's registration token
    message: dict[str, Any]
    access_token: str
    at: float = field(default_factory=time.monotonic)


def fcm_error(
    status: int,
    rpc_status: str,
    error_code: str | None = None,
    message: str = "",
    *,
    token_violation: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """An error as FCM v1 writes it: google.rpc status, FcmError errorCode in details, and a
    BadRequest field violation on message.token when the token itself is malformed."""
    details: list[dict[str, Any]] = []
    if error_code:
        details.append(
            {
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": error_code,
            }
        )
    if token_violation:
        details.append(
            {
                "@type": f"{GOOGLE_TYPES}/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.token", "description": message}],
            }
        )
    body = {"error": {"code": status, "message": message, "status": rpc_status, "details": details}}
    return Response(
        json.dumps(body), status=status, content_type="application/json", headers=headers
    )


FCM_CLIENT_EMAIL = "herald@herald-test.iam.gserviceaccount.com"


def service_account_key_file(key: rsa.RSAPrivateKey | None = None) -> str:
    """A service account's key file (JSON) as Google's console gives it."""
    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return json.dumps(
        {
            "type": "service_account",
            "project_id": FCM_PROJECT,
            "private_key_id": "key-1",
            "private_key": _pem(key),
            "client_email": FCM_CLIENT_EMAIL,
            "token_uri": "https://oauth2.googleapis.com/token",
        }
    )


class FcmServer:
    """Google's token endpoint and FCM's messages:send on one local HTTP server. `script`:
    answers to give (a Response, or a callable of the request making one) before the default
    success; `revoke()` makes every access token granted so far refused (401)."""

    def __init__(self, httpserver: HTTPServer, expires_in: int = 3600):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = key.public_key()
        self.base_url = httpserver.url_for("").rstrip("/")
        self.token_url = httpserver.url_for(TOKEN_PATH)
        self.key_file = service_account_key_file(key)
        self.expires_in = expires_in
        self.granted: list[str] = []  # access tokens, in the order granted
        self.revoked: set[str] = set()
        self.sends: list[FcmSend] = []  # messages:send requests with a valid access token
        self.refused_auth = 0  # messages:send requests refused for their access token
        self.script: deque[Response | Callable[[Request], Response]] = deque()
        self.problems: list[str] = []
        self._lock = threading.Lock()
        httpserver.expect_request(TOKEN_PATH, method="POST").respond_with_handler(self._token)
        httpserver.expect_request(FCM_SEND_PATH, method="POST").respond_with_handler(self._send)

    def settings(self) -> dict[str, Any]:
        return {
            "fcm_service_account_json": self.key_file,
            "fcm_base_url": self.base_url,
            "fcm_token_url": self.token_url,
        }

    def revoke(self) -> None:
        with self._lock:
            self.revoked.update(self.granted)

    def _problem(self, what: str) -> Response:
        self.problems.append(what)
        return Response(json.dumps({"error": what}), status=400, content_type="application/json")

    def _token(self, request: Request) -> Response:
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self._problem(f"grant_type {request.form.get('grant_type')!r}")
        assertion = request.form.get("assertion", "")
        try:
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_url,
                issuer=FCM_CLIENT_EMAIL,
                options={"require": ["iat", "exp", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            return self._problem(f"assertion does not verify: {exc}")
        if claims.get("scope") != FCM_SCOPE:
            return self._problem(f"scope {claims.get('scope')!r}")
        if jwt.get_unverified_header(assertion).get("kid") != "key-1":
            return self._problem("assertion without the key's id")
        with self._lock:
            token = f"ya29.test-{len(self.granted) + 1}-{uuid.uuid4().hex[:8]}"
            self.granted.append(token)
        body = {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        return Response(json.dumps(body), status=200, content_type="application/json")

    def _send(self, request: Request) -> Response:
        authorization = request.headers.get("Authorization", "")
        access_token = authorization.removeprefix("Bearer ")
        with self._lock:
            valid = authorization.startswith("Bearer ") and access_token in self.granted
            valid = valid and access_token not in self.revoked
        if not valid:
            self.refused_auth += 1
            return fcm_error(401, "UNAUTHENTICATED", message="Request had invalid credentials.")
        message = (request.get_json(silent=True) or {}).get("message")
        if not isinstance(message, dict) or not message.get("token"):
            return self._problem(f"no message with a token: {request.get_data(as_text=True)}")
        if any(not isinstance(v, str) for v in (message.get("data") or {}).values()):
            return self._problem("data values must be strings")
        self.sends.append(FcmSend(message["token"], message, access_token))
        if self.script:
            answer = self.script.popleft()
            # (A Response is a WSGI application, callable too.)
            return answer if isinstance(answer, Response) else answer(request)
        name = f"projects/{FCM_PROJECT}/messages/0:{len(self.sends)}"
        return Response(json.dumps({"name": name}), status=200, content_type="application/json")


# --- APNs --------------------------------------------------------------------------------


@dataclass
class ApnsRequest:
    device_token: str
    headers: dict[str, str]
    payload: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class ApnsAnswer:
    status: int
    reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def self_signed_certificate(directory: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and localhost, and its key: (cert file, key file). The
    certificate is its own CA: trusting it (APNS_CA_FILE) is trusting the server."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "herald test APNs")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "apns-cert.pem", directory / "apns-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_text(_pem(key))
    return str(cert_file), str(key_file)


class ApnsServer:
    """APNs' /3/device/<token> over HTTP/2 and TLS. `script`: answers to give before the
    default 200; `refuse_tokens`: provider tokens answered 403 ExpiredProviderToken;
    `unregistered`: device tokens answered 410 Unregistered."""

    def __init__(self, ca_file: str, port: int):
        key = ec.generate_private_key(ec.SECP256R1())  # an Apple .p8 key is P-256
        self.key_pem = _pem(key)
        self.public_key = key.public_key()
        self.ca_file = ca_file
        self.base_url = f"https://127.0.0.1:{port}"
        self.requests: list[ApnsRequest] = []  # every request whose checks passed
        self.provider_tokens: list[str] = []  # the provider token of each request
        self.refuse_tokens: set[str] = set()
        self.unregistered: set[str] = set()  # device tokens answered 410 Unregistered
        self.script: deque[ApnsAnswer] = deque()
        self.delay = 0.0  # seconds before answering (timeouts)
        self.problems: list[str] = []

    def settings(self) -> dict[str, Any]:
        return {
            "apns_key": self.key_pem,
            "apns_key_id": APNS_KEY_ID,
            "apns_team_id": APNS_TEAM,
            "apns_topic": APNS_TOPIC,
            "apns_base_url": self.base_url,
            "apns_ca_file": self.ca_file,
        }

    def to(self, device_token: str) -> list[ApnsRequest]:
        return [r for r in self.requests if r.device_token == device_token]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = (await receive())["type"]  # lifespan.startup, then .shutdown
                await send({"type": f"{event}.complete"})
                if event == "lifespan.shutdown":
                    return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        answer = self._answer(scope, body)
        if self.delay:
            await asyncio.sleep(self.delay)
        payload = json.dumps({"reason": answer.reason}).encode() if answer.reason else b""
        headers = [(k.encode(), v.encode()) for k, v in answer.headers.items()]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _answer(self, scope, body: bytes) -> ApnsAnswer:
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        token = headers.get("authorization", "").removeprefix("bearer ")
        checks = {
            "HTTP/2": scope.get("http_version") == "2",
            "POST": scope["method"] == "POST",
            "path /3/device/<token>": scope["path"].startswith("/3/device/")
            and len(scope["path"]) > len("/3/device/"),
            "apns-topic": headers.get("apns-topic") == APNS_TOPIC,
            "apns-push-type alert": headers.get("apns-push-type") == "alert",
            "apns-priority 10": headers.get("apns-priority") == "10",
            "apns-id a UUID": _is_uuid(headers.get("apns-id")),
            "provider token verifies": self._verifies(token),
        }
        failed = [name for name, ok in checks.items() if not ok]
        try:
            payload = json.loads(body)
        except ValueError:
            failed.append("a JSON payload")
            payload = {}
        if failed:
            self.problems.append(f"{scope['path']}: {', '.join(failed)}")
            return ApnsAnswer(400, "HeraldTestServerRefused")
        self.provider_tokens.append(token)
        self.requests.append(
            ApnsRequest(scope["path"].removeprefix("/3/device/"), headers, payload)
        )
        if token in self.refuse_tokens:
            return ApnsAnswer(403, "ExpiredProviderToken")
        if self.requests[-1].device_token in self.unregistered:
            return ApnsAnswer(410, "Unregistered")
        if self.script:
            return self.script.popleft()
        return ApnsAnswer(200, headers={"apns-id": headers["apns-id"]})

    def _verifies(self, token: str) -> bool:
        try:
            claims = jwt.decode(
                token, self.public_key, algorithms=["ES256"], options={"require": ["iat", "iss"]}
            )
        except jwt.PyJWTError:
            return False
        fresh = abs(time.time() - claims["iat"]) < 3600
        kid = jwt.get_unverified_header(token).get("kid")
        return claims["iss"] == APNS_TEAM and kid == APNS_KEY_ID and fresh


def _is_uuid(value: str | None) -> bool:
    try:
        return value is not None and str(uuid.UUID(value)) == value
    except ValueError:
        return False


@asynccontextmanager
async def running_apns_server(directory: Path) -> AsyncIterator[ApnsServer]:
    """An ApnsServer listening on 127.0.0.1 (HTTP/2 offered by ALPN), until the block ends."""
    cert_file, key_file = self_signed_certificate(directory)
    port = free_port()
    server = ApnsServer(cert_file, port)
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = cert_file, key_file
    config.alpn_protocols = ["h2"]
    config.loglevel = "WARNING"
    stop = asyncio.Event()
    task = asyncio.create_task(serve(server, config, shutdown_trigger=stop.wait))
    while True:  # until it listens
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if task.done():
                task.result()  # the server failed to start: say why
            await asyncio.sleep(0.05)
            continue
        writer.close()
        break
    try:
        yield server
    finally:
        stop.set()
        await task


# --- recipients with devices (inserted as the devices API would) ---------------------------


async def push_recipient(stack) -> str:
    external_id = f"user-{uuid.uuid4().hex[:8]}"
    response = await stack.api.put(f"/v1/recipients/{external_id}", json={"name": "Ada"})
    assert response.status_code == 200, response.text
    return external_id


def push_request(external_id: str) -> dict:
    return {
        "recipient": {"external_id": external_id},
        "event_key": "booking.reminder",
        "channels": ["push"],
        "context": {
            "subject": "Reminder",
            "message": "Your call with Grace starts in 1 hour.",
            "data": {"call_id": "42"},
        },
    }


async def add_device(
    sessions, tenant_id: uuid.UUID, external_id: str, kind: str, token: str
) -> str:
    """An active device of the tenant's recipient `external_id`; its id."""
    async with sessions.begin() as session:
        recipient_id = await session.scalar(
            select(Recipient.id).where(
                Recipient.tenant_id == tenant_id, Recipient.external_id == external_id
            )
        )
        device = Device(
            tenant_id=tenant_id,
            recipient_id=recipient_id,
            kind=kind,
            token=token,
            token_digest=hashlib.sha256(token.encode()).hexdigest(),
        )
        session.add(device)
        await session.flush()
        return str(device.id)


async def device_state(sessions, device_id: str) -> tuple[bool, str | None]:
    """(active, deactivation_reason) of a device."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(Device.active, Device.deactivation_reason).where(
                    Device.id == uuid.UUID(device_id)
                )
            )
        ).one()
    return row.active, row.deactivation_reason
