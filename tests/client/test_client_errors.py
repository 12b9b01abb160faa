"""Strict calls: Herald's refusals as typed errors (the real stack), and retries on 429/503
honouring Retry-After within bounded attempts and time (a local HTTP server scripted to fail)."""

import asyncio
import itertools
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
from herald_client import (
    AsyncHerald,
    Conflict,
    Customer,
    Herald,
    NotFound,
    Payment,
    RateLimited,
    RecipientRef,
    RetryPolicy,
    Unauthorized,
    Unavailable,
    ValidationError,
    events,
)
from werkzeug import Request, Response

from tests.client.conftest import unique
from tests.conftest import free_port


def accepted_body(key: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "status": "accepted",
        "workflow_id": "notification-x",
        "idempotency_key": key,
        "replayed": False,
    }


class Script:
    """Answers each request with the next scripted (status, headers, delay) and records when
    it came and with which Idempotency-Key."""

    def __init__(self, *answers: tuple[int, dict[str, str]], delay: float = 0.0) -> None:
        self.answers, self.delay = list(answers), delay
        self.seen: list[tuple[float, str | None]] = []

    def __call__(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        self.seen.append((time.monotonic(), key))
        time.sleep(self.delay)
        status, headers = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        body = accepted_body(key or "") if status < 300 else {"status": status, "code": "x"}
        return Response(json.dumps(body), status, headers, content_type="application/json")

    def gaps(self) -> list[float]:
        times = [t for t, _ in self.seen]
        return [b - a for a, b in itertools.pairwise(times)]


async def test_refusals_are_typed_errors_naming_the_field(herald, outbox_path):
    async with AsyncHerald(herald.url, herald.key, outbox_path=outbox_path) as client:
        with pytest.raises(ValidationError) as invalid:
            await client.send(RecipientRef(email="not-an-email"), "payment.completed")
        assert (invalid.value.status, invalid.value.code) == (422, "validation_error")
        assert invalid.value.field == "recipient.email"
        assert "email" in (invalid.value.problem or "")

        with pytest.raises(NotFound) as missing:
            await client.get_notification(uuid.uuid4())
        assert (missing.value.status, missing.value.code) == (404, "not_found")

        key, ada = unique("order"), RecipientRef(external_id="ada", email="ada@example.com")
        await client.send(ada, "payment.completed", context={"n": 1}, idempotency_key=key)
        with pytest.raises(Conflict) as conflict:  # the same key, another body
            await client.send(ada, "payment.completed", context={"n": 2}, idempotency_key=key)
        assert (conflict.value.status, conflict.value.code) == (409, "idempotency_conflict")

        payment = Payment(payment_id=unique("p"), customer=Customer(id="c", email="c@example.com"))
        await client.send_event(events.payment_completed(payment, occurred_at=datetime.now(UTC)))
        with pytest.raises(Conflict) as other_event:  # the same id, another time: not the fact
            await client.send_event(
                events.payment_completed(payment, occurred_at=datetime(2026, 1, 1, tzinfo=UTC))
            )
        assert other_event.value.code == "event_conflict"

    async with AsyncHerald(herald.url, "hk_wrong", outbox_path=outbox_path) as stranger:
        with pytest.raises(Unauthorized) as refused:
            await stranger.get_notification(uuid.uuid4())
        assert refused.value.status == 401


def test_the_client_refuses_what_it_cannot_send_before_sending(outbox_path):
    """Nothing listens on the port: a request would be Unavailable, not a ValidationError."""
    client = Herald(f"http://127.0.0.1:{free_port()}", "k", outbox_path=outbox_path)
    with pytest.raises(ValidationError) as invalid:
        client.send("user-1", "payment.completed", priority="extreme")  # type: ignore[arg-type]
    assert (invalid.value.status, invalid.value.field) == (None, "priority")
    with pytest.raises(ValidationError) as both:
        client.send("user-1", "a.b", idempotency_key="k", key_from=("order", 1))
    assert both.value.field == "key_from"
    client.close()


def test_503_then_202_waits_retry_after_and_resends_the_same_key(httpserver, outbox_path):
    script = Script((503, {"Retry-After": "1"}), (202, {}))
    httpserver.expect_request("/v1/notifications", method="POST").respond_with_handler(script)
    client = Herald(httpserver.url_for(""), "k", outbox_path=outbox_path)
    accepted = client.send("user-1", "payment.completed", key_from=("order", 7, "paid"))
    assert accepted.idempotency_key == "order:7:paid"
    assert [key for _, key in script.seen] == ["order:7:paid"] * 2
    assert script.gaps()[0] >= 0.95  # Retry-After: 1
    client.close()


async def test_429_then_200_with_the_async_client(httpserver, outbox_path):
    script = Script((429, {"Retry-After": "1"}), (429, {"Retry-After": "1"}), (202, {}))
    httpserver.expect_request("/v1/notifications", method="POST").respond_with_handler(script)
    async with AsyncHerald(httpserver.url_for(""), "k", outbox_path=outbox_path) as client:
        await client.send("user-1", "payment.completed")
    assert len(script.seen) == 3 and all(gap >= 0.95 for gap in script.gaps())
    assert len({key for _, key in script.seen}) == 1  # one drawn key, sent every time


def test_retries_are_bounded_in_attempts(httpserver, outbox_path):
    script = Script((503, {}))
    httpserver.expect_request("/v1/notifications", method="POST").respond_with_handler(script)
    retry = RetryPolicy(attempts=3, initial_backoff=0.05, max_backoff=0.1)
    client = Herald(httpserver.url_for(""), "k", retry=retry, outbox_path=outbox_path)
    with pytest.raises(Unavailable) as down:
        client.send("user-1", "payment.completed")
    assert down.value.status == 503 and len(script.seen) == 3
    client.close()


def test_retries_are_bounded_in_time(httpserver, outbox_path):
    """Herald asks for a minute; the caller gave 5 s: no wait, the error says how long."""
    script = Script((429, {"Retry-After": "60"}))
    httpserver.expect_request("/v1/notifications", method="POST").respond_with_handler(script)
    client = Herald(
        httpserver.url_for(""), "k", retry=RetryPolicy(total_seconds=5), outbox_path=outbox_path
    )
    began = time.monotonic()
    with pytest.raises(RateLimited) as limited:
        client.send("user-1", "payment.completed")
    assert time.monotonic() - began < 2 and len(script.seen) == 1
    assert limited.value.retry_after == 60
    client.close()


def test_a_lost_answer_is_resent_only_when_resending_is_harmless(httpserver, outbox_path):
    """A read timeout: the keyed send goes again (a replay at worst); a template's test send,
    which would send a second test message, does not."""
    keyed = Script((202, {}), delay=0.6)
    httpserver.expect_request("/v1/notifications", method="POST").respond_with_handler(keyed)
    test_send = Script((202, {}), delay=0.6)
    template_id = uuid.uuid4()
    httpserver.expect_request(f"/v1/templates/{template_id}/test").respond_with_handler(test_send)
    retry = RetryPolicy(attempts=2, initial_backoff=0.05)
    client = Herald(httpserver.url_for(""), "k", timeout=0.3, retry=retry, outbox_path=outbox_path)
    with pytest.raises(Unavailable):
        client.send("user-1", "payment.completed")
    with pytest.raises(Unavailable):
        client.send_template_test(template_id, email="a@example.com")
    time.sleep(1.5)  # the server answers one request at a time: let it see the last ones
    assert (len(keyed.seen), len(test_send.seen)) == (2, 1)
    client.close()


async def test_herald_unreachable_is_unavailable_after_the_retries(outbox_path):
    retry = RetryPolicy(attempts=3, initial_backoff=0.05)
    url = f"http://127.0.0.1:{free_port()}"
    async with AsyncHerald(url, "k", retry=retry, outbox_path=outbox_path) as client:
        began = asyncio.get_running_loop().time()
        with pytest.raises(Unavailable) as down:
            await client.get_notification(uuid.uuid4())
        assert down.value.status is None and "ConnectError" in str(down.value)
        assert asyncio.get_running_loop().time() - began >= 0.05  # it did wait and retry
