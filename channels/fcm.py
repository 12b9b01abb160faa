"""Push to Android (and iOS, web) apps through Firebase Cloud Messaging's HTTP v1 API.

Herald authenticates as a service account: it signs a JWT (RS256) with the key file's private
key, exchanges it at Google's token endpoint for an OAuth2 access token (OAuth 2.0 JWT bearer
grant, RFC 7523), and keeps that token until shortly before it expires. A 401 from FCM (the
token revoked or expired early) gets a new token and one more try.

Errors follow FCM's documented codes (the FcmError `errorCode` in the answer's details, else
the google.rpc status): UNREGISTERED, and INVALID_ARGUMENT naming the token, mean the device
is gone; other INVALID_ARGUMENTs are the message's fault; SENDER_ID_MISMATCH and
THIRD_PARTY_AUTH_ERROR are Herald's configuration; QUOTA_EXCEEDED, UNAVAILABLE and INTERNAL
may pass (with FCM's Retry-After)."""

import asyncio
import json
import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from channels.base import PermanentSendError, PushMessage, SendResult
from channels.declaration import ErrorKind, ProviderConfig, ProviderDeclaration, Setting
from channels.http_status import error_for_code, error_for_status, transient_when_unreachable

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME = 3600  # seconds: the most Google accepts
TOKEN_MARGIN = 300  # seconds: an access token is renewed this long before it expires
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
# Herald's own code for an INVALID_ARGUMENT whose field violation is the token: FCM's
# token-management guide says such a token will never be valid again.
INVALID_TOKEN = "INVALID_ARGUMENT:message.token"

ERRORS = {
    "UNREGISTERED": ErrorKind.GONE,  # 404: the app was uninstalled or the token expired
    INVALID_TOKEN: ErrorKind.GONE,
    "INVALID_ARGUMENT": ErrorKind.PERMANENT,  # 400: the message itself is wrong
    "SENDER_ID_MISMATCH": ErrorKind.PROVIDER_REFUSED,  # 403: another project's token
    "THIRD_PARTY_AUTH_ERROR": ErrorKind.PROVIDER_REFUSED,  # 401: APNs/web push credentials
    "PERMISSION_DENIED": ErrorKind.PROVIDER_REFUSED,  # 403: the service account may not send
    "QUOTA_EXCEEDED": ErrorKind.TRANSIENT,  # 429: honour Retry-After
    "UNAVAILABLE": ErrorKind.TRANSIENT,  # 503
    "INTERNAL": ErrorKind.TRANSIENT,  # 500
}


class ServiceAccount:
    """The key file's fields FCM needs. Raises ValueError when it is not a service account
    key (at startup, naming the setting)."""

    def __init__(self, key_file_json: str):
        try:
            key = json.loads(key_file_json)
            self.email: str = key["client_email"]
            private_key = serialization.load_pem_private_key(
                key["private_key"].encode(), password=None
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(
                "FCM_SERVICE_ACCOUNT_JSON is not a service account key file "
                f"(JSON with client_email and private_key): {exc!r}"
            ) from exc
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("FCM_SERVICE_ACCOUNT_JSON's private_key is not an RSA key")
        self.private_key = private_key
        self.key_id: str | None = key.get("private_key_id")
        self.project_id: str | None = key.get("project_id")

    def assertion(self, token_url: str, now: float) -> str:
        """The signed JWT Herald trades for an access token."""
        claims = {
            "iss": self.email,
            "scope": SCOPE,
            "aud": token_url,
            "iat": int(now),
            "exp": int(now) + ASSERTION_LIFETIME,
        }
        headers = {"kid": self.key_id} if self.key_id else None
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)


