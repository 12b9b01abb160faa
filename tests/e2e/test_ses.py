"""Amazon SES through botocore against a local server speaking SES v2's SendEmail, and SES's
events through SNS, signed with a key made here whose certificate a local https server
serves as SNS serves its own. Everything goes through the real stack (API, workflow,
activity, provider) with EMAIL_PROVIDERS=ses,smtp."""

import base64
import email
import json
import re
import ssl
import time
import uuid
from collections import deque
from collections.abc import Callable
from email import policy

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from db.address_health import invalid_address_reason
from tests.e2e.push_servers import self_signed_certificate
from tests.e2e.test_email_headers import raw_headers
from tests.e2e.test_email_smtp import email_request
from tests.e2e.webhooks_factory import delivery_row
from tests.utils.sns import (
    TOPIC_ARN,
    new_signing_key,
    notification,
    ses_event,
    sign,
    signing_certificate,
    subscription_confirmation,
)

SEND_PATH = "/v2/email/outbound-emails"
SES_WEBHOOK = "/v1/webhooks/ses"
SIGNING_KEY = new_signing_key()
CERTIFICATE_PATH = re.compile(r"/SimpleNotificationService-[a-z0-9]+\.pem")


# --- the SES API --------------------------------------------------------------------------


def ses_accepts(message_id: str) -> Response:
    return Response(
        json.dumps({"MessageId": message_id}), status=200, content_type="application/json"
    )


