"""Tenant isolation on every route, from the application's route list.

Tenant A creates one of everything; tenant B then tries every route with A's ids. A route that
names a resource by id answers B 404 (never A's data, never a 403 that confirms it exists);
a route that names a resource by the caller's own name (PUT /v1/recipients/{external_id})
writes B's own resource; every list shows B none of A's ids; and afterwards A's resources are
as they were. A new route fails this test until it is classified below."""

from datetime import UTC, datetime, timedelta

from api.inbox_cors import is_inbox_path
from tests.conftest import new_tenant
from tests.e2e.bookings_factory import booking_event, new_booking_id
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_templates_api import email_template
from tests.e2e.webhook_messages_factory import add_message
from tests.utils.routes import api_routes

# Routes that name one of the caller's resources by its id: B gets 404 for A's.
BY_ID = {
    ("GET", "/v1/notifications/{notification_id}"),
    ("POST", "/v1/notifications/{notification_id}/cancel"),
    ("POST", "/v1/deliveries/{delivery_id}/resend"),
    ("GET", "/v1/recipients/{external_id}"),
    ("GET", "/v1/recipients/{external_id}/preferences"),
    ("GET", "/v1/templates/{template_id}"),
    ("PUT", "/v1/templates/{template_id}"),
    ("DELETE", "/v1/templates/{template_id}"),
    ("GET", "/v1/templates/{template_id}/versions"),
    ("POST", "/v1/templates/{template_id}/preview"),
    ("POST", "/v1/templates/{template_id}/test"),
    ("GET", "/v1/bookings/{booking_id}"),
    ("GET", "/v1/organizers/{organizer_id}/agenda"),
    ("POST", "/v1/scheduled/{id}/cancel"),
    ("POST", "/v1/scheduled/{id}/reschedule"),
    ("DELETE", "/v1/api-keys/{key_id}"),
    ("POST", "/v1/api-keys/{key_id}/rotate"),
    ("POST", "/v1/recipients/{external_id}/token"),
    ("DELETE", "/v1/settings/inbox/signing-secrets/{kid}"),
    ("GET", "/v1/broadcasts/{broadcast_id}"),
    ("POST", "/v1/broadcasts/{broadcast_id}/pause"),
    ("POST", "/v1/broadcasts/{broadcast_id}/resume"),
    ("POST", "/v1/broadcasts/{broadcast_id}/cancel"),
    ("GET", "/v1/topics/{key}/subscribers"),
    ("DELETE", "/v1/topics/{key}/subscribers"),
    ("DELETE", "/v1/topics/{key}"),
    ("GET", "/v1/recipients/{external_id}/topics"),
    # B has no recipient of A's id (until BY_OWN_NAME below makes one): 404, A's device stays.
    ("PUT", "/v1/recipients/{external_id}/devices"),
    ("GET", "/v1/recipients/{external_id}/devices"),
    ("DELETE", "/v1/recipients/{external_id}/devices/{device_id}"),
    # A person's privacy requests: their data's export and their consent history.
    ("GET", "/v1/recipients/{external_id}/export"),
    ("GET", "/v1/recipients/{external_id}/consents"),
    # Erasure: B has no recipient of A's id (until BY_OWN_NAME makes one); A's stays whole.
    ("DELETE", "/v1/recipients/{external_id}"),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}"),
    ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"),
    ("DELETE", "/v1/webhook-endpoints/{endpoint_id}"),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret"),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/messages"),
    ("GET", "/v1/webhook-endpoints/{endpoint_id}/messages/{message_id}"),
    ("POST", "/v1/webhook-endpoints/{endpoint_id}/messages/{message_id}/replay"),
}
# Routes whose id is a name the caller chooses: B's call makes or changes B's own resource.
BY_OWN_NAME = {
    ("PUT", "/v1/recipients/{external_id}"),
    ("PATCH", "/v1/recipients/{external_id}"),
    ("PUT", "/v1/recipients/{external_id}/preferences"),
    ("PATCH", "/v1/recipients/{external_id}/preferences"),
    ("PUT", "/v1/organizers/{organizer_id}/agenda"),
    ("PUT", "/v1/topics/{key}/subscribers"),  # B's own topic, of B's own recipients
}
# The caller's own settings, without an id: B's call changes B's own, never A's (the snapshot
# at the end shows A's as it was).
OWN_SETTINGS = {
    ("PUT", "/v1/settings/webhook-channel"),
    ("POST", "/v1/settings/webhook-channel/rotate-secret"),
    ("DELETE", "/v1/settings/webhook-channel"),
}
# A literal public address: the PUT checks it without DNS, and nothing is ever sent to it.
A_WEBHOOK_URL = "https://93.184.215.14/a-iso-hook"
# Credentials other than an API key: the signed unsubscribe token carries its tenant (tested in
# test_unsubscribe.py); provider webhooks are signed by the provider; metrics and health
# details take the operator's token; health is public by design.
NOT_TENANT_KEYED = {
    ("GET", "/v1/unsubscribe/{token}"),
    ("POST", "/v1/unsubscribe/{token}"),
    ("POST", "/v1/webhooks/twilio/status"),
    ("POST", "/v1/webhooks/sendgrid/events"),
    ("POST", "/v1/webhooks/mailgun"),
    ("POST", "/v1/webhooks/vonage/status"),
    ("GET", "/v1/webhooks/vonage/status"),
    ("POST", "/v1/webhooks/ses"),  # signed by SNS (test_ses.py)
    ("GET", "/metrics"),
    ("GET", "/v1/health"),
    ("GET", "/v1/health/details"),
}
# /v1/inbox/* take a recipient token, not an API key: test_inbox_isolation.py classifies them
# and shows that no recipient reaches another's (or another tenant's) inbox.

