"""Recipient authentication for the inbox (issue 13): Herald's tokens, tokens a backend signs
itself, signing secrets (rotation with an overlap, revocation, sealed at rest), the HMAC scheme,
the tenant's inbox settings, and CORS on /v1/inbox/*.

The dependency is checked through a probe route (`/v1/inbox/_whoami`, added to each test's app)
that answers who the credentials prove; test_inbox_isolation.py runs the real inbox routes."""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from api.deps import InboxRecipientDep
from api.schemas.problems import PROBLEM_JSON
from db.inbox_models import InboxSigningSecret
from domain.tenants import TenantIdentity
from services import inbox_secrets
from services.errors import Unavailable
from services.inbox_auth import recipient_hmac
from services.inbox_cache import InboxAuthCache
from tests.conftest import Stack, new_tenant
from tests.e2e.inbox_factory import recipient_token, recipient_token_answer
from tests.utils.serving import on_a_port
from tests.utils.sse import event_stream

PROBE = "/v1/inbox/_whoami"
PROBE_STREAM = "/v1/inbox/_whoami/stream"
APP_ORIGIN = "https://app.example.com"

probe = APIRouter()


@probe.get(PROBE)
async def whoami(recipient: InboxRecipientDep) -> dict:
    return {
        "tenant_id": str(recipient.tenant_id),
        "recipient_id": str(recipient.recipient_id),
        "external_id": recipient.external_id,
    }


@probe.get(PROBE_STREAM)
async def whoami_streamed(recipient: InboxRecipientDep) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: one\n\n"
        yield f"data: {recipient.external_id}\n\n".encode()

    return StreamingResponse(chunks(), media_type="text/event-stream")


@pytest.fixture
async def inbox_stack(make_stack, temporal_env) -> AsyncIterator[Stack]:
    async with make_stack(temporal_env) as stack:
        assert stack.app is not None
        stack.app.include_router(probe)
        yield stack


@pytest.fixture
async def short_cache_stack(make_stack, temporal_env) -> AsyncIterator[Stack]:
    async with make_stack(temporal_env, api_key_cache_seconds=2.0) as stack:
        assert stack.app is not None
        stack.app.include_router(probe)
        yield stack


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def whoami_as(stack: Stack, headers: dict[str, str]):
    """GET the probe with these headers only (not the stack's tenant key)."""
    async with await stack.as_tenant("unused") as client:
        client.headers.pop("Authorization")
        return await client.get(PROBE, headers=headers)


def sign(secret: str, kid: str, tenant_id: object, sub: str = "ann", **claims: object) -> str:
    """A token as a tenant's backend signs it, with PyJWT and a secret it got from the API."""
    now = int(time.time())
    payload = {"sub": sub, "tid": str(tenant_id), "iat": now, "exp": now + 300}
    payload["aud"] = "herald-inbox"
    return jwt.encode(payload | claims, secret, algorithm="HS256", headers={"kid": kid})


async def new_secret(api, overlap_seconds: int | None = None) -> dict:
    body = {"overlap_seconds": overlap_seconds} if overlap_seconds is not None else None
    created = await api.post("/v1/settings/inbox/signing-secrets", json=body)
    assert created.status_code == 201, created.text
    return created.json()


async def secrets_listed(api) -> dict[str, dict]:
    listed = await api.get("/v1/settings/inbox/signing-secrets")
    assert listed.status_code == 200, listed.text
    return {row["kid"]: row for row in listed.json()["data"]}


