"""Slack (through slack_sdk), Microsoft Teams and Discord, against a local HTTP server that
records requests and answers success, refusals, 5xx, 429 and slowly: each provider alone, then
through the real stack (API -> Temporal workflow -> activity -> provider -> local server)."""

import json
import time
import uuid
from dataclasses import replace

import pytest
from werkzeug import Response

from channels.base import ChatMessage, PermanentSendError, TransientSendError
from channels.declaration import ProviderConfig
from channels.discord import DECLARATION as DISCORD
from channels.safe_http import RefusedAddress
from channels.slack import DECLARATION as SLACK
from channels.teams import DECLARATION as TEAMS
from db.models import Recipient
from tests.conftest import wait_until

BOT_TOKEN = "xoxb-test-token"
MEMBER = "U024BE7LH"
POST_MESSAGE = "/api/chat.postMessage"
SLACK_HOOK = "/services/T000/B000/XXXX"
TEAMS_HOOK = "/webhookb2/abc/IncomingWebhook/def"
DISCORD_HOOK = "/api/webhooks/1234/token-abc"
MESSAGE = ChatMessage(
    to=MEMBER,
    text="We received **42.00 EUR**.",
    title="Payment received",
    action_url="https://example.com/payments/1",
)


def build(declaration, httpserver=None, *, allow_private=True, timeout=2.0):
    values = {"slack_bot_token": BOT_TOKEN, "slack_base_url": "https://slack.invalid/api/"}
    if httpserver is not None:
        values["slack_base_url"] = httpserver.url_for("/api/")
    config = ProviderConfig(values, timeout=timeout, allow_private_addresses=allow_private)
    return declaration.build(config)


@pytest.fixture
async def slack(httpserver):
    provider = build(SLACK, httpserver)
    yield provider
    await provider.close()


@pytest.fixture
async def teams():
    provider = build(TEAMS)
    yield provider
    await provider.close()


@pytest.fixture
async def discord():
    provider = build(DISCORD)
    yield provider
    await provider.close()


def slack_answer(**fields):
    return Response(json.dumps(fields), status=200, content_type="application/json")


def slow(seconds: float, then: Response):
    def handler(request):
        time.sleep(seconds)
        return then

    return handler


async def answered(httpserver, count: int) -> None:
    """Wait for a slow handler to answer, so its request is not logged in the next test."""
    await wait_until(lambda: len(httpserver.log) >= count, what=f"{count} requests answered")


# --- Slack -------------------------------------------------------------------------------


async def test_slack_posts_blocks_to_a_member_with_the_bot_token(slack, httpserver):
    httpserver.expect_request(POST_MESSAGE, method="POST").respond_with_response(
        slack_answer(ok=True, channel="D024BE91L", ts="1503435956.000247")
    )

    result = await slack.send_chat(MESSAGE)

    assert (result.provider, result.message_id) == ("slack", "1503435956.000247")
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    sent = request.get_json()
    assert sent["channel"] == MEMBER
    assert [block["type"] for block in sent["blocks"]] == ["header", "section", "actions"]
    assert sent["blocks"][1]["text"]["text"] == "We received *42.00 EUR*."  # mrkdwn
    assert sent["blocks"][2]["elements"][0]["url"] == MESSAGE.action_url


@pytest.mark.parametrize(
    ("error", "provider_fault"),
    [
        ("channel_not_found", False),
        ("user_not_found", False),
        ("is_archived", False),
        ("msg_too_long", False),
        ("invalid_blocks", False),
        ("invalid_auth", True),
        ("token_revoked", True),
        ("missing_scope", True),
    ],
)
async def test_slack_api_refusals_are_permanent(slack, httpserver, error, provider_fault):
    httpserver.expect_request(POST_MESSAGE).respond_with_response(
        slack_answer(ok=False, error=error)
    )

    with pytest.raises(PermanentSendError) as raised:
        await slack.send_chat(MESSAGE)

    assert not isinstance(raised.value, TransientSendError)
    assert raised.value.code == error and error in raised.value.message
    assert raised.value.provider_fault is provider_fault  # Herald's token: its fault, not theirs
    assert len(httpserver.log) == 1  # the SDK did not retry on its own