def ses_error(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    """An error as SES's REST-JSON API answers one: its code in x-amzn-ErrorType."""
    return Response(
        json.dumps({"message": message}),
        status=status,
        content_type="application/json",
        headers={"x-amzn-ErrorType": code, **(headers or {})},
    )


class SesApi:
    """SendEmail on the local server: each request recorded (with when it came), answered by
    the next scripted answer (a Response, or a function of the request), else accepted."""

    def __init__(self, httpserver: HTTPServer):
        self.requests: list[tuple[float, Request]] = []
        self.accepted: list[str] = []  # the message ids it answered with
        self.script: deque[Response | Callable[[Request], Response]] = deque()
        httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(self._answer)

    def _answer(self, request: Request) -> Response:
        self.requests.append((time.monotonic(), request))
        if self.script:
            answer = self.script.popleft()
            return answer if isinstance(answer, Response) else answer(request)
        self.accepted.append(f"ses-{uuid.uuid4().hex}")
        return ses_accepts(self.accepted[-1])


# --- SNS's certificate host ---------------------------------------------------------------


class SnsHost:
    """A local https server standing for sns.<region>.amazonaws.com: it serves the signing
    certificate at any /SimpleNotificationService-<name>.pem and answers /confirm."""

    def __init__(self, server: HTTPServer, ca_file: str):
        self.server, self.ca_file = server, ca_file

    def cert_url(self, name: str = "test") -> str:
        return self.server.url_for(f"/SimpleNotificationService-{name}.pem")

    def requests_to(self, path: str) -> list[Request]:
        return [request for request, _ in self.server.log if request.path == path]


@pytest.fixture(scope="module")
def sns_host(tmp_path_factory):
    cert_file, key_file = self_signed_certificate(tmp_path_factory.mktemp("sns-tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = HTTPServer("localhost", 0, ssl_context=context)
    server.start()
    server.expect_request(CERTIFICATE_PATH).respond_with_data(
        signing_certificate(SIGNING_KEY), content_type="application/x-pem-file"
    )
    server.expect_request("/confirm").respond_with_data("<ConfirmSubscriptionResponse/>")
    yield SnsHost(server, cert_file)
    server.stop()


@pytest.fixture
def ses_api(httpserver):
    return SesApi(httpserver)


@pytest.fixture
async def ses_stack(make_stack, temporal_env, httpserver, sns_host):
    async with make_stack(
        temporal_env,
        email_providers="ses,smtp",
        ses_endpoint_url=httpserver.url_for("").rstrip("/"),
        ses_access_key_id="AKIDTEST",
        ses_secret_access_key="ses-test-secret",
        ses_configuration_set="herald-events",
        ses_sns_topic_arns=TOPIC_ARN,
        ses_sns_cert_host_pattern=r"^localhost$",
        ses_sns_ca_file=sns_host.ca_file,
        provider_timeout_seconds=1.0,
    ) as stack:
        yield stack


def address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


async def notify(stack, to: str, status: str = "sent", **request) -> dict:
    accepted = await stack.api.post("/v1/notifications", json=email_request(to, **request))
    assert accepted.status_code == 202, accepted.text
    return await stack.wait_for_status(accepted.json()["id"], status)


# --- sending ------------------------------------------------------------------------------


async def test_a_send_goes_to_ses_as_the_smtp_message_with_its_tag(ses_stack, ses_api, smtp):
    to = address()
    notification_ = await notify(ses_stack, to)

    [delivery] = notification_["deliveries"]
    [(_, request)] = ses_api.requests
    body = request.get_json()
    assert (delivery["provider"], delivery["provider_message_id"]) == ("ses", ses_api.accepted[0])
    # botocore signed it (SigV4) with the configured key, for SES in the region
    authorization = request.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
    assert "/us-east-1/ses/aws4_request" in authorization
    assert body["Destination"] == {"ToAddresses": [to]}
    assert body["ConfigurationSetName"] == "herald-events"
    assert body["EmailTags"] == [{"Name": "herald_delivery_id", "Value": delivery["id"]}]
    raw = base64.b64decode(body["Content"]["Raw"]["Data"])
    headers = raw_headers(raw)
    assert headers["To"] == to
    assert headers["Subject"] == "Payment received"
    assert headers["Message-ID"] == f"<{delivery['id']}@herald.localhost>"
    assert headers["List-Unsubscribe"].startswith("<http")
    assert headers["Auto-Submitted"] == "auto-generated"
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",))
    assert text is not None and "We received 42.00 EUR." in text.get_content()
    assert smtp.to(to) == []


async def test_a_rejected_message_fails_without_retry_or_failover(ses_stack, ses_api, smtp):
    ses_api.script.append(ses_error(400, "MessageRejected", "Email address is not verified."))
    to = address()

    notification_ = await notify(ses_stack, to, "failed")

    [delivery] = notification_["deliveries"]
    assert len(ses_api.requests) == 1
    assert "MessageRejected" in delivery["error"] and "not verified" in delivery["error"]
    assert delivery["failover_log"] is None
    assert smtp.to(to) == []


async def test_a_paused_account_fails_over_at_once(ses_stack, ses_api, smtp):
    # 400 by HTTP's rules, but the declaration knows it is Herald's account, not the recipient
    ses_api.script.append(ses_error(400, "SendingPausedException", "Sending is paused."))
    to = address()

    notification_ = await notify(ses_stack, to)

    [delivery] = notification_["deliveries"]
    assert len(ses_api.requests) == 1
    assert delivery["provider"] == "smtp" and len(smtp.to(to)) == 1
    assert "SendingPausedException" in delivery["failover_log"][0]["reason"]


async def test_a_non_ascii_local_part_fails_over_without_a_request(ses_stack, ses_api, smtp):
    to = f"josé.{uuid.uuid4().hex[:6]}@example.com"  # SES has no SMTPUTF8; the SMTP server has

    notification_ = await notify(ses_stack, to)

    [delivery] = notification_["deliveries"]
    assert ses_api.requests == []
    assert delivery["provider"] == "smtp" and len(smtp.to(to)) == 1
    assert "SMTPUTF8" in delivery["failover_log"][0]["reason"]


async def test_5xx_and_throttling_are_retried_then_fail_over(ses_stack, ses_api, smtp):
    for _ in range(2):
        ses_api.script.append(ses_error(500, "InternalFailure", "internal"))
        ses_api.script.append(ses_error(400, "Throttling", "Rate exceeded"))
    to = address()

    notification_ = await notify(ses_stack, to)

    [delivery] = notification_["deliveries"]
    assert len(ses_api.requests) == ses_stack.settings.delivery_max_attempts == 4
    assert delivery["provider"] == "smtp" and len(smtp.to(to)) == 1
    [moved] = delivery["failover_log"]
    assert (moved["provider"], moved["moved_to"]) == ("ses", "smtp")


async def test_too_many_requests_waits_its_retry_after(ses_stack, ses_api):
    ses_api.script.append(
        ses_error(429, "TooManyRequestsException", "Maximum sending rate.", {"Retry-After": "2"})
    )

    notification_ = await notify(ses_stack, address())

    [delivery] = notification_["deliveries"]
    assert delivery["provider"] == "ses" and delivery["retry_count"] == 1
    [(first, _), (second, _)] = ses_api.requests
    assert second - first >= 1.9  # the configured backoff alone would have waited 0.1 s


async def test_a_timeout_is_retried(ses_stack, ses_api):
    def slow(request: Request) -> Response:
        time.sleep(1.5)  # past PROVIDER_TIMEOUT_SECONDS=1
        return ses_accepts("ses-too-late")

    ses_api.script.append(slow)

    notification_ = await notify(ses_stack, address())

    [delivery] = notification_["deliveries"]
    assert delivery["provider"] == "ses" and delivery["retry_count"] >= 1
    assert delivery["provider_message_id"] != "ses-too-late"
    assert len(ses_api.requests) == delivery["retry_count"] + 1


# --- SES events through SNS ---------------------------------------------------------------


async def send_through_ses(stack, ses_api, to: str | None = None) -> dict:
    """A notification sent through SES; its delivery."""
    who = {"external_id": f"user-{uuid.uuid4().hex[:8]}", "email": to or address()}
    [delivery] = (await notify(stack, who["email"], recipient=who))["deliveries"]
    assert delivery["provider"] == "ses"
    return delivery | {"external_id": who["external_id"]}


def event_of(delivery: dict, event_type: str, *, tagged: bool = True, **detail) -> str:
    return ses_event(
        event_type,
        message_id=delivery["provider_message_id"],
        delivery_id=delivery["id"] if tagged else None,
        **detail,
    )


async def post_sns(stack, document: dict, body: bytes | None = None):
    """As SNS posts: JSON, but as text/plain."""
    return await stack.api.post(
        SES_WEBHOOK,
        content=body if body is not None else json.dumps(document).encode(),
        headers={
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": str(document.get("Type")),
        },
    )


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_delivery_event_marks_the_delivery_delivered(
    ses_stack, ses_api, sns_host, sessions, version
):
    delivery = await send_through_ses(ses_stack, ses_api)
    name = uuid.uuid4().hex
    cert_url = sns_host.cert_url(name)
    delivered = sign(notification(event_of(delivery, "Delivery")), SIGNING_KEY, cert_url, version)
    opened = sign(notification(event_of(delivery, "Open")), SIGNING_KEY, cert_url, version)

    first = await post_sns(ses_stack, delivered)
    row = await delivery_row(sessions, delivery)
    second = await post_sns(ses_stack, opened)

    assert first.status_code == 200, first.text
    assert first.json()["applied"] == second.json()["applied"] == 1
    assert row.status == "delivered" and row.delivered_at is not None
    assert (row.provider_response or {})["eventType"] == "Delivery"
    assert (await delivery_row(sessions, delivery)).status == "opened"
    # the certificate was fetched once, then kept
    assert len(sns_host.requests_to(f"/SimpleNotificationService-{name}.pem")) == 1


async def test_an_untagged_event_is_matched_by_message_id(ses_stack, ses_api, sns_host, sessions):
    delivery = await send_through_ses(ses_stack, ses_api)
    event = event_of(delivery, "Click", tagged=False, link="https://example.com/")

    response = await post_sns(
        ses_stack, sign(notification(event), SIGNING_KEY, sns_host.cert_url())
    )

    assert response.json()["applied"] == 1
    assert (await delivery_row(sessions, delivery)).status == "clicked"


async def test_a_redelivered_notification_applies_once(ses_stack, ses_api, sns_host):
    delivery = await send_through_ses(ses_stack, ses_api)
    signed = sign(notification(event_of(delivery, "Delivery")), SIGNING_KEY, sns_host.cert_url())

    await post_sns(ses_stack, signed)
    again = await post_sns(ses_stack, signed)

    assert again.json()["duplicates"] == 1 and again.json()["applied"] == 0


async def test_a_permanent_bounce_bounces_and_marks_the_address_invalid(
    ses_stack, ses_api, sns_host, sessions
):
    to = address()
    delivery = await send_through_ses(ses_stack, ses_api, to)
    transient = event_of(delivery, "Bounce", bounceType="Transient", bounceSubType="MailboxFull")
    permanent = event_of(
        delivery,
        "Bounce",
        bounceType="Permanent",
        bounceSubType="General",
        bouncedRecipients=[{"emailAddress": to, "diagnosticCode": "smtp; 550 5.1.1 no such user"}],
    )

    ignored = await post_sns(
        ses_stack, sign(notification(transient), SIGNING_KEY, sns_host.cert_url())
    )
    still_sent = (await delivery_row(sessions, delivery)).status
    bounced = await post_sns(
        ses_stack, sign(notification(permanent), SIGNING_KEY, sns_host.cert_url())
    )

    assert ignored.json()["ignored"] == 1 and still_sent == "sent"
    assert bounced.json()["applied"] == 1
    row = await delivery_row(sessions, delivery)
    assert row.status == "bounced" and row.failed_at is not None
    assert row.error == "ses bounce: Permanent/General; smtp; 550 5.1.1 no such user"
    async with sessions() as session:
        reason = await invalid_address_reason(session, ses_stack.tenant_id, "email", to)
    assert reason == "hard bounce: smtp; 550 5.1.1 no such user"


async def test_a_complaint_turns_the_category_off(ses_stack, ses_api, sns_host):
    delivery = await send_through_ses(ses_stack, ses_api)
    complaint = event_of(delivery, "Complaint", complaintFeedbackType="abuse")

    response = await post_sns(
        ses_stack, sign(notification(complaint), SIGNING_KEY, sns_host.cert_url())
    )

    assert response.json()["applied"] == 1
    preferences = f"/v1/recipients/{delivery['external_id']}/preferences"
    assert (await ses_stack.api.get(preferences)).json()["rules"] == {"payment": {"email": False}}


async def test_forged_and_foreign_messages_are_refused_and_change_nothing(
    ses_stack, ses_api, sns_host, sessions
):
    to = address()
    delivery = await send_through_ses(ses_stack, ses_api, to)
    bounce = notification(
        event_of(delivery, "Bounce", bounceType="Permanent", bounceSubType="General")
    )
    cert_url = sns_host.cert_url()
    local_port = cert_url.split(":")[2].split("/")[0]
    other_topic = "arn:aws:sns:us-east-1:999999999999:someone-else"
    signed = sign(bounce, SIGNING_KEY, cert_url)

    refused = {
        "another key": sign(bounce, new_signing_key(), cert_url),
        "a foreign certificate host": sign(
            bounce, SIGNING_KEY, "https://sns.us-east-1.amazonaws.com.evil.example/c.pem"
        ),
        "http": sign(bounce, SIGNING_KEY, f"http://localhost:{local_port}/c.pem"),
        "a tampered message": {**signed, "Message": event_of(delivery, "Delivery")},
        "a tampered topic": {**signed, "TopicArn": other_topic},
        "another topic": sign({**bounce, "TopicArn": other_topic}, SIGNING_KEY, cert_url),
        "an unknown version": {**signed, "SignatureVersion": "3"},
    }
    answers = {what: await post_sns(ses_stack, doc) for what, doc in refused.items()}

    assert {what: r.status_code for what, r in answers.items()} == dict.fromkeys(refused, 403)
    assert answers["another key"].json()["code"] == "invalid_signature"
    assert answers["another topic"].json()["code"] == "unknown_topic"
    row = await delivery_row(sessions, delivery)
    assert row.status == "sent" and row.error is None
    async with sessions() as session:
        assert await invalid_address_reason(session, ses_stack.tenant_id, "email", to) is None
    # Not even its id was kept: the genuine message still applies.
    assert (await post_sns(ses_stack, signed)).json()["applied"] == 1


async def test_a_subscription_is_confirmed_on_an_sns_host_only(ses_stack, sns_host):
    token_url = sns_host.server.url_for("/confirm") + "?Action=ConfirmSubscription&Token=t1"
    confirmed_before = len(sns_host.requests_to("/confirm"))

    foreign = [
        "https://evil.example/confirm?Token=t2",
        token_url.replace("https://", "http://"),
    ]
    refusals = [
        await post_sns(
            ses_stack, sign(subscription_confirmation(url), SIGNING_KEY, sns_host.cert_url())
        )
        for url in foreign
    ]
    unsigned = await post_sns(
        ses_stack,
        {
            **sign(subscription_confirmation(token_url), SIGNING_KEY, sns_host.cert_url()),
            "Token": "changed",
        },
    )
    assert [r.status_code for r in refusals] == [403, 403]
    assert refusals[0].json()["code"] == "untrusted_url"
    assert unsigned.status_code == 403
    assert len(sns_host.requests_to("/confirm")) == confirmed_before

    confirmed = await post_sns(
        ses_stack, sign(subscription_confirmation(token_url), SIGNING_KEY, sns_host.cert_url(), "2")
    )

    assert confirmed.status_code == 200, confirmed.text
    [request] = sns_host.requests_to("/confirm")[confirmed_before:]
    assert request.args["Token"] == "t1"


async def test_an_unsubscribe_confirmation_is_acknowledged(ses_stack, sns_host):
    message = subscription_confirmation(
        sns_host.server.url_for("/confirm"), kind="UnsubscribeConfirmation"
    )

    response = await post_sns(ses_stack, sign(message, SIGNING_KEY, sns_host.cert_url()))

    assert response.status_code == 200 and response.json()["received"] == 0


@pytest.mark.parametrize(
    "body,status,code,problem",
    [
        # The signature is inside the body: what is no SNS message cannot be verified.
        (b"not json", 403, "invalid_signature", "not JSON"),
        (b'{"Type": "Notification"}', 403, "invalid_signature", "Message"),
        # Signed by SNS, but no SES event inside: 400.
        ("not an SES event", 400, "malformed_event", "not JSON"),
        ('{"eventType": "Delivery"}', 400, "malformed_event", "mail object"),
    ],
)
async def test_malformed_messages_are_refused(ses_stack, sns_host, body, status, code, problem):
    if isinstance(body, str):  # the Message of a signed notification
        body = json.dumps(sign(notification(body), SIGNING_KEY, sns_host.cert_url())).encode()

    response = await post_sns(ses_stack, {}, body)

    assert response.status_code == status
    assert response.json()["code"] == code and problem in response.json()["detail"]
