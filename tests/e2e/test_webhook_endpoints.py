"""Status webhook endpoints through the real API (/v1/webhook-endpoints): created, listed,
changed, disabled and enabled again, deleted; the signing secret shown once and rotated with a
day's overlap; bad input and URLs leading inside refused naming the field, nothing written; the
messages sent to an endpoint and their attempts listed (rows written here as the delivery
would write them); another tenant finds none of it."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from db.integration_models import WebhookEndpoint
from db.webhook_endpoints import signing_target
from services.webhook_endpoints import MAX_ENDPOINTS, open_secrets
from tests.conftest import new_tenant
from tests.e2e.webhook_messages_factory import add_message

ENDPOINTS = "/v1/webhook-endpoints"
# Literal public addresses: checked without DNS, and nothing is ever sent to them here.
URL = "https://93.184.215.14/herald-status"
OTHER_URL = "https://93.184.215.15/v2/status"


async def create(stack, **body: Any) -> dict:
    response = await stack.api.post(ENDPOINTS, json={"url": URL, **body})
    assert response.status_code == 201, response.text
    return response.json()


async def endpoint_count(sessions, tenant_id: uuid.UUID) -> int:
    async with sessions() as session:
        statement = select(func.count()).where(WebhookEndpoint.tenant_id == tenant_id)
        return await session.scalar(statement)


async def test_an_endpoint_is_created_read_listed_changed_and_deleted(stack, sessions):
    created = await create(
        stack,
        description="Bookings service",
        event_types=["delivery.failed", "delivery.sent", "delivery.failed"],
    )
    assert created["url"] == URL and created["description"] == "Bookings service"
    assert created["event_types"] == ["delivery.failed", "delivery.sent"]  # each once
    assert created["enabled"] is True and created["disabled_reason"] is None
    assert created["failing_since"] is None

    path = f"{ENDPOINTS}/{created['id']}"
    read = await stack.api.get(path)
    assert read.status_code == 200, read.text
    assert read.json() == {k: v for k, v in created.items() if k != "secret"}
    listed = await stack.api.get(ENDPOINTS)
    assert listed.status_code == 200, listed.text
    assert [e["id"] for e in listed.json()["data"]] == [created["id"]]

    changed = await stack.api.patch(
        path, json={"url": OTHER_URL, "description": None, "event_types": []}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["url"] == OTHER_URL
    assert changed.json()["description"] is None
    assert changed.json()["event_types"] == []  # every type
    updated = datetime.fromisoformat(changed.json()["updated_at"])
    assert updated > datetime.fromisoformat(created["updated_at"])
    untouched = await stack.api.patch(path, json={"description": "kept"})
    assert (untouched.json()["url"], untouched.json()["description"]) == (OTHER_URL, "kept")
    assert (await stack.api.get(path)).json() == untouched.json()

    deleted = await stack.api.delete(path)
    assert deleted.status_code == 204, deleted.text
    assert (await stack.api.get(path)).status_code == 404
    assert (await stack.api.delete(path)).status_code == 404
    assert (await stack.api.get(ENDPOINTS)).json()["data"] == []
    assert await endpoint_count(sessions, stack.tenant_id) == 0


async def test_the_secret_is_shown_once_then_only_its_hint(stack):
    created = await create(stack)
    secret = created["secret"]
    assert secret.startswith("whsec_") and created["secret_hint"] == "whsec_…" + secret[-4:]

    path = f"{ENDPOINTS}/{created['id']}"
    for response in (
        await stack.api.get(path),
        await stack.api.get(ENDPOINTS),
        await stack.api.patch(path, json={"enabled": True}),
    ):
        assert response.status_code == 200, response.text
        assert secret not in response.text and '"secret"' not in response.text
        assert "whsec_…" + secret[-4:] in response.text


async def test_after_a_rotation_both_secrets_sign_for_a_day(stack, sessions):
    """open_secrets, what a send signs with, gives the new secret and the old one during the
    rotation's overlap, the new alone after it."""
    created = await create(stack)
    endpoint_id = uuid.UUID(created["id"])
    async with sessions() as session:
        target = await signing_target(session, endpoint_id)
    assert target is not None and (target.url, target.enabled) == (URL, True)
    assert open_secrets(stack.settings, target) == [created["secret"]]

    rotated = await stack.api.post(f"{ENDPOINTS}/{endpoint_id}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != created["secret"]
    assert rotated.json()["secret_hint"] == "whsec_…" + new[-4:]
    shown = (await stack.api.get(f"{ENDPOINTS}/{endpoint_id}")).json()
    assert shown["secret_hint"] == "whsec_…" + new[-4:] and new not in str(shown)
    async with sessions() as session:
        target = await signing_target(session, endpoint_id)
    assert target is not None
    assert open_secrets(stack.settings, target) == [new, created["secret"]]

    async with sessions.begin() as session:  # the day is over
        await session.execute(
            text(
                "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1s'"
                " WHERE id = :id"
            ),
            {"id": endpoint_id},
        )
        target = await signing_target(session, endpoint_id)
    assert target is not None and open_secrets(stack.settings, target) == [new]

    assert (await stack.api.delete(f"{ENDPOINTS}/{endpoint_id}")).status_code == 204
    async with sessions() as session:
        assert await signing_target(session, endpoint_id) is None
    missing = await stack.api.post(f"{ENDPOINTS}/{endpoint_id}/rotate-secret")
    assert missing.status_code == 404, missing.text


async def test_disabled_then_enabled_again(stack, sessions):
    created = await create(stack, enabled=False)
    assert (created["enabled"], created["disabled_reason"]) == (False, "disabled by the tenant")
    path = f"{ENDPOINTS}/{created['id']}"
    on = await stack.api.patch(path, json={"enabled": True})
    assert (on.json()["enabled"], on.json()["disabled_reason"]) == (True, None)

    async def herald_disables_it() -> None:  # as the delivery does after failing too long
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "UPDATE webhook_endpoints SET enabled = false, failing_since = now() - "
                    "interval '5 days', disabled_reason = 'failing for 5 days' WHERE id = :id"
                ),
                {"id": uuid.UUID(created["id"])},
            )

    await herald_disables_it()
    again = await stack.api.patch(path, json={"enabled": False})  # Herald's reason stays
    assert (again.json()["enabled"], again.json()["disabled_reason"]) == (
        False,
        "failing for 5 days",
    )
    async with sessions() as session:
        target = await signing_target(session, uuid.UUID(created["id"]))
    assert target is not None and target.enabled is False

    enabled = await stack.api.patch(path, json={"enabled": True})
    assert enabled.status_code == 200, enabled.text
    shown = enabled.json()
    assert (shown["enabled"], shown["disabled_reason"], shown["failing_since"]) == (
        True,
        None,
        None,
    )

    # An endpoint that is on keeps its failing streak when it is "enabled" again.
    async with sessions.begin() as session:
        await session.execute(
            text("UPDATE webhook_endpoints SET failing_since = now() WHERE id = :id"),
            {"id": uuid.UUID(created["id"])},
        )
    still = await stack.api.patch(path, json={"enabled": True})
    assert still.json()["failing_since"] is not None
    off = await stack.api.patch(path, json={"enabled": False})
    assert off.json()["disabled_reason"] == "disabled by the tenant"


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({}, "url", "required"),
        ({"url": "ftp://hooks.example/x"}, "url", "https"),
        ({"url": "http://93.184.215.14/x"}, "url", "https"),
        ({"url": "https://user:pw@93.184.215.14/x"}, "url", "user or password"),
        ({"url": "https://93.184.215.14/x#frag"}, "url", "fragment"),
        ({"url": "https://93.184.215.14:99999/x"}, "url", "not a URL"),
        ({"url": "https://93.184.215.14/a b"}, "url", "spaces"),
        ({"url": "https://93.184.215.14/" + "a" * 2048}, "url", "2048"),
        ({"url": 42}, "url", "string"),
        ({"event_types": ["delivery.exploded"]}, "event_types.0", "delivery.sent"),
        ({"event_types": ["delivery.sent", "x"]}, "event_types.1", "delivery.sent"),
        ({"event_types": "delivery.sent"}, "event_types", "list"),
        ({"description": "d" * 201}, "description", "200"),
        ({"enabled": "yes"}, "enabled", "boolean"),
        ({"secret": "whsec_mine"}, "secret", "Extra inputs"),
    ],
)
async def test_a_bad_endpoint_is_refused_naming_the_field(stack, sessions, body, field, problem):
    before = await endpoint_count(sessions, stack.tenant_id)
    response = await stack.api.post(ENDPOINTS, json={"url": URL, **body} if body else {})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field], response.text
    assert problem in response.text
    assert await endpoint_count(sessions, stack.tenant_id) == before