async def test_slack_ratelimited_waits_retry_after(slack, httpserver):
    httpserver.expect_request(POST_MESSAGE).respond_with_response(
        Response(
            json.dumps({"ok": False, "error": "ratelimited"}),
            status=429,
            headers={"Retry-After": "7"},
            content_type="application/json",
        )
    )

    with pytest.raises(TransientSendError) as raised:
        await slack.send_chat(MESSAGE)

    assert raised.value.retry_after == 7.0
    assert raised.value.provider_down is False  # flow control, not an outage
    assert len(httpserver.log) == 1


async def test_slack_5xx_and_timeouts_are_transient(httpserver):
    httpserver.expect_ordered_request(POST_MESSAGE).respond_with_data(
        "<html>Bad gateway</html>", status=502, content_type="text/html"
    )
    httpserver.expect_ordered_request(POST_MESSAGE).respond_with_handler(
        slow(1.0, slack_answer(ok=True, channel="C1", ts="1.2"))
    )
    slack = build(SLACK, httpserver, timeout=0.3)
    try:
        with pytest.raises(TransientSendError) as bad_gateway:
            await slack.send_chat(MESSAGE)
        with pytest.raises(TransientSendError) as timed_out:
            await slack.send_chat(MESSAGE)
    finally:
        await slack.close()

    assert "502" in bad_gateway.value.message and bad_gateway.value.provider_down
    assert timed_out.value.provider_down  # Slack's API itself is slow
    await answered(httpserver, 2)


async def test_slack_member_id_without_bot_token_is_refused_and_nothing_sent(httpserver):
    config = ProviderConfig(
        {"slack_bot_token": None, "slack_base_url": httpserver.url_for("/api/")},
        allow_private_addresses=True,
    )
    slack = SLACK.build(config)
    try:
        with pytest.raises(PermanentSendError) as raised:
            await slack.send_chat(MESSAGE)
    finally:
        await slack.close()

    assert "SLACK_BOT_TOKEN is not set" in raised.value.message
    assert raised.value.provider_fault  # Herald's configuration: provider refused
    assert httpserver.log == []
    assert SLACK.missing(config.values) == []  # configured without it: webhooks still work


async def test_slack_webhook_gets_text_and_blocks_without_a_token(httpserver):
    httpserver.expect_request(SLACK_HOOK, method="POST").respond_with_data("ok")
    config = ProviderConfig(
        {"slack_bot_token": None, "slack_base_url": "https://slack.invalid/api/"},
        allow_private_addresses=True,
    )
    slack = SLACK.build(config)
    try:
        result = await slack.send_chat(
            ChatMessage(to=httpserver.url_for(SLACK_HOOK), text="Hi **Ada**", title="Hello")
        )
    finally:
        await slack.close()

    assert (result.provider, result.message_id) == ("slack", None)
    [(request, _)] = httpserver.log
    sent = request.get_json()
    assert sent["text"] == "*Hello*\nHi *Ada*"
    assert [block["type"] for block in sent["blocks"]] == ["header", "section"]
    assert "Authorization" not in request.headers


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, "no_service"), (410, "channel_is_archived"), (403, "invalid_token"), (400, "no_text")],
)
async def test_slack_webhook_refusals_are_permanent(slack, httpserver, status, body):
    httpserver.expect_request(SLACK_HOOK).respond_with_data(body, status=status)

    with pytest.raises(PermanentSendError) as raised:
        await slack.send_chat(ChatMessage(to=httpserver.url_for(SLACK_HOOK), text="Hi"))

    assert body in raised.value.message and str(status) in str(raised.value.response)
    assert not raised.value.provider_fault  # the recipient's webhook, not Herald's account
    assert SLACK_HOOK not in raised.value.message  # a webhook URL's path is its secret


async def test_slack_webhook_429_and_5xx_are_transient(slack, httpserver):
    httpserver.expect_ordered_request(SLACK_HOOK).respond_with_data(
        "rate_limited", status=429, headers={"Retry-After": "3"}
    )
    httpserver.expect_ordered_request(SLACK_HOOK).respond_with_data("oops", status=500)
    message = ChatMessage(to=httpserver.url_for(SLACK_HOOK), text="Hi")

    with pytest.raises(TransientSendError) as limited:
        await slack.send_chat(message)
    with pytest.raises(TransientSendError) as failed:
        await slack.send_chat(message)

    assert limited.value.retry_after == 3.0
    # A recipient's URL failing does not count as the platform being down (the circuit).
    assert failed.value.provider_down is False