class FcmPushProvider:
    name = "fcm"
    kinds = ("fcm",)

    def __init__(
        self,
        account: ServiceAccount,
        project_id: str,
        *,
        base_url: str,
        token_url: str,
        timeout: float = 10.0,
    ):
        self._account = account
        self._send_url = f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self._token_url = token_url
        self._client = httpx.AsyncClient(timeout=timeout)
        self._token: str | None = None
        self._token_expires = 0.0  # time.monotonic() when it must be renewed
        self._token_lock = asyncio.Lock()  # one exchange at a time, shared by concurrent sends

    async def send_push(self, message: PushMessage) -> SendResult:
        body = {"message": fcm_message(message)}
        token = await self._access_token()
        response = await self._post(body, token)
        if response.status_code == 401 and _error_code(response) != "THIRD_PARTY_AUTH_ERROR":
            # The access token was refused before its time: a new one, and one more try.
            response = await self._post(body, await self._access_token(refused=token))
        if response.is_success:
            return SendResult(self.name, response.json().get("name"), {"status": 200})
        raise self._error(response)

    async def _post(self, body: dict[str, Any], token: str) -> httpx.Response:
        with transient_when_unreachable("fcm"):
            return await self._client.post(
                self._send_url, json=body, headers={"Authorization": f"Bearer {token}"}
            )

    async def _access_token(self, refused: str | None = None) -> str:
        """The cached access token, or a new one when it is near its end or was `refused`."""
        async with self._token_lock:
            stale = self._token is None or time.monotonic() >= self._token_expires
            if stale or self._token == refused:
                self._token, lifetime = await self._exchange()
                self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN, 0)
            assert self._token is not None
            return self._token

    async def _exchange(self) -> tuple[str, float]:
        """A new access token and its lifetime in seconds, for a signed assertion."""
        form = {
            "grant_type": JWT_BEARER_GRANT,
            "assertion": self._account.assertion(self._token_url, time.time()),
        }
        with transient_when_unreachable("fcm token endpoint"):
            response = await self._client.post(self._token_url, data=form)
        if response.status_code in (400, 401, 403):
            # invalid_grant and the like: the key is revoked or wrong, which no retry mends.
            raise PermanentSendError(
                f"fcm token endpoint refused the service account {self._account.email}: "
                f"{response.status_code} {response.text[:300]}",
                provider_fault=True,
                response={"status": response.status_code},
            )
        if not response.is_success:
            raise error_for_status(
                "fcm token endpoint",
                response.status_code,
                response.text[:300],
                retry_after=response.headers.get("Retry-After"),
            )
        granted = response.json()
        return granted["access_token"], float(granted.get("expires_in", 3600))

    def _error(self, response: httpx.Response) -> Exception:
        error = _error_body(response)
        return error_for_code(
            self.name,
            ERRORS,
            _error_code(response),
            str(error.get("message") or response.text[:300]),
            status=response.status_code,
            retry_after=response.headers.get("Retry-After"),
        )

    async def close(self) -> None:
        await self._client.aclose()


def fcm_message(message: PushMessage) -> dict[str, Any]:
    """FCM's Message: the device's token, the notification FCM shows, and data for the app
    (strings only), the action URL among it."""
    notification = {"body": message.body}
    if message.title:
        notification["title"] = message.title
    if message.icon:
        notification["image"] = message.icon
    data = dict(message.data)
    if message.action_url:
        data["action_url"] = message.action_url
    return {"token": message.device.token, "notification": notification, "data": data}


def _error_body(response: httpx.Response) -> dict[str, Any]:
    """FCM explains a refusal as {"error": {code, message, status, details: [...]}}."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _error_code(response: httpx.Response) -> str:
    """The FcmError's errorCode (or INVALID_TOKEN), else the google.rpc status, else the HTTP
    status."""
    error = _error_body(response)
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    code = next((d.get("errorCode") for d in details if d.get("@type") == FCM_ERROR_TYPE), None)
    code = code or error.get("status") or str(response.status_code)
    if code == "INVALID_ARGUMENT":
        violations = [
            v
            for d in details
            if d.get("@type") == BAD_REQUEST_TYPE
            for v in d.get("fieldViolations") or []
        ]
        if any(isinstance(v, dict) and v.get("field") == "message.token" for v in violations):
            return INVALID_TOKEN
    return str(code)


def _build(config: ProviderConfig) -> FcmPushProvider:
    account = ServiceAccount(config["fcm_service_account_json"])
    project_id = config.get("fcm_project_id") or account.project_id
    if not project_id:
        raise ValueError("FCM needs FCM_PROJECT_ID (the service account key names none)")
    return FcmPushProvider(
        account,
        project_id,
        base_url=config["fcm_base_url"],
        token_url=config["fcm_token_url"],
        timeout=config.timeout,
    )


DECLARATION = ProviderDeclaration(
    name="fcm",
    channel="push",
    summary="Firebase Cloud Messaging HTTP v1 API, as a service account (OAuth2 JWT bearer)",
    build=_build,
    settings=(
        # Unset: the service account key's project_id.
        Setting("fcm_project_id", required=False),
        Setting("fcm_service_account_json", secret=True),
        Setting("fcm_base_url"),
        Setting("fcm_token_url"),
    ),
    target="fcm_base_url",
    errors=ERRORS,
)
