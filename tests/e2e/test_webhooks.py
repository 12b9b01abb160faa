"""Provider status webhooks: signatures, status ordering, idempotency, unknown messages."""

import json
import uuid

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import text

from tests.e2e.webhooks_factory import (
    SENDGRID_PATH,
    TWILIO_PATH,
    delivery_row,
    post_sendgrid,
    post_twilio,
    send_email_through_sendgrid,
    send_sms_through_twilio,
    sendgrid_event,
    sendgrid_headers,
)


def twilio_form(delivery: dict, status: str, **fields) -> dict:
    return {
        "MessageSid": delivery["provider_message_id"],
        "MessageStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "To": "+14155550123",
        "From": "+15005550006",
        **fields,
    }


async def test_twilio_signed_delivered_callback_updates_the_delivery(tracked, httpserver, sessions):
    delivery = await send_sms_through_twilio(tracked, httpserver)
    form = twilio_form(delivery, "delivered")

    response = await post_twilio(tracked, form)

    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 1
    row = await delivery_row(sessions, delivery)
    assert row.status == "delivered" and row.delivered_at is not None
    assert row.provider_response == form


async def test_twilio_undelivered_records_the_error_code(tracked, httpserver, sessions):
    delivery = await send_sms_through_twilio(tracked, httpserver)

    await post_twilio(tracked, twilio_form(delivery, "sent"))
    response = await post_twilio(tracked, twilio_form(delivery, "undelivered", ErrorCode="30007"))

    assert response.status_code == 200
    row = await delivery_row(sessions, delivery)
    assert row.status == "failed" and row.failed_at is not None
    assert row.error == "twilio undelivered: error 30007 (filtered by the carrier)"


async def test_twilio_forged_or_unsigned_callbacks_are_refused_and_change_nothing(
    tracked, httpserver, sessions
):
    delivery = await send_sms_through_twilio(tracked, httpserver)
    form = twilio_form(delivery, "failed", ErrorCode="30008")

    wrong_token = await post_twilio(tracked, form, token="not-the-auth-token")
    unsigned = await post_twilio(tracked, form, signature="")
    signed = await post_twilio(tracked, twilio_form(delivery, "delivered"))
    tampered = await tracked.api.post(
        TWILIO_PATH,
        data={**form, "MessageStatus": "undelivered"},
        headers={"X-Twilio-Signature": signed.request.headers["X-Twilio-Signature"]},
    )

    assert [r.status_code for r in (wrong_token, unsigned, tampered)] == [403, 403, 403]
    assert wrong_token.json()["code"] == "invalid_signature"
    assert (await delivery_row(sessions, delivery)).status == "delivered"


async def test_sendgrid_batch_moves_the_delivery_forward_and_dates_each_stage(
    tracked, httpserver, sessions
):
    delivery = await send_email_through_sendgrid(tracked, httpserver)
    batch = [
        sendgrid_event(kind, delivery, timestamp=1767225600 + i)
        for i, kind in enumerate(["processed", "delivered", "open", "click"])
    ]

    response = await post_sendgrid(
        tracked, list(reversed(batch))
    )  # the order in a batch is not time order

    assert response.json() == {
        "received": 4,
        "applied": 4,
        "duplicates": 0,
        "unknown": 0,
        "ignored": 0,
    }
    row = await delivery_row(sessions, delivery)
    assert row.status == "clicked"
    assert row.delivered_at and row.opened_at and row.clicked_at
    stamps = [int(t.timestamp()) for t in (row.delivered_at, row.opened_at, row.clicked_at)]
    assert stamps == [1767225601, 1767225602, 1767225603]
    assert row.provider_response is not None
    assert row.provider_response["event"] == "click"


async def test_status_only_moves_forward(tracked, httpserver, sessions):
    delivery = await send_email_through_sendgrid(tracked, httpserver)

    await post_sendgrid(tracked, [sendgrid_event("open", delivery, timestamp=1767225700)])
    await post_sendgrid(tracked, [sendgrid_event("delivered", delivery, timestamp=1767225650)])
    await post_sendgrid(
        tracked, [sendgrid_event("bounce", delivery, type="bounce", reason="550 late")]
    )
    await post_sendgrid(tracked, [sendgrid_event("open", delivery, timestamp=1767225800)])

    row = await delivery_row(sessions, delivery)
    assert row.status == "opened"  # neither the late delivered nor the bounce took it back
    assert row.delivered_at and row.opened_at
    assert int(row.delivered_at.timestamp()) == 1767225650  # the late report still dates delivery
    assert int(row.opened_at.timestamp()) == 1767225700  # the first open, set once
    assert row.failed_at is None and row.error is None


async def test_a_bounce_overrides_sent(tracked, httpserver, sessions):
    delivery = await send_email_through_sendgrid(tracked, httpserver)

    await post_sendgrid(
        tracked,
        [sendgrid_event("bounce", delivery, type="blocked", status="5.7.1", reason="IP listed")],
    )

    row = await delivery_row(sessions, delivery)
    assert row.status == "bounced" and row.failed_at is not None
    assert row.error == "sendgrid bounce: blocked; 5.7.1; IP listed"