# --- Microsoft Teams ---------------------------------------------------------------------


@pytest.mark.parametrize(("status", "body"), [(200, "1"), (202, "")])
async def test_teams_posts_an_adaptive_card(teams, httpserver, status, body):
    httpserver.expect_request(TEAMS_HOOK, method="POST").respond_with_data(body, status=status)

    result = await teams.send_chat(replace(MESSAGE, to=httpserver.url_for(TEAMS_HOOK)))

    assert result.provider == "teams" and result.response["status"] == status
    [(request, _)] = httpserver.log
    [attachment] = request.get_json()["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert [block["text"] for block in card["body"]] == ["Payment received", MESSAGE.text]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open", "url": MESSAGE.action_url}
    ]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
async def test_teams_4xx_is_permanent(teams, httpserver, status):
    httpserver.expect_request(TEAMS_HOOK).respond_with_data("Bad payload", status=status)

    with pytest.raises(PermanentSendError) as raised:
        await teams.send_chat(replace(MESSAGE, to=httpserver.url_for(TEAMS_HOOK)))

    assert str(status) in raised.value.message and "Bad payload" in raised.value.message
    assert not raised.value.provider_fault  # the recipient's webhook refused it


async def test_teams_429_waits_retry_after_and_5xx_is_transient(teams, httpserver):
    httpserver.expect_ordered_request(TEAMS_HOOK).respond_with_data(
        "", status=429, headers={"Retry-After": "5"}
    )
    httpserver.expect_ordered_request(TEAMS_HOOK).respond_with_data("", status=503)
    message = replace(MESSAGE, to=httpserver.url_for(TEAMS_HOOK))

    with pytest.raises(TransientSendError) as limited:
        await teams.send_chat(message)
    with pytest.raises(TransientSendError) as unavailable:
        await teams.send_chat(message)

    assert limited.value.retry_after == 5.0
    assert "503" in unavailable.value.message


# --- Discord -----------------------------------------------------------------------------


def discord_message(httpserver) -> ChatMessage:
    return replace(MESSAGE, to=httpserver.url_for(DISCORD_HOOK))


def discord_error(status: int, headers: dict | None = None, **body) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers, content_type="application/json"
    )


async def test_discord_posts_content_and_an_embed_and_records_the_message_id(discord, httpserver):
    httpserver.expect_request(
        DISCORD_HOOK, method="POST", query_string="wait=true"
    ).respond_with_json({"id": "1180000000000000000", "channel_id": "1"})

    result = await discord.send_chat(discord_message(httpserver))

    assert (result.provider, result.message_id) == ("discord", "1180000000000000000")
    [(request, _)] = httpserver.log
    sent = request.get_json()
    assert sent["content"] == MESSAGE.text
    assert sent["embeds"] == [{"title": "Payment received", "url": MESSAGE.action_url}]
    assert sent["allowed_mentions"] == {"parse": []}


async def test_discord_unknown_webhook_and_bad_token_are_permanent(discord, httpserver):
    httpserver.expect_ordered_request(DISCORD_HOOK).respond_with_response(
        discord_error(404, message="Unknown Webhook", code=10015)
    )
    httpserver.expect_ordered_request(DISCORD_HOOK).respond_with_response(
        discord_error(401, message="Invalid Webhook Token", code=50027)
    )

    with pytest.raises(PermanentSendError) as unknown:
        await discord.send_chat(discord_message(httpserver))
    with pytest.raises(PermanentSendError) as bad_token:
        await discord.send_chat(discord_message(httpserver))

    assert (unknown.value.code, bad_token.value.code) == ("10015", "50027")
    assert "Unknown Webhook" in unknown.value.message
    assert not unknown.value.provider_fault and not bad_token.value.provider_fault


async def test_discord_429_waits_its_json_retry_after(discord, httpserver):
    httpserver.expect_ordered_request(DISCORD_HOOK).respond_with_response(
        discord_error(
            429,
            {"Retry-After": "2"},
            message="You are being rate limited.",
            retry_after=1.5,
            **{"global": False},
        )
    )
    httpserver.expect_ordered_request(DISCORD_HOOK).respond_with_response(
        Response("", status=429, headers={"Retry-After": "4"})
    )

    with pytest.raises(TransientSendError) as precise:
        await discord.send_chat(discord_message(httpserver))
    with pytest.raises(TransientSendError) as header_only:
        await discord.send_chat(discord_message(httpserver))

    assert precise.value.retry_after == 1.5  # the JSON's, finer than the header's 2
    assert header_only.value.retry_after == 4.0