def refused(response, invalid_token: bool = True) -> str:
    """Asserts a 401 problem with its challenge; its detail."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) == invalid_token, challenge
    assert response.json()["errors"][0]["field"] == "Authorization"
    return response.json()["detail"]


def header_of(token: str) -> dict:
    return jwt.get_unverified_header(token)


async def test_herald_issues_a_token_for_an_existing_recipient(inbox_stack):
    stack = inbox_stack
    answer = await recipient_token_answer(stack.api, "ann")
    token = answer["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "ann" and claims["tid"] == str(stack.tenant_id)
    assert claims["aud"] == "herald-inbox" and claims["exp"] - claims["iat"] == 3600
    assert answer["tenant_id"] == str(stack.tenant_id)
    assert header_of(token)["alg"] == "HS256"
    assert header_of(token)["kid"] in await secrets_listed(stack.api)

    who = await whoami_as(stack, bearer(token))
    assert who.status_code == 200, who.text
    assert who.json() == {
        "tenant_id": str(stack.tenant_id),
        "recipient_id": answer["recipient_id"],
        "external_id": "ann",
    }

    short = await recipient_token_answer(stack.api, "ann", ttl_seconds=120)
    claims = jwt.decode(short["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120


async def test_a_token_lives_the_tenant_ttl_unless_asked_otherwise(inbox_stack):
    stack = inbox_stack
    changed = await stack.api.patch("/v1/settings/inbox", json={"token_ttl_seconds": 600})
    assert changed.status_code == 200, changed.text
    token = await recipient_token(stack.api, "ann")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 600


async def test_no_token_for_a_recipient_that_does_not_exist(inbox_stack):
    response = await inbox_stack.api.post("/v1/recipients/nobody/token")
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert await secrets_listed(inbox_stack.api) == {}  # nothing created for it


@pytest.mark.parametrize("ttl", [59, 86401, "3600", 1.5])
async def test_a_ttl_out_of_bounds_is_refused_naming_the_field(inbox_stack, ttl):
    stack = inbox_stack
    await stack.api.put("/v1/recipients/ann", json={"email": "ann@example.com"})
    response = await stack.api.post("/v1/recipients/ann/token", json={"ttl_seconds": ttl})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "ttl_seconds"


async def test_concurrent_first_tokens_create_one_secret(inbox_stack):
    stack = inbox_stack
    await stack.api.put("/v1/recipients/ann", json={"email": "ann@example.com"})
    answers = await asyncio.gather(*(stack.api.post("/v1/recipients/ann/token") for _ in range(6)))
    assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
    kids = {header_of(a.json()["token"])["kid"] for a in answers}
    assert len(kids) == 1
    assert set(await secrets_listed(stack.api)) == kids


async def test_a_secret_is_sealed_at_rest(inbox_stack, sessions):
    stack = inbox_stack
    created = await new_secret(stack.api)
    assert created["secret"].startswith("hisk_")
    assert created["tenant_id"] == str(stack.tenant_id)  # a self-signed token's tid
    async with sessions() as session:
        stored = await session.scalar(
            select(InboxSigningSecret.secret).where(InboxSigningSecret.kid == created["kid"])
        )
    assert stored is not None and created["secret"] not in stored
    listed = (await stack.api.get("/v1/settings/inbox/signing-secrets")).text
    assert created["secret"] not in listed and stored not in listed  # never shown again

    # Sealed for one tenant and kid: the same sealed text does not open as another's.
    box = inbox_secrets.secret_box(stack.settings)
    assert box.open(stack.tenant_id, created["kid"], stored) == created["secret"]
    with pytest.raises(Unavailable):
        box.open(uuid.uuid4(), created["kid"], stored)
    with pytest.raises(Unavailable):
        inbox_secrets.SecretBox(b"another-secret-key-entirely").open(
            stack.tenant_id, created["kid"], stored
        )


async def test_a_backend_signs_its_own_token(inbox_stack):
    stack = inbox_stack
    await stack.api.put("/v1/recipients/ann", json={"email": "ann@example.com"})
    secret = await new_secret(stack.api)
    token = sign(secret["secret"], secret["kid"], stack.tenant_id)
    who = await whoami_as(stack, bearer(token))
    assert who.status_code == 200, who.text
    assert who.json()["external_id"] == "ann"
    # Its clock a little ahead of Herald's: within the 30 s allowed.
    now = int(time.time())
    ahead = sign(secret["secret"], secret["kid"], stack.tenant_id, iat=now + 10, exp=now + 70)
    assert (await whoami_as(stack, bearer(ahead))).status_code == 200


def _unsigned(kid: str, claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{part(claims)}."


def _tampered(token: str, **changes: object) -> str:
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body = base64.urlsafe_b64encode(json.dumps(claims | changes).encode()).decode().rstrip("=")
    return f"{head}.{body}.{signature}"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # HS512's
async def test_bad_credentials_get_401(inbox_stack, sessions):
    stack = inbox_stack
    for external_id in ("ann", "bob"):
        await stack.api.put(f"/v1/recipients/{external_id}", json={"email": "x@example.com"})
    mine = await new_secret(stack.api)
    secret, kid, tenant = mine["secret"], mine["kid"], stack.tenant_id
    other_tenant, other_key = await new_tenant(sessions, "Other")
    other_api = await stack.as_tenant(other_key)
    await other_api.put("/v1/recipients/ann", json={"email": "ann@other.example"})
    theirs = await new_secret(other_api)
    now = int(time.time())
    good = sign(secret, kid, tenant)

    cases = {
        "expired": sign(secret, kid, tenant, iat=now - 900, exp=now - 120),
        "tampered": _tampered(good, sub="bob"),
        "unknown kid": sign(secret, "kid_0000000000000000", tenant),
        "alg none": _unsigned(kid, jwt.decode(good, options={"verify_signature": False})),
        "another algorithm": jwt.encode(
            {"sub": "ann", "tid": str(tenant), "iat": now, "exp": now + 60, "aud": "herald-inbox"},
            secret,
            algorithm="HS512",
            headers={"kid": kid},
        ),
        "another audience": sign(secret, kid, tenant, aud="someone-else"),
        "no expiry": _resigned(secret, kid, tenant, drop="exp"),
        "issued in the future": sign(secret, kid, tenant, iat=now + 600, exp=now + 900),
        "lives longer than a day": sign(secret, kid, tenant, exp=now + 2 * 86400),
        "recipient unknown": sign(secret, kid, tenant, sub="nobody"),
        # Signed with A's secret, claiming the other tenant: tid must own the kid.
        "another tenant's tid": sign(secret, kid, other_tenant),
        # The other tenant's own secret, claiming A's tenant (as if to read A's "ann").
        "another tenant's secret": sign(theirs["secret"], theirs["kid"], tenant),
        "tenant api key": stack.api_key,
        "garbage": "not-a-token",
    }
    for name, token in cases.items():
        response = await whoami_as(stack, bearer(token))
        assert response.status_code == 401, (name, response.text)
        refused(response)
    assert "API key" in refused(await whoami_as(stack, bearer(stack.api_key)))
    refused(await whoami_as(stack, {}), invalid_token=False)
    # The good one works, and the other tenant's own token reads its own "ann" only.
    assert (await whoami_as(stack, bearer(good))).json()["tenant_id"] == str(tenant)
    theirs_good = sign(theirs["secret"], theirs["kid"], other_tenant)
    assert (await whoami_as(stack, bearer(theirs_good))).json()["tenant_id"] == str(other_tenant)


def _resigned(secret: str, kid: str, tenant: object, drop: str) -> str:
    now = int(time.time())
    claims = {"sub": "ann", "tid": str(tenant), "iat": now, "exp": now + 60, "aud": "herald-inbox"}
    claims.pop(drop)
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})


async def test_a_rotation_keeps_two_secrets_valid_during_its_overlap(inbox_stack):
    stack = inbox_stack
    first_token = await recipient_token(stack.api, "ann")  # the first secret, made for it
    first_kid = header_of(first_token)["kid"]

    second = await new_secret(stack.api)  # the default overlap: a day
    assert second["previous"]["kid"] == first_kid
    assert second["previous"]["expires_at"] is not None
    listed = await secrets_listed(stack.api)
    assert listed[first_kid]["expires_at"] == second["previous"]["expires_at"]
    assert listed[second["kid"]]["expires_at"] is None

    # Both valid: the old token, and one the backend signs with the new secret.
    assert (await whoami_as(stack, bearer(first_token))).status_code == 200
    own = sign(second["secret"], second["kid"], stack.tenant_id)
    assert (await whoami_as(stack, bearer(own))).status_code == 200
    # Herald signs with the newest from now on.
    assert header_of(await recipient_token(stack.api, "ann"))["kid"] == second["kid"]


async def test_a_rotated_secret_stops_at_the_end_of_its_overlap(inbox_stack):
    stack = inbox_stack
    await stack.api.put("/v1/recipients/ann", json={"email": "ann@example.com"})
    old = await new_secret(stack.api)
    token = sign(old["secret"], old["kid"], stack.tenant_id)
    assert (await whoami_as(stack, bearer(token))).status_code == 200  # cached from now on

    await new_secret(stack.api, overlap_seconds=1)
    assert (await whoami_as(stack, bearer(token))).status_code == 200  # in its overlap
    await asyncio.sleep(1.3)
    assert "unknown, expired or revoked" in refused(await whoami_as(stack, bearer(token)))

    await new_secret(stack.api, overlap_seconds=0)  # no overlap: the previous ends at once
    newest = await recipient_token(stack.api, "ann")
    assert (await whoami_as(stack, bearer(newest))).status_code == 200


@pytest.mark.parametrize("overlap", [-1, 30 * 86400 + 1, "60", None])
async def test_an_overlap_out_of_bounds_is_refused_naming_the_field(inbox_stack, overlap):
    response = await inbox_stack.api.post(
        "/v1/settings/inbox/signing-secrets", json={"overlap_seconds": overlap}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "overlap_seconds"
    assert await secrets_listed(inbox_stack.api) == {}


async def test_a_revoked_secret_stops_working_at_once_here(inbox_stack):
    stack = inbox_stack
    token = await recipient_token(stack.api, "ann")
    kid = header_of(token)["kid"]
    assert (await whoami_as(stack, bearer(token))).status_code == 200

    revoked = await stack.api.delete(f"/v1/settings/inbox/signing-secrets/{kid}")
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert "unknown, expired or revoked" in refused(await whoami_as(stack, bearer(token)))
    again = await stack.api.delete(f"/v1/settings/inbox/signing-secrets/{kid}")
    assert again.status_code == 200 and again.json() == revoked.json()

    # Herald had no other secret: the next token it issues is signed by a new one.
    fresh = await recipient_token(stack.api, "ann")
    assert header_of(fresh)["kid"] != kid
    assert (await whoami_as(stack, bearer(fresh))).status_code == 200

    missing = await stack.api.delete("/v1/settings/inbox/signing-secrets/kid_nope")
    assert missing.status_code == 404, missing.text


async def test_a_secret_revoked_elsewhere_stops_working_within_the_cache_time(short_cache_stack):
    """Revoked by another API process (a fresh cache stands for its own), the secret stays
    cached here for at most API_KEY_CACHE_SECONDS (2 s in this test), then is refused."""
    stack, ttl = short_cache_stack, short_cache_stack.settings.api_key_cache_seconds
    token = await recipient_token(stack.api, "ann")
    assert (await whoami_as(stack, bearer(token))).status_code == 200
    cached_at = time.monotonic()
    assert stack.app is not None
    async with stack.app.state.sessions() as session:
        await inbox_secrets.revoke_secret(
            session,
            InboxAuthCache(ttl),
            TenantIdentity(stack.tenant_id, "Acme"),
            header_of(token)["kid"],
        )

    still = (await whoami_as(stack, bearer(token))).status_code
    if time.monotonic() - cached_at < ttl - 0.2:  # a loaded machine may have taken longer
        assert still == 200, "cached: this process has not read the secret again yet"
    await asyncio.sleep(max(0.0, cached_at + ttl + 0.1 - time.monotonic()))
    refused(await whoami_as(stack, bearer(token)))


def hmac_headers(tenant_id: object, external_id: str, mac: str) -> dict[str, str]:
    return {
        "X-Herald-Tenant": str(tenant_id),
        "X-Herald-Recipient": external_id,
        "X-Herald-Recipient-Hmac": mac,
    }


async def test_the_hmac_scheme_only_where_the_tenant_enabled_it(inbox_stack, sessions):
    stack = inbox_stack
    for external_id in ("ann", "bob"):
        await stack.api.put(f"/v1/recipients/{external_id}", json={"email": "x@example.com"})
    secret = await new_secret(stack.api)
    mac = recipient_hmac(secret["secret"], "ann")
    signed = hmac_headers(stack.tenant_id, "ann", mac)
    assert "not enabled" in refused(await whoami_as(stack, signed))

    enabled = await stack.api.patch("/v1/settings/inbox", json={"hmac_enabled": True})
    assert enabled.status_code == 200 and enabled.json()["hmac_enabled"] is True
    who = await whoami_as(stack, signed)
    assert who.status_code == 200, who.text
    assert who.json()["external_id"] == "ann"
    upper = hmac_headers(stack.tenant_id, "ann", mac.upper())
    assert (await whoami_as(stack, upper)).status_code == 200

    refused(await whoami_as(stack, hmac_headers(stack.tenant_id, "bob", mac)))  # ann's MAC
    refused(await whoami_as(stack, hmac_headers(stack.tenant_id, "ann", "00" * 32)))
    refused(await whoami_as(stack, hmac_headers(stack.tenant_id, "nobody", mac)))
    refused(await whoami_as(stack, hmac_headers("not-a-uuid", "ann", mac)))
    # Another tenant (HMAC enabled, its own "ann"): A's MAC proves nothing there.
    other_tenant, other_key = await new_tenant(sessions, "Other")
    other_api = await stack.as_tenant(other_key)
    await other_api.put("/v1/recipients/ann", json={"email": "ann@other.example"})
    await other_api.patch("/v1/settings/inbox", json={"hmac_enabled": True})
    await new_secret(other_api)
    refused(await whoami_as(stack, hmac_headers(other_tenant, "ann", mac)))

    # A rotation's overlap covers MACs too; revoking the secret ends them.
    newer = await new_secret(stack.api)
    assert (await whoami_as(stack, signed)).status_code == 200
    newer_mac = hmac_headers(stack.tenant_id, "ann", recipient_hmac(newer["secret"], "ann"))
    assert (await whoami_as(stack, newer_mac)).status_code == 200
    await stack.api.delete(f"/v1/settings/inbox/signing-secrets/{secret['kid']}")
    refused(await whoami_as(stack, signed))

    await stack.api.patch("/v1/settings/inbox", json={"hmac_enabled": False})
    assert "not enabled" in refused(await whoami_as(stack, newer_mac))


async def test_inbox_settings_read_and_change(inbox_stack):
    stack = inbox_stack
    defaults = await stack.api.get("/v1/settings/inbox")
    assert defaults.status_code == 200, defaults.text
    assert defaults.json() == {
        "allowed_origins": [],
        "hmac_enabled": False,
        "token_ttl_seconds": 3600,
    }
    changed = await stack.api.patch(
        "/v1/settings/inbox",
        json={
            # As a browser sends Origin: lower case, no default port; repeats once.
            "allowed_origins": [
                "HTTPS://App.Example.com:443",
                "http://localhost:3000",
                "https://app.example.com",
                "http://[::1]:8080",
            ]
        },
    )
    assert changed.status_code == 200, changed.text
    expected = {
        "allowed_origins": [
            "https://app.example.com",
            "http://localhost:3000",
            "http://[::1]:8080",
        ],
        "hmac_enabled": False,
        "token_ttl_seconds": 3600,
    }
    assert changed.json() == expected
    ttl = await stack.api.patch("/v1/settings/inbox", json={"token_ttl_seconds": 900})
    assert ttl.json() == expected | {"token_ttl_seconds": 900}  # the others as they were
    assert (await stack.api.get("/v1/settings/inbox")).json() == ttl.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allowed_origins": ["ftp://files.example.com"]}, "allowed_origins.0"),
        ({"allowed_origins": ["https://ok.example.com", "app.example.com"]}, "allowed_origins.1"),
        ({"allowed_origins": ["https://app.example.com/"]}, "allowed_origins.0"),
        ({"allowed_origins": ["https://app.example.com/page"]}, "allowed_origins.0"),
        ({"allowed_origins": ["https://user@app.example.com"]}, "allowed_origins.0"),
        ({"allowed_origins": ["https://*.example.com"]}, "allowed_origins.0"),
        ({"allowed_origins": ["*"]}, "allowed_origins.0"),
        ({"allowed_origins": ["https://app.example.com:99999"]}, "allowed_origins.0"),
        ({"allowed_origins": ["https://app.example.com?x=1"]}, "allowed_origins.0"),
        ({"allowed_origins": "https://app.example.com"}, "allowed_origins"),
        ({"allowed_origins": [f"https://a{n}.example.com" for n in range(51)]}, "allowed_origins"),
        ({"allowed_origins": None}, "allowed_origins"),
        ({"token_ttl_seconds": 59}, "token_ttl_seconds"),
        ({"token_ttl_seconds": 86401}, "token_ttl_seconds"),
        ({"hmac_enabled": "yes"}, "hmac_enabled"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_inbox_settings_are_refused_naming_the_field(inbox_stack, body, field):
    stack = inbox_stack
    before = (await stack.api.get("/v1/settings/inbox")).json()
    response = await stack.api.patch("/v1/settings/inbox", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field, response.json()
    assert (await stack.api.get("/v1/settings/inbox")).json() == before  # nothing written


async def test_cors_preflight_is_answered_for_any_origin(inbox_stack):
    stack = inbox_stack
    for origin in (APP_ORIGIN, "https://elsewhere.example"):
        response = await stack.api.options(
            "/v1/inbox/counts",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
                "Authorization": "",  # a preflight carries no credentials
            },
        )
        assert response.status_code == 204, response.text
        assert response.headers["access-control-allow-origin"] == origin
        assert "POST" in response.headers["access-control-allow-methods"]
        allowed = response.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "last-event-id"} <= set(allowed.split(", "))


async def test_cors_answers_only_the_tenant_allowed_origins(inbox_stack):
    stack = inbox_stack
    await stack.api.patch("/v1/settings/inbox", json={"allowed_origins": [APP_ORIGIN]})
    token = await recipient_token(stack.api, "ann")

    allowed = await whoami_as(stack, bearer(token) | {"Origin": APP_ORIGIN})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "Origin" in allowed.headers["vary"]
    other = await whoami_as(stack, bearer(token) | {"Origin": "https://evil.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers
    assert "access-control-allow-origin" not in (await whoami_as(stack, bearer(token))).headers

    # A streaming answer gets it too: the header is added as the answer starts.
    async with await stack.as_tenant(token) as inbox:
        streamed = await inbox.get(PROBE_STREAM, headers={"Origin": APP_ORIGIN})
    assert streamed.status_code == 200 and streamed.text.endswith("data: ann\n\n")
    assert streamed.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_cors_lets_the_page_read_a_genuine_token_refusal_only(inbox_stack):
    """An expired token of the tenant's: the page reads the 401 and fetches a new token. A
    forged one proves no tenant: no origin is allowed to read its refusal."""
    stack = inbox_stack
    await stack.api.put("/v1/recipients/ann", json={"email": "ann@example.com"})
    await stack.api.patch("/v1/settings/inbox", json={"allowed_origins": [APP_ORIGIN]})
    secret = await new_secret(stack.api)
    now = int(time.time())
    expired = sign(secret["secret"], secret["kid"], stack.tenant_id, iat=now - 900, exp=now - 90)
    answer = await whoami_as(stack, bearer(expired) | {"Origin": APP_ORIGIN})
    assert "expired" in refused(answer)
    assert answer.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "WWW-Authenticate" in answer.headers["access-control-expose-headers"]

    forged = sign("hisk_" + "guessed" * 8, secret["kid"], stack.tenant_id)
    answer = await whoami_as(stack, bearer(forged) | {"Origin": APP_ORIGIN})
    refused(answer)
    assert "access-control-allow-origin" not in answer.headers


async def test_the_widget_script_is_public_to_every_origin(inbox_stack):
    response = await whoami_as(inbox_stack, {"Origin": "https://any.example"})
    assert "access-control-allow-origin" not in response.headers  # other inbox routes: not public
    async with await inbox_stack.as_tenant("unused") as client:
        client.headers.pop("Authorization")
        script = await client.get("/v1/inbox/widget.js", headers={"Origin": "https://any.example"})
    assert script.headers["access-control-allow-origin"] == "*"
    assert script.status_code in (200, 404)  # 404 until the widget's route is there


async def test_a_live_stream_gets_cors_for_an_allowed_origin(inbox_stack):
    """GET /v1/inbox/stream on a real port (an answer that never ends): the header is there."""
    stack = inbox_stack
    assert stack.app is not None
    await stack.api.patch("/v1/settings/inbox", json={"allowed_origins": [APP_ORIGIN]})
    token = await recipient_token(stack.api, "ann")
    async with (
        on_a_port(stack.app) as url,
        httpx.AsyncClient(base_url=url) as client,
        event_stream(
            client, "/v1/inbox/stream", headers=bearer(token) | {"Origin": APP_ORIGIN}
        ) as allowed,
        event_stream(client, "/v1/inbox/stream", params={"token": token}) as no_origin,
    ):
        assert (await allowed.next()).kind == "ready"
        assert allowed.response.headers["access-control-allow-origin"] == APP_ORIGIN
        assert (await no_origin.next()).kind == "ready"
        assert "access-control-allow-origin" not in no_origin.response.headers