SOON = datetime.now(UTC) + timedelta(days=30)
BODIES = {
    ("PUT", "/v1/templates/{template_id}"): {"subject": "taken over"},
    ("POST", "/v1/templates/{template_id}/preview"): {"context": {}},
    ("POST", "/v1/templates/{template_id}/test"): {"email": "b@example.com", "context": {}},
    ("POST", "/v1/scheduled/{id}/reschedule"): {"send_at": SOON.isoformat()},
    ("PUT", "/v1/recipients/{external_id}"): {"email": "b-owner@example.com", "name": "B"},
    ("PATCH", "/v1/recipients/{external_id}"): {"name": "B"},
    ("PUT", "/v1/recipients/{external_id}/preferences"): {"channels": {"email": False}},
    ("PATCH", "/v1/recipients/{external_id}/preferences"): {"channels": {"sms": False}},
    ("PUT", "/v1/organizers/{organizer_id}/agenda"): {"time": "07:30"},
    ("PUT", "/v1/topics/{key}/subscribers"): {"recipients": ["iso-recipient"]},
    ("DELETE", "/v1/topics/{key}/subscribers"): {"recipients": ["iso-recipient"]},
    ("PUT", "/v1/settings/webhook-channel"): {"url": "https://93.184.215.14/b-iso-hook"},
    ("PUT", "/v1/recipients/{external_id}/devices"): {"kind": "fcm", "token": "b-device"},
    ("PATCH", "/v1/webhook-endpoints/{endpoint_id}"): {"description": "taken over"},
}


async def a_of_everything(stack) -> dict[str, str]:
    """Tenant A's resources, one per path parameter the routes use."""
    api = stack.api
    external_id = "iso-recipient"
    put = await api.put(f"/v1/recipients/{external_id}", json={"email": "a-owner@example.com"})
    assert put.status_code in (200, 201), put.text
    sent = await api.post(
        "/v1/notifications",
        json=email_request("a-owner@example.com") | {"recipient": {"external_id": external_id}},
    )
    assert sent.status_code == 202, sent.text
    notification = await stack.wait_for_status(sent.json()["id"], "sent")
    later = await api.post(
        "/v1/notifications", json=email_request("a-later@example.com", send_at=SOON.isoformat())
    )
    assert later.status_code == 202, later.text
    await stack.wait_for_status(later.json()["id"], "scheduled")
    template = await api.post("/v1/templates", json=email_template())
    assert template.status_code == 201, template.text
    booking_id = new_booking_id()
    event = await api.post(
        "/v1/events", json=booking_event("booking.created", booking_id, SOON + timedelta(days=1))
    )
    assert event.status_code == 202, event.text
    organizer_id = "iso-organizer"
    await api.put(f"/v1/recipients/{organizer_id}", json={"email": "a-organizer@example.com"})
    agenda = await api.put(f"/v1/organizers/{organizer_id}/agenda", json={"time": "06:00"})
    assert agenda.status_code in (200, 201), agenda.text
    keys = await api.get("/v1/api-keys")
    assert keys.status_code == 200, keys.text
    secret = await api.post("/v1/settings/inbox/signing-secrets")
    assert secret.status_code == 201, secret.text
    webhook = await api.put("/v1/settings/webhook-channel", json={"url": A_WEBHOOK_URL})
    assert webhook.status_code == 201, webhook.text
    topic = await api.put("/v1/topics/iso-topic/subscribers", json={"recipients": [external_id]})
    assert topic.status_code == 200, topic.text
    broadcast = await api.post(  # scheduled: it stays as it is while B tries
        "/v1/broadcasts",
        json={
            "audience": {"topic": "iso-topic"},
            "event_key": "iso.news",
            "send_at": SOON.isoformat(),
        },
    )
    assert broadcast.status_code == 202, broadcast.text
    device = await api.put(
        f"/v1/recipients/{external_id}/devices", json={"kind": "fcm", "token": "a-device"}
    )
    assert device.status_code == 201, device.text
    return {
        "notification_id": notification["id"],
        "delivery_id": notification["deliveries"][0]["id"],
        "external_id": external_id,
        "template_id": template.json()["id"],
        "booking_id": booking_id,
        "organizer_id": organizer_id,
        "id": later.json()["id"],
        "key_id": _items(keys.json())[0]["id"],
        "kid": secret.json()["kid"],
        "webhook_url": A_WEBHOOK_URL,
        "key": "iso-topic",
        "broadcast_id": broadcast.json()["id"],
        "device_id": device.json()["id"],
    }


