"""Defects that came from one use case written in several places: each path now goes through
the one builder that starts a NotificationWorkflow, and one handler answers 503 for Temporal."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

from api.deps import get_temporal
from tests.e2e.bookings_factory import (
    booking_event,
    eventually,
    new_address,
    new_booking_id,
    post_event,
)
from tests.e2e.inbox_messages import new_inbox, send_in_app
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_resend import failed_delivery
from tests.e2e.test_templates_api import create as create_template
from tests.e2e.test_templates_api import email_template
from tests.utils.routes import api_routes
from tests.utils.temporal import temporal_binary
from workflows import search_attributes as sa


async def test_a_booking_confirmation_fails_over_like_any_notification(
    failover_stack, httpserver, smtp
):
    """Booking notices used to start their workflow without the providers: the first only."""
    httpserver.expect_request("/v3/mail/send").respond_with_data("unavailable", status=500)
    invitee = new_address()
    start = datetime.now(UTC) + timedelta(days=3)
    await post_event(
        failover_stack,
        booking_event("booking.created", new_booking_id(), start, invitee_email=invitee),
    )

    [confirmation] = await smtp.wait_for(invitee)
    assert "Intro call" in confirmation.subject

    async def invitee_delivery() -> list[dict]:
        log = (await failover_stack.api.get("/v1/logs", params={"channel": "email"})).json()["data"]
        return [d for d in log if d["address"] == invitee]

    # The message arrives before its delivery row records it: wait for the row.
    [delivery] = await eventually(
        invitee_delivery, lambda found: found and found[0]["status"] == "sent"
    )
    assert delivery["provider"] == "smtp"
    assert [(m["provider"], m["moved_to"]) for m in delivery["failover_log"]] == [
        ("sendgrid", "smtp")
    ]


async def test_a_resend_can_be_found_in_temporal_by_tenant_event_channel_and_status(stack, smtp):
    notification, to = await failed_delivery(stack, smtp)
    resent = (
        await stack.api.post(f"/v1/deliveries/{notification['deliveries'][0]['id']}/resend")
    ).json()
    await smtp.wait_for(to)
    handle = stack.client.get_workflow_handle(resent["workflow_id"])
    await handle.result()
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(sa.TENANT) == str(stack.tenant_id)
    assert attributes.get(sa.EVENT_KEY) == "payment.completed"
    assert attributes.get(sa.CHANNELS) == ["email"]
    assert attributes.get(sa.STATUS) == "sent"


def _uses_temporal(dependant) -> bool:
    return any(d.call is get_temporal or _uses_temporal(d) for d in dependant.dependencies)


@pytest.fixture
async def unreachable_temporal():
    """A client whose server is gone: every call fails at once, as in an outage."""
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_binary())
    client = await Client.connect(
        env.client.service_client.config.target_host,
        retry_config=RetryConfig(
            initial_interval_millis=10,
            max_interval_millis=20,
            max_elapsed_time_millis=100,
            max_retries=1,
        ),
    )
    await env.shutdown()
    return client


async def test_every_route_that_calls_temporal_answers_503_when_it_is_unreachable(
    stack, smtp, unreachable_temporal
):
    """From the route list: each route that depends on the Temporal client has a request here,
    made once its data exists, and answers 503 temporal_unavailable (never a 500)."""
    api = stack.api
    scheduled = (
        await api.post("/v1/notifications", json=email_request(new_address(), send_at=_later()))
    ).json()
    failed, address = await failed_delivery(stack, smtp)
    template = await create_template(api, email_template())
    await api.put("/v1/recipients/org-down", json={"email": "org-down@example.com"})
    inbox = await new_inbox(stack)
    snoozed, unsnoozed = [await send_in_app(stack, inbox.external_id) for _ in range(2)]
    as_inbox = {"headers": inbox.client.headers}  # the recipient's token, not the tenant's key
    broadcast = {"audience": {"all": True}, "event_key": "news.down", "send_at": _later()}
    waiting = (await api.post("/v1/broadcasts", json=broadcast)).json()  # its workflow waits
    until = {"until": _later()}
    assert (
        await inbox.client.post(f"/v1/inbox/messages/{unsnoozed}/snooze", json=until)
    ).is_success
    requests: dict[tuple[str, str], tuple[str, str, dict[str, Any]]] = {
        ("POST", "/v1/notifications"): (
            "post",
            "/v1/notifications",
            {"json": email_request(new_address())},
        ),
        ("POST", "/v1/notifications/{notification_id}/cancel"): (
            "post",
            f"/v1/notifications/{scheduled['id']}/cancel",
            {},
        ),
        ("POST", "/v1/deliveries/resend"): (
            "post",
            "/v1/deliveries/resend",
            {"json": {"status": "failed"}},
        ),
        ("POST", "/v1/deliveries/{delivery_id}/resend"): (
            "post",
            f"/v1/deliveries/{failed['deliveries'][0]['id']}/resend",
            {},
        ),
        ("POST", "/v1/events"): (
            "post",
            "/v1/events",
            {"json": booking_event("booking.created", new_booking_id(), _later_time())},
        ),
        ("PUT", "/v1/organizers/{organizer_id}/agenda"): (
            "put",
            "/v1/organizers/org-down/agenda",
            {"json": {}},
        ),
        ("GET", "/v1/organizers/{organizer_id}/agenda"): (
            "get",
            "/v1/organizers/org-down/agenda",
            {},
        ),
        ("GET", "/v1/bookings/{booking_id}"): ("get", "/v1/bookings/bk-down", {}),
        # Temporal first (cancel, delete histories), then the database: nothing is erased.
        ("DELETE", "/v1/recipients/{external_id}"): ("delete", "/v1/recipients/org-down", {}),
        ("POST", "/v1/scheduled/{id}/cancel"): (
            "post",
            f"/v1/scheduled/{scheduled['id']}/cancel",
            {},
        ),
        ("POST", "/v1/scheduled/{id}/reschedule"): (
            "post",
            f"/v1/scheduled/{scheduled['id']}/reschedule",
            {"json": {"send_at": _later(days=2)}},
        ),
        ("POST", "/v1/templates/{template_id}/test"): (
            "post",
            f"/v1/templates/{template['id']}/test",
            {"json": {"email": new_address()}},
        ),
        # Stored, then refused: the same Idempotency-Key again starts it (test_broadcasts_api).
        ("POST", "/v1/broadcasts"): ("post", "/v1/broadcasts", {"json": broadcast}),
        **{
            ("POST", f"/v1/broadcasts/{{broadcast_id}}/{action}"): (
                "post",
                f"/v1/broadcasts/{waiting['id']}/{action}",
                {},
            )
            for action in ("pause", "resume", "cancel")
        },
        # Its wake-up is started before it commits: refused, nothing is snoozed.
        ("POST", "/v1/inbox/messages/{message_id}/snooze"): (
            "post",
            f"/v1/inbox/messages/{snoozed}/snooze",
            {"json": until, **as_inbox},
        ),
    }
    # Best effort by design: what they change is committed first; workflows are told if possible
    # (preferences: waiting notifications decide again; webhooks: a waiting fallback learns).
    best_effort = {
        ("PUT", "/v1/recipients/{external_id}/preferences"),
        ("PATCH", "/v1/recipients/{external_id}/preferences"),
        ("POST", "/v1/webhooks/sendgrid/events"),
        ("POST", "/v1/webhooks/twilio/status"),
        ("POST", "/v1/webhooks/mailgun"),
        ("POST", "/v1/webhooks/vonage/status"),
        ("GET", "/v1/webhooks/vonage/status"),
        ("POST", "/v1/webhooks/ses"),
        # The inbox's changes: a first read or a click is told to the workflow, as a webhook's.
        *(("POST", f"/v1/inbox/{change}") for change in ("read", "unread", "seen")),
        *(("POST", f"/v1/inbox/{change}") for change in ("archive", "unarchive")),
        ("POST", "/v1/inbox/messages/{message_id}/click"),
        ("PATCH", "/v1/inbox/preferences"),
        # Committed first; ending the wake-up is tidying (one left waiting returns nothing).
        ("POST", "/v1/inbox/messages/{message_id}/unsnooze"),
        # Committed first (the message pending again); a start that fails is left to the status
        # webhook dispatcher's sweep (tests/e2e/test_status_webhooks.py).
        ("POST", "/v1/webhook-endpoints/{endpoint_id}/messages/{message_id}/replay"),
    }
    # Answered by the health check itself: "down", with a 503 of its own making.
    reports_it = {("GET", "/v1/health"), ("GET", "/v1/health/details")}
    # The dashboard's pages take a session, not a key: their own tests (tests/e2e/
    # test_dashboard_*.py) cover them with Temporal unreachable.
    temporal_routes = {
        (method, path)
        for path, route in api_routes(stack.app)
        if _uses_temporal(route.dependant) and not path.startswith("/dashboard")
        for method in route.methods or ()  # always set on an APIRoute; typed optional
    }
    assert temporal_routes - best_effort - reports_it == set(requests), (
        "a route that calls Temporal has no case here"
    )

    stack.app.state.temporal = unreachable_temporal
    for (method, path), (verb, url, options) in requests.items():
        response = await getattr(api, verb)(url, **options)
        assert response.status_code == 503, (
            f"{method} {path}: {response.status_code} {response.text}"
        )
        assert response.json()["code"] == "temporal_unavailable", f"{method} {path}"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
    payment = await api.post("/v1/events", json=_payment_event())
    assert payment.status_code == 503, payment.text
    preferences = await api.patch(
        "/v1/recipients/org-down/preferences", json={"daily_agenda_time": "09:30"}
    )
    assert preferences.status_code == 200, preferences.text
    unsnooze = await inbox.client.post(f"/v1/inbox/messages/{unsnoozed}/unsnooze")
    assert unsnooze.status_code == 200, unsnooze.text
    feed = {m["id"] for m in (await inbox.client.get("/v1/inbox")).json()["data"]}
    assert {snoozed, unsnoozed} <= feed  # the refused snooze left its message in the feed

    # Nothing was lost: the resend stored while Temporal was down completes on the retry.
    stack.app.state.temporal = stack.client
    retried = await api.post(f"/v1/deliveries/{failed['deliveries'][0]['id']}/resend")
    assert retried.status_code == 202, retried.text
    await smtp.wait_for(address)


def _later_time(days: int = 1) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


def _later(days: int = 1) -> str:
    return _later_time(days).isoformat()


def _payment_event() -> dict:
    return {
        "id": f"evt-{uuid.uuid4().hex[:12]}",
        "type": "payment.completed",
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {
            "payment_id": "pay-1",
            "amount": "42.00",
            "currency": "EUR",
            "customer": {"id": "cust-1", "email": new_address(), "name": "Ada"},
        },
    }