async def test_discord_5xx_is_transient(discord, httpserver):
    httpserver.expect_request(DISCORD_HOOK).respond_with_data("", status=500)

    with pytest.raises(TransientSendError):
        await discord.send_chat(discord_message(httpserver))


# --- What every webhook platform shares ----------------------------------------------------


@pytest.mark.parametrize("declaration", [SLACK, TEAMS, DISCORD], ids=lambda d: d.name)
async def test_a_webhook_that_does_not_answer_in_time_is_transient(httpserver, declaration):
    httpserver.expect_request("/hook").respond_with_handler(slow(1.0, Response("ok")))
    provider = build(declaration, timeout=0.3)
    try:
        with pytest.raises(TransientSendError) as raised:
            await provider.send_chat(ChatMessage(to=httpserver.url_for("/hook"), text="Hi"))
    finally:
        await provider.close()

    assert "did not answer in time" in raised.value.message
    assert "/hook" not in raised.value.message  # the host only, never the URL's secret path
    await answered(httpserver, 1)


@pytest.mark.parametrize("declaration", [SLACK, TEAMS, DISCORD], ids=lambda d: d.name)
@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.0.0.1", "localhost", "[::1]"])
async def test_a_webhook_to_a_private_address_is_refused_and_nothing_sent(
    httpserver, declaration, host
):
    port = httpserver.port
    provider = build(declaration, allow_private=False)
    try:
        with pytest.raises(RefusedAddress):
            await provider.send_chat(ChatMessage(to=f"http://{host}:{port}/hook", text="Hi"))
    finally:
        await provider.close()

    assert httpserver.log == []


# --- Through the real stack ----------------------------------------------------------------


@pytest.fixture
async def chat_stack(make_stack, temporal_env, httpserver):
    """Every chat platform configured (CHAT_PROVIDERS unset), Slack's API at the local server;
    webhook URLs may be local."""
    async with make_stack(
        temporal_env,
        slack_bot_token=BOT_TOKEN,
        slack_base_url=httpserver.url_for("/api/"),
        webhook_allow_private_addresses=True,
    ) as stack:
        yield stack


async def chat_recipient(sessions, stack, addresses: dict[str, str]) -> str:
    """A recipient with these chat addresses, written to the database (recipients.chat_addresses);
    its external id."""
    external_id = f"user-{uuid.uuid4().hex[:8]}"
    async with sessions.begin() as session:
        session.add(
            Recipient(tenant_id=stack.tenant_id, external_id=external_id, chat_addresses=addresses)
        )
    return external_id


async def send_chat(stack, external_id: str) -> str:
    response = await stack.api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id},
            "event_key": "payment.completed",
            "channels": ["chat"],
            "context": {
                "title": "Payment received",
                "message": "We received **42.00 EUR**.",
                "action_url": "https://example.com/payments/1",
            },
        },
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


async def test_a_slack_member_gets_a_chat_notification(chat_stack, sessions, httpserver):
    httpserver.expect_request(POST_MESSAGE).respond_with_response(
        slack_answer(ok=True, channel="D024BE91L", ts="1503435956.000247")
    )
    external_id = await chat_recipient(sessions, chat_stack, {"slack": MEMBER})

    notification = await chat_stack.wait_for_status(
        await send_chat(chat_stack, external_id), "sent"
    )

    [delivery] = notification["deliveries"]
    assert (delivery["channel"], delivery["provider_message_id"]) == ("chat", "1503435956.000247")
    [(request, _)] = httpserver.log
    sent = request.get_json()
    assert sent["channel"] == MEMBER  # the address without its `slack:` prefix
    assert sent["blocks"][0]["text"]["text"] == "Payment received"
    assert sent["blocks"][1]["text"]["text"] == "We received *42.00 EUR*."
    assert sent["blocks"][2]["elements"][0]["url"] == "https://example.com/payments/1"


async def test_a_slack_refusal_fails_the_delivery_without_retry(chat_stack, sessions, httpserver):
    httpserver.expect_request(POST_MESSAGE).respond_with_response(
        slack_answer(ok=False, error="channel_not_found")
    )
    external_id = await chat_recipient(sessions, chat_stack, {"slack": "C0NOTHERE"})

    notification = await chat_stack.wait_for_status(
        await send_chat(chat_stack, external_id), "failed"
    )

    [delivery] = notification["deliveries"]
    assert "channel_not_found" in delivery["error"]
    assert delivery["status_reason"] == "PermanentSendError"
    assert len(httpserver.log) == 1  # exactly one try