async def a_webhook_endpoint(stack, sessions) -> dict[str, str]:
    """A's status webhook endpoint, and a message sent to it (written as the delivery does).
    Disabled: no status event of A's is ever sent to its address."""
    endpoint = await stack.api.post(
        "/v1/webhook-endpoints", json={"url": A_WEBHOOK_URL, "enabled": False}
    )
    assert endpoint.status_code == 201, endpoint.text
    endpoint_id = endpoint.json()["id"]
    message_id = await add_message(sessions, stack.tenant_id, endpoint_id, datetime.now(UTC))
    return {"endpoint_id": endpoint_id, "message_id": message_id}


def _items(page: dict) -> list[dict]:
    for name in ("data", "items", "keys"):
        if isinstance(page.get(name), list):
            return page[name]
    raise AssertionError(f"no list in {page}")


async def snapshot(api, ids: dict[str, str]) -> dict[str, object]:
    """What A sees of its own resources, to compare before and after B's attempts."""
    paths = [
        f"/v1/notifications/{ids['notification_id']}",
        f"/v1/notifications/{ids['id']}",
        f"/v1/recipients/{ids['external_id']}",
        f"/v1/recipients/{ids['external_id']}/preferences",
        f"/v1/templates/{ids['template_id']}",
        f"/v1/organizers/{ids['organizer_id']}/agenda",
        "/v1/api-keys",
        "/v1/settings/inbox",
        "/v1/settings/inbox/signing-secrets",
        "/v1/settings/webhook-channel",
        f"/v1/topics/{ids['key']}/subscribers",
        f"/v1/recipients/{ids['external_id']}/topics",
        f"/v1/broadcasts/{ids['broadcast_id']}",
        f"/v1/recipients/{ids['external_id']}/devices",
        f"/v1/webhook-endpoints/{ids['endpoint_id']}",
        f"/v1/webhook-endpoints/{ids['endpoint_id']}/messages",
        f"/v1/webhook-endpoints/{ids['endpoint_id']}/messages/{ids['message_id']}",
    ]
    seen: dict[str, object] = {}
    for path in paths:
        response = await api.get(path)
        assert response.status_code == 200, (path, response.text)
        seen[path] = response.json()
    # A's own requests move its key's last_used_at; its keys are otherwise as they were.
    for key in _items(seen["/v1/api-keys"]):  # type: ignore[arg-type]
        key.pop("last_used_at", None)
    return seen


async def test_every_route_keeps_tenants_apart(stack, sessions):
    routes = {
        (method, path): route
        for path, route in api_routes(stack.app)
        for method in route.methods or ()
        if method != "HEAD"
    }
    # The dashboard's routes take an operator's session, not a key: tests/e2e/
    # test_dashboard_access.py classifies each of them and checks them the same way.
    with_params = {
        key
        for key in routes
        if "{" in key[1] and not is_inbox_path(key[1]) and not key[1].startswith("/dashboard")
    }
    unclassified = with_params - BY_ID - BY_OWN_NAME - NOT_TENANT_KEYED
    assert not unclassified, f"classify these routes for tenant isolation: {unclassified}"

    ids = await a_of_everything(stack)
    ids |= await a_webhook_endpoint(stack, sessions)
    before = await snapshot(stack.api, ids)
    _, b_key = await new_tenant(sessions, "Intruder")
    intruder = await stack.as_tenant(b_key)

    for method, path in sorted(BY_ID & routes.keys()):
        url = path.format(**ids)
        response = await intruder.request(method, url, json=BODIES.get((method, path)))
        assert response.status_code == 404, (method, url, response.status_code, response.text)
        assert not _mentions(response.text, ids, besides=url), (method, url, response.text)

    # Lists (and everything else without an id) show B nothing of A's.
    for method, path in sorted(k for k in routes if "{" not in k[1] and k[0] == "GET"):
        if (method, path) in NOT_TENANT_KEYED:
            continue
        response = await intruder.get(path)
        assert response.status_code < 500, (path, response.text)
        assert not _mentions(response.text, ids), (path, response.text)

    for method, path in sorted(BY_OWN_NAME & routes.keys()):
        url = path.format(**ids)
        response = await intruder.request(method, url, json=BODIES.get((method, path)))
        assert response.status_code < 500, (method, url, response.text)
        assert "a-owner@example.com" not in response.text, (method, url, response.text)

    for method, path in sorted(OWN_SETTINGS & routes.keys()):
        response = await intruder.request(method, path, json=BODIES.get((method, path)))
        assert response.status_code < 500, (method, path, response.text)
        assert not _mentions(response.text, ids), (method, path, response.text)

    assert await snapshot(stack.api, ids) == before


def _mentions(text: str, ids: dict[str, str], besides: str = "") -> bool:
    """Whether `text` shows one of A's ids (other than those the request itself named)."""
    unique = {v for k, v in ids.items() if k not in ("external_id", "organizer_id", "key")}
    return any(value in text and value not in besides for value in unique)
