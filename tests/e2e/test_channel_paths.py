"""Issue 16: a new channel reaches every path without touching it. The providers' own tests
send single notifications; here the chat and webhook channels go through a broadcast (its
batched sends), and a failed webhook delivery is resent from the delivery log."""

import json
import time
import uuid

import pytest
from werkzeug import Request, Response

from domain import standard_webhooks
from tests.utils.audience import wait_for_broadcast

HOOK, DISCORD = "/tenant-hook", "/discord-hook"


@pytest.fixture
async def open_stack(make_stack, temporal_env):
    """Its chat and webhook channels may call the local server (a loopback address)."""
    async with make_stack(temporal_env, webhook_allow_private_addresses=True) as stack:
        yield stack


async def webhook_secret(stack, url: str) -> str:
    response = await stack.api.put("/v1/settings/webhook-channel", json={"url": url})
    assert response.status_code == 201, response.text
    return response.json()["secret"]


def verified(request: Request, secret: str) -> dict:
    body = request.get_data()
    standard_webhooks.verify([secret], dict(request.headers), body, int(time.time()))
    return json.loads(body)


async def test_a_broadcast_goes_out_on_chat_and_the_webhook_channel(open_stack, httpserver):
    stack = open_stack
    run = uuid.uuid4().hex[:6]
    httpserver.expect_request(HOOK).respond_with_data("ok")
    httpserver.expect_request(DISCORD, query_string="wait=true").respond_with_handler(
        lambda request: Response(json.dumps({"id": str(time.time_ns())}), 200)
    )
    secret = await webhook_secret(stack, httpserver.url_for(HOOK))
    ids = [f"pc-{i}-{run}" for i in range(3)]
    for external_id in ids:
        put = await stack.api.put(
            f"/v1/recipients/{external_id}",
            json={"chat_addresses": {"discord": httpserver.url_for(DISCORD)}},
        )
        assert put.status_code == 200, put.text

    created = await stack.api.post(
        "/v1/broadcasts",
        json={
            "audience": {"recipients": ids},
            "event_key": "news.update",
            "channels": ["chat", "webhook"],
            "context": {"title": "Spring sale", "message": "Everything is **20% off**."},
        },
    )
    assert created.status_code == 202, created.text
    progress = await wait_for_broadcast(stack.api, created.json()["id"], timeout=120)

    assert progress["status"] == "completed", progress
    assert progress["sent"] == 6 and progress["failed"] == 0, progress
    to_discord = [r for r, _ in httpserver.log if r.path == DISCORD]
    to_hook = [r for r, _ in httpserver.log if r.path == HOOK]
    assert len(to_discord) == 3 and len(to_hook) == 3
    assert {r.get_json()["content"] for r in to_discord} == {"Everything is **20% off**."}
    payloads = [verified(r, secret) for r in to_hook]
    assert sorted(p["data"]["recipient"]["external_id"] for p in payloads) == sorted(ids)
    assert {r.headers["webhook-id"] for r in to_hook} == {
        p["data"]["delivery_id"] for p in payloads
    }


async def test_a_failed_webhook_delivery_is_resent_from_the_delivery_log(open_stack, httpserver):
    stack = open_stack
    answers = iter([Response("no such tenant", 404), Response("ok", 200)])
    httpserver.expect_request(HOOK).respond_with_handler(lambda request: next(answers))
    secret = await webhook_secret(stack, httpserver.url_for(HOOK))
    accepted = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": f"pr-{uuid.uuid4().hex[:6]}", "name": "Ada"},
            "event_key": "payment.completed",
            "channels": ["webhook"],
            "context": {"title": "Paid", "message": "42.00 EUR"},
        },
    )
    assert accepted.status_code == 202, accepted.text
    failed = await stack.wait_for_status(accepted.json()["id"], "failed")
    [old] = failed["deliveries"]

    resent = await stack.api.post(f"/v1/deliveries/{old['id']}/resend")
    assert resent.status_code == 202, resent.text

    after = await stack.wait_for_status(accepted.json()["id"], "sent")
    by_id = {d["id"]: d for d in after["deliveries"]}
    assert by_id[resent.json()["id"]]["status"] == "sent"
    first, second = (request for request, _ in httpserver.log)
    assert verified(second, secret)["data"]["delivery_id"] == resent.json()["id"]
    assert first.headers["webhook-id"] != second.headers["webhook-id"]