@pytest.mark.parametrize(
    ("body", "field", "problem"),
    [
        ({"url": None}, "url", "null"),
        ({"enabled": None}, "enabled", "null"),
        ({"event_types": None}, "event_types", "null"),
        ({"url": "https://user:pw@93.184.215.14/x"}, "url", "user or password"),
        ({"url": "https://127.0.0.1/x"}, "url", "private, loopback or link-local"),
        ({"event_types": ["delivery.sent", "nope"]}, "event_types.1", "delivery.sent"),
        ({"description": "d" * 201}, "description", "200"),
        ({"id": str(uuid.uuid4())}, "id", "Extra inputs"),
    ],
)
async def test_a_bad_change_is_refused_naming_the_field(stack, body, field, problem):
    created = await create(stack, event_types=["delivery.sent"], description="as it was")
    path = f"{ENDPOINTS}/{created['id']}"
    before = (await stack.api.get(path)).json()
    response = await stack.api.patch(path, json=body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field], response.text
    assert problem in response.text
    assert (await stack.api.get(path)).json() == before


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost:8443/hook",
        "https://10.0.0.7/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://100.100.100.200/latest/meta-data/",
    ],
)
async def test_a_url_leading_inside_is_refused(stack, sessions, url):
    response = await stack.api.post(ENDPOINTS, json={"url": url})
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "url"
    assert "private, loopback or link-local" in error["problem"]
    assert await endpoint_count(sessions, stack.tenant_id) == 0