async def test_sendgrid_events_apply_once_per_event_id(tracked, httpserver, sessions):
    delivery = await send_email_through_sendgrid(tracked, httpserver)
    batch = [sendgrid_event("delivered", delivery, timestamp=1767225600)]

    first = await post_sendgrid(tracked, batch)
    opened = await post_sendgrid(tracked, [sendgrid_event("open", delivery)])
    again = await post_sendgrid(tracked, [*batch, dict(batch[0])])

    assert (first.json()["applied"], opened.json()["applied"]) == (1, 1)
    assert again.json() == {
        "received": 2,
        "applied": 0,
        "duplicates": 2,
        "unknown": 0,
        "ignored": 0,
    }
    row = await delivery_row(sessions, delivery)
    assert row.status == "opened" and row.provider_response is not None
    assert row.provider_response["event"] == "open"


async def test_sendgrid_matches_by_message_id_prefix_without_the_custom_arg(
    tracked, httpserver, sessions
):
    delivery = await send_email_through_sendgrid(tracked, httpserver)

    response = await post_sendgrid(
        tracked, [sendgrid_event("delivered", message_id=delivery["provider_message_id"])]
    )

    assert response.json()["applied"] == 1
    assert (await delivery_row(sessions, delivery)).status == "delivered"


async def test_unknown_messages_and_event_kinds_are_acknowledged(tracked):
    response = await post_sendgrid(
        tracked,
        [
            sendgrid_event("delivered", message_id="never-sent-by-herald"),
            sendgrid_event("group_resubscribe", message_id="never-sent-by-herald"),
        ],
    )
    twilio = await post_twilio(
        tracked, {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "delivered"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "received": 2,
        "applied": 0,
        "duplicates": 0,
        "unknown": 1,
        "ignored": 1,
    }
    assert twilio.status_code == 200 and twilio.json()["unknown"] == 1


async def test_sendgrid_forged_batches_are_refused_and_change_nothing(
    tracked, httpserver, sessions
):
    delivery = await send_email_through_sendgrid(tracked, httpserver)
    body = json.dumps([sendgrid_event("bounce", delivery, type="bounce")]).encode()
    signed = sendgrid_headers(body)
    other_key = ec.generate_private_key(ec.SECP256R1())

    answers = [
        await tracked.api.post(
            SENDGRID_PATH, content=body, headers=sendgrid_headers(body, other_key)
        ),
        await tracked.api.post(
            SENDGRID_PATH, content=body.replace(b"bounce", b"click"), headers=signed
        ),
        await tracked.api.post(
            SENDGRID_PATH,
            content=body,
            headers={**signed, "X-Twilio-Email-Event-Webhook-Timestamp": "1"},
        ),
        await tracked.api.post(
            SENDGRID_PATH, content=body, headers={"Content-Type": "application/json"}
        ),
        await tracked.api.post(
            SENDGRID_PATH,
            content=body,
            headers={**signed, "X-Twilio-Email-Event-Webhook-Signature": "%%%"},
        ),
    ]

    assert [a.status_code for a in answers] == [403] * 5
    assert (await delivery_row(sessions, delivery)).status == "sent"


async def test_signed_but_malformed_json_is_400(tracked):
    for body in (b"[{not json", b'{"event": "open"}', b'[{"no": "event name"}]'):
        response = await tracked.api.post(
            SENDGRID_PATH, content=body, headers=sendgrid_headers(body)
        )
        assert response.status_code == 400, body
        assert response.json()["code"] == "malformed_event"


async def test_webhooks_without_their_keys_are_503(stack):
    assert (await post_sendgrid(stack, [])).status_code == 503
    assert (
        await post_twilio(stack, {"MessageSid": "SM1", "MessageStatus": "sent"})
    ).status_code == 503
    # SNS signs every topic's messages alike: without the accepted topics, none is trusted.
    ses = await stack.api.post("/v1/webhooks/ses", content=b"{}")
    assert ses.status_code == 503 and "SES_SNS_TOPIC_ARNS" in ses.text


async def test_an_event_cannot_move_another_providers_delivery(tracked, httpserver, sessions):
    """The delivery id is in every email's Message-ID: SendGrid's signed event naming a delivery
    another provider sent must not move it."""
    delivery = await send_email_through_sendgrid(tracked, httpserver)
    async with sessions.begin() as session:  # as if SMTP had sent it
        await session.execute(
            text("UPDATE deliveries SET provider = 'smtp' WHERE id = :id"), {"id": delivery["id"]}
        )

    response = await post_sendgrid(tracked, [sendgrid_event("delivered", delivery)])

    assert response.json()["unknown"] == 1
    row = await delivery_row(sessions, delivery)
    assert row.status == "sent" and row.delivered_at is None