async def test_slack_5xx_is_retried_then_sent(chat_stack, sessions, httpserver):
    for _ in range(2):
        httpserver.expect_ordered_request(POST_MESSAGE).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(POST_MESSAGE).respond_with_response(
        slack_answer(ok=True, channel="C1", ts="1.5")
    )
    external_id = await chat_recipient(sessions, chat_stack, {"slack": MEMBER})

    notification = await chat_stack.wait_for_status(
        await send_chat(chat_stack, external_id), "sent"
    )

    assert notification["deliveries"][0]["retry_count"] == 2
    assert len(httpserver.log) == 3


async def test_a_discord_webhook_gets_a_chat_notification(chat_stack, sessions, httpserver):
    httpserver.expect_request(DISCORD_HOOK, query_string="wait=true").respond_with_json(
        {"id": "1180000000000000001"}
    )
    external_id = await chat_recipient(
        sessions, chat_stack, {"discord": httpserver.url_for(DISCORD_HOOK)}
    )

    notification = await chat_stack.wait_for_status(
        await send_chat(chat_stack, external_id), "sent"
    )

    [delivery] = notification["deliveries"]
    assert delivery["provider_message_id"] == "1180000000000000001"
    # The webhook URL's path is its secret: the API shows the host only.
    assert delivery["address"] == f"discord:http://{httpserver.host}:{httpserver.port}/…"
    [(request, _)] = httpserver.log
    sent = request.get_json()
    assert sent["content"] == "We received **42.00 EUR**."  # Discord's markdown is Herald's
    assert sent["embeds"] == [
        {"title": "Payment received", "url": "https://example.com/payments/1"}
    ]


async def test_a_deleted_discord_webhook_fails_without_retry(chat_stack, sessions, httpserver):
    httpserver.expect_request(DISCORD_HOOK).respond_with_response(
        discord_error(404, message="Unknown Webhook", code=10015)
    )
    external_id = await chat_recipient(
        sessions, chat_stack, {"discord": httpserver.url_for(DISCORD_HOOK)}
    )

    notification = await chat_stack.wait_for_status(
        await send_chat(chat_stack, external_id), "failed"
    )

    [delivery] = notification["deliveries"]
    assert "Unknown Webhook" in delivery["error"]
    assert delivery["status_reason"] == "PermanentSendError"
    assert len(httpserver.log) == 1  # exactly one try


async def test_discord_429_is_retried_after_its_retry_after(chat_stack, sessions, httpserver):
    seen: list[float] = []

    def handler(request):
        seen.append(time.monotonic())
        if len(seen) == 1:
            return discord_error(429, {"Retry-After": "2"}, message="slow down", retry_after=1.5)
        return Response(json.dumps({"id": "99"}), content_type="application/json")

    httpserver.expect_request(DISCORD_HOOK).respond_with_handler(handler)
    external_id = await chat_recipient(
        sessions, chat_stack, {"discord": httpserver.url_for(DISCORD_HOOK)}
    )

    await chat_stack.wait_for_status(await send_chat(chat_stack, external_id), "sent")

    assert len(seen) == 2
    assert seen[1] - seen[0] >= 1.4  # the configured backoff alone would have waited 0.1 s


async def test_teams_429_is_retried_after_retry_after_then_sent(chat_stack, sessions, httpserver):
    seen: list[float] = []

    def handler(request):
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("", status=429, headers={"Retry-After": "2"})
        return Response("1")

    httpserver.expect_request(TEAMS_HOOK).respond_with_handler(handler)
    external_id = await chat_recipient(
        sessions, chat_stack, {"teams": httpserver.url_for(TEAMS_HOOK)}
    )

    notification = await chat_stack.wait_for_status(
        await send_chat(chat_stack, external_id), "sent"
    )

    assert notification["deliveries"][0]["retry_count"] == 1
    assert len(seen) == 2 and seen[1] - seen[0] >= 1.9
    [(request, _), _] = httpserver.log
    card = request.get_json()["attachments"][0]["content"]
    assert card["body"][0]["text"] == "Payment received"