async def test_http_and_private_addresses_only_when_allowed(make_stack, temporal_env):
    async with make_stack(temporal_env, webhook_allow_private_addresses=True) as stack:
        created = await stack.api.post(ENDPOINTS, json={"url": "http://127.0.0.1:9/hook"})
        assert created.status_code == 201, created.text
        assert created.json()["url"] == "http://127.0.0.1:9/hook"


async def test_a_tenant_has_at_most_twenty_endpoints(stack, sessions):
    made = [await create(stack, description=f"n{n}") for n in range(MAX_ENDPOINTS)]
    refused = await stack.api.post(ENDPOINTS, json={"url": URL})
    assert refused.status_code == 422, refused.text
    assert f"at most {MAX_ENDPOINTS}" in refused.json()["detail"]
    assert await endpoint_count(sessions, stack.tenant_id) == MAX_ENDPOINTS

    _, other_key = await new_tenant(sessions, "Other")  # the cap is per tenant
    other = await stack.as_tenant(other_key)
    assert (await other.post(ENDPOINTS, json={"url": URL})).status_code == 201

    assert (await stack.api.delete(f"{ENDPOINTS}/{made[0]['id']}")).status_code == 204
    await create(stack)


async def test_endpoints_page_newest_first(stack):
    made = [(await create(stack, description=f"n{n}"))["id"] for n in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await stack.api.get(ENDPOINTS, params=params)
        assert response.status_code == 200, response.text
        seen += [e["id"] for e in response.json()["data"]]
        pages += 1
        if not (cursor := response.json()["next_cursor"]):
            break
    assert seen == made[::-1] and pages == 3


# --- the messages sent to an endpoint, written here as the delivery writes them ---


async def test_messages_are_listed_newest_first_filtered_and_paged(stack, sessions):
    endpoint = await create(stack)
    other_endpoint = await create(stack)
    start = datetime.now(UTC) - timedelta(hours=1)
    statuses = ["delivered", "failed", "pending", "delivered", "failed"]
    made = [
        await add_message(sessions, stack.tenant_id, endpoint["id"], start + timedelta(s), status)
        for s, status in enumerate(statuses)
    ]
    await add_message(sessions, stack.tenant_id, other_endpoint["id"], start)

    messages = f"{ENDPOINTS}/{endpoint['id']}/messages"
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await stack.api.get(messages, params=params)
        assert response.status_code == 200, response.text
        seen += response.json()["data"]
        if not (cursor := response.json()["next_cursor"]):
            break
    assert [m["id"] for m in seen] == made[::-1]
    assert [m["status"] for m in seen] == statuses[::-1]
    assert seen[2]["next_attempt_at"] is not None  # the pending one
    assert "payload" not in seen[0] and seen[0]["event_type"] == "delivery.failed"

    failed = await stack.api.get(messages, params={"status": "failed"})
    assert [m["id"] for m in failed.json()["data"]] == [made[4], made[1]]
    bad = await stack.api.get(messages, params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    missing = await stack.api.get(f"{ENDPOINTS}/{uuid.uuid4()}/messages")
    assert missing.status_code == 404, missing.text


async def test_a_message_shows_its_payload_and_attempts_oldest_first(stack, sessions):
    endpoint = await create(stack)
    at = datetime.now(UTC) - timedelta(minutes=10)
    attempts: list[dict[str, Any]] = [
        {"attempted_at": at + timedelta(seconds=5), "status_code": 200, "duration_ms": 40},
        {
            "attempted_at": at,
            "status_code": None,
            "error": "timed out after 10 s",
            "duration_ms": 10_000,
        },
        {
            "attempted_at": at + timedelta(seconds=1),
            "status_code": 503,
            "response_body": "busy",
            "duration_ms": 12,
        },
    ]
    message_id = await add_message(
        sessions, stack.tenant_id, endpoint["id"], at, "delivered", attempts
    )

    response = await stack.api.get(f"{ENDPOINTS}/{endpoint['id']}/messages/{message_id}")
    assert response.status_code == 200, response.text
    message = response.json()
    assert message["id"] == message_id and message["status"] == "delivered"
    assert message["attempt_count"] == 3 and message["delivered_at"] is not None
    assert message["payload"] == {"type": "delivery.failed", "data": {"n": at.isoformat()}}
    shown = [
        (a["status_code"], a["response_body"], a["error"], a["duration_ms"])
        for a in message["attempts"]
    ]
    assert shown == [
        (None, None, "timed out after 10 s", 10_000),
        (503, "busy", None, 12),
        (200, None, None, 40),
    ]
    times = [datetime.fromisoformat(a["attempted_at"]) for a in message["attempts"]]
    assert times == sorted(times)

    other = await create(stack)  # the message is not another endpoint's, even the tenant's own
    elsewhere = await stack.api.get(f"{ENDPOINTS}/{other['id']}/messages/{message_id}")
    assert elsewhere.status_code == 404, elsewhere.text
    unknown = await stack.api.get(f"{ENDPOINTS}/{endpoint['id']}/messages/{uuid.uuid4()}")
    assert unknown.status_code == 404, unknown.text


async def test_another_tenant_finds_nothing(stack, sessions):
    endpoint = await create(stack, description="A's")
    message_id = await add_message(sessions, stack.tenant_id, endpoint["id"], datetime.now(UTC))
    path = f"{ENDPOINTS}/{endpoint['id']}"
    before = (await stack.api.get(path)).json()

    _, intruder_key = await new_tenant(sessions, "Intruder")
    intruder = await stack.as_tenant(intruder_key)
    for method, url, body in [
        ("GET", path, None),
        ("PATCH", path, {"enabled": False}),
        ("DELETE", path, None),
        ("POST", f"{path}/rotate-secret", None),
        ("GET", f"{path}/messages", None),
        ("GET", f"{path}/messages/{message_id}", None),
    ]:
        response = await intruder.request(method, url, json=body)
        assert response.status_code == 404, (method, url, response.text)
    listed = await intruder.get(ENDPOINTS)
    assert listed.status_code == 200 and listed.json()["data"] == []
    assert (await stack.api.get(path)).json() == before
