"""send_broadcast_batch (activities/broadcast_sends.py) against real servers: PostgreSQL, the
SMTP catcher, and the SendGrid and Twilio SDKs pointed at local HTTP servers. The activity runs
in Temporal's ActivityEnvironment (heartbeats and cancellation as a worker delivers them);
the pending deliveries are written as plan_broadcast_page leaves them (broadcast_factory)."""

import asyncio
import threading
import time
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities import broadcast_sends
from activities.broadcast_sends import CHUNK_SIZE, UNSUBSCRIBE_PLACEHOLDER, BroadcastSends
from channels.smtp_sessions import SmtpSessions
from config.providers import build_providers
from config.settings import Settings
from db.delivery_tracking import lock_delivery
from db.templates import create_template
from domain.broadcasts import SendBatchInput, SendBatchResult
from domain.provider_events import from_sendgrid
from tests.conftest import new_tenant
from tests.e2e.broadcast_factory import (
    PendingPage,
    broadcast_counters,
    deliveries_of,
    pending_page,
)
from tests.e2e.test_http_providers import SID, TWILIO_MESSAGES, sendgrid_accepts, twilio_accepts

TRY_LATER = "451 4.3.0 Try again later"


@pytest.fixture
async def tenant(sessions) -> uuid.UUID:
    tenant_id, _ = await new_tenant(sessions, "Broadcaster")
    return tenant_id


@pytest.fixture
def threaded_http():
    """A local HTTP server answering each request in a thread of its own, so requests made at
    once are in flight at once (pytest-httpserver's default serves one at a time)."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def make_sends(database_url, sessions, smtp_server, tmp_path):
    """BroadcastSends on settings as a worker would have them (a test's overrides win)."""

    @asynccontextmanager
    async def build(**overrides):
        settings = Settings(
            **{
                "database_url": database_url,
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_server.port,
                "sms_outbox_path": str(tmp_path / "sms-outbox.jsonl"),
                "secret_key": SecretStr("test-secret-key-not-for-production"),
                **overrides,
            }
        )
        providers = build_providers(settings)
        try:
            yield BroadcastSends(sessions, providers, settings)
        finally:
            await providers.close()

    return build


def batch(page: PendingPage, providers: list[str], **fields) -> SendBatchInput:
    return SendBatchInput(
        page.broadcast_id, page.tenant_id, page.channel, None, None, providers, **fields
    )


async def run(sends: BroadcastSends, input: SendBatchInput, heartbeats: list | None = None):
    env = ActivityEnvironment()
    if heartbeats is not None:
        env.on_heartbeat = lambda *details: heartbeats.append(details)
    return await env.run(sends.send_batch, input)


def twilio(server: HTTPServer, concurrency: int) -> dict:
    return {
        "twilio_account_sid": SID,
        "twilio_auth_token": SecretStr("secret-token"),
        "twilio_from_number": "+15005550006",
        "twilio_base_url": server.url_for("").rstrip("/"),
        "sms_providers": "twilio",
        "broadcast_send_concurrency": concurrency,
    }


def sendgrid(server: HTTPServer) -> dict:
    return {
        "sendgrid_api_key": SecretStr("SG.test-key"),
        "sendgrid_base_url": server.url_for("").rstrip("/"),
    }


async def test_every_pending_delivery_is_sent_once_and_recorded(make_sends, sessions, tenant, smtp):
    count = CHUNK_SIZE + 50  # two chunks
    page = await pending_page(sessions, tenant, count)
    heartbeats: list = []
    async with make_sends() as sends:
        result = await run(sends, batch(page, ["smtp"]), heartbeats)

    assert result == SendBatchResult(sent=count)
    for address in page.addresses:
        assert len(smtp.to(address)) == 1
    recorded = await deliveries_of(sessions, page)
    assert {d["status"] for d in recorded.values()} == {"sent"}
    assert {d["notification_status"] for d in recorded.values()} == {"sent"}
    for delivery_id, delivery in recorded.items():
        assert delivery["provider"] == "smtp"
        assert delivery["provider_message_id"].startswith(f"<{delivery_id}@")
        assert delivery["subject"] == "Spring sale"
        assert delivery["sent_at"] is not None and delivery["send_claimed_until"] is None
    assert await broadcast_counters(sessions, page.broadcast_id) == {"sent": count, "failed": 0}
    # One heartbeat a chunk, with the progress so far.
    assert heartbeats == [(CHUNK_SIZE, 0, 0), (count, 0, 0)]
    # Each email has its recipient's own unsubscribe link, in the body and the header (the
    # chunk's recipients are rendered once: render_memo puts in each one's own).
    links = set()
    for address in page.addresses:
        mail = smtp.to(address)[0].message
        link = mail["List-Unsubscribe"].strip("<>")
        assert "/v1/unsubscribe/" in link
        assert link in mail.get_body(("plain",)).get_content()
        assert link in mail.get_body(("html",)).get_content()
        links.add(link)
    assert len(links) == count


async def test_only_the_recipients_of_the_range_are_sent(make_sends, sessions, tenant, smtp):
    page = await pending_page(sessions, tenant, 10)
    after, through = page.recipient_ids[2], page.recipient_ids[6]
    async with make_sends() as sends:
        result = await run(
            sends, SendBatchInput(page.broadcast_id, tenant, "email", after, through, ["smtp"])
        )

    assert result.sent == 4  # recipients 3, 4, 5 and 6
    sent = [a for a in page.addresses if smtp.to(a)]
    assert sent == page.addresses[3:7]


async def test_a_rerun_sends_nothing_again(make_sends, sessions, tenant, smtp):
    page = await pending_page(sessions, tenant, 5)
    async with make_sends() as sends:
        first = await run(sends, batch(page, ["smtp"]))
        again = await run(sends, batch(page, ["smtp"]))

    assert (first.sent, again) == (5, SendBatchResult())
    assert all(len(smtp.to(a)) == 1 for a in page.addresses)
    assert await broadcast_counters(sessions, page.broadcast_id) == {"sent": 5, "failed": 0}


async def test_a_delivery_another_attempt_holds_is_not_sent(make_sends, sessions, tenant, smtp):
    """A batch whose worker died after claiming (and perhaps sending) leaves its claim: a run
    after it sends the rest and reports the held one for a later sweep."""
    page = await pending_page(sessions, tenant, 4)
    held = page.delivery_ids[1]
    async with sessions.begin() as session:
        await session.execute(
            text(
                "UPDATE deliveries SET send_claimed_until = now() + interval '60 seconds'"
                " WHERE id = :id"
            ),
            {"id": held},
        )
    async with make_sends() as sends:
        result = await run(sends, batch(page, ["smtp"]))

    assert (result.sent, result.retrying) == (3, 1)
    assert 50 < (result.retry_after_seconds or 0) <= 60
    assert smtp.to(page.addresses[1]) == []
    recorded = await deliveries_of(sessions, page)
    assert recorded[held]["status"] == "pending"


async def test_a_transient_failure_stays_pending_until_the_window_ends(
    make_sends, sessions, tenant, smtp
):
    page = await pending_page(sessions, tenant, 3)
    refused = page.addresses[0]
    smtp.refused_addresses[refused] = TRY_LATER
    async with make_sends() as sends:
        first = await run(sends, batch(page, ["smtp"]))
        delivery = (await deliveries_of(sessions, page))[page.delivery_of(refused)]
        assert (first.sent, first.retrying, first.failed) == (2, 1, 0)
        assert delivery["status"] == "pending" and delivery["retry_count"] == 1
        assert "451" in delivery["error"] and delivery["send_claimed_until"] is None
        assert delivery["notification_status"] == "sending"

        ended = datetime.now(UTC) - timedelta(seconds=1)
        last = await run(sends, batch(page, ["smtp"], retry_window_ends=ended))

    assert (last.sent, last.retrying, last.failed) == (0, 0, 1)
    delivery = (await deliveries_of(sessions, page))[page.delivery_of(refused)]
    assert delivery["status"] == "failed" and delivery["failed_at"] is not None
    assert delivery["retry_count"] == 2 and delivery["status_reason"] == "ProviderUnavailable"
    assert delivery["notification_status"] == "failed"
    assert await broadcast_counters(sessions, page.broadcast_id) == {"sent": 2, "failed": 1}


async def test_a_transient_failure_sent_on_the_next_sweep(make_sends, sessions, tenant, smtp):
    page = await pending_page(sessions, tenant, 2)
    smtp.refused_addresses[page.addresses[0]] = TRY_LATER
    async with make_sends() as sends:
        await run(sends, batch(page, ["smtp"]))
        smtp.refused_addresses.clear()
        again = await run(sends, batch(page, ["smtp"]))

    assert (again.sent, again.retrying) == (1, 0)
    delivery = (await deliveries_of(sessions, page))[page.delivery_ids[0]]
    assert (delivery["status"], delivery["error"], delivery["retry_count"]) == ("sent", None, 1)


async def test_a_recipient_refused_fails_at_once(make_sends, sessions, tenant, smtp):
    page = await pending_page(sessions, tenant, 2)
    smtp.refused_addresses[page.addresses[1]] = "550 5.1.1 No such user"
    async with make_sends() as sends:
        result = await run(sends, batch(page, ["smtp"]))

    assert (result.sent, result.failed, result.retrying) == (1, 1, 0)
    delivery = (await deliveries_of(sessions, page))[page.delivery_ids[1]]
    assert delivery["status"] == "failed" and delivery["status_reason"] == "PermanentSendError"


async def test_a_provider_refusing_herald_fails_over_to_the_next(
    make_sends, sessions, tenant, smtp, threaded_http
):
    threaded_http.expect_request("/v3/mail/send").respond_with_json(
        {"errors": [{"message": "The provided authorization grant is invalid"}]}, status=401
    )
    page = await pending_page(sessions, tenant, 3)
    async with make_sends(**sendgrid(threaded_http), email_providers="sendgrid,smtp") as sends:
        result = await run(sends, batch(page, ["sendgrid", "smtp"]))

    assert result.sent == 3
    assert len(threaded_http.log) == 1  # the three in one batch, refused once
    assert all(len(smtp.to(a)) == 1 for a in page.addresses)
    for delivery in (await deliveries_of(sessions, page)).values():
        assert (delivery["status"], delivery["provider"]) == ("sent", "smtp")
        [note] = delivery["failover_log"]
        assert (note["provider"], note["moved_to"]) == ("sendgrid", "smtp")
        assert "401" in note["reason"] and note["at"]


async def test_sendgrid_gets_a_chunk_of_the_same_email_in_one_request(
    make_sends, sessions, tenant, threaded_http
):
    threaded_http.expect_request("/v3/mail/send", method="POST").respond_with_response(
        sendgrid_accepts("sg-batch-1")
    )
    page = await pending_page(sessions, tenant, 25)
    async with make_sends(**sendgrid(threaded_http), email_providers="sendgrid") as sends:
        result = await run(sends, batch(page, ["sendgrid"]))

    assert result.sent == 25
    [(request, _)] = threaded_http.log
    payload = request.get_json()
    personalizations = payload["personalizations"]
    assert [p["to"] for p in personalizations] == [[{"email": a}] for a in page.addresses]
    # The shared content carries the placeholder; each recipient's own link replaces it.
    assert payload["subject"] == "Spring sale"
    [text_part, html_part] = payload["content"]
    assert UNSUBSCRIBE_PLACEHOLDER in text_part["value"]
    assert UNSUBSCRIBE_PLACEHOLDER in html_part["value"]
    assert "List-Unsubscribe" not in payload["headers"]
    links = set()
    for delivery_id, p in zip(page.delivery_ids, personalizations, strict=True):
        assert p["custom_args"] == {"herald_delivery_id": str(delivery_id)}
        link = p["substitutions"][UNSUBSCRIBE_PLACEHOLDER]
        assert p["headers"]["List-Unsubscribe"] == f"<{link}>"
        assert p["headers"]["Message-ID"].startswith(f"<{delivery_id}@")
        links.add(link)
    assert len(links) == 25  # each recipient's own
    recorded = await deliveries_of(sessions, page)
    assert {(d["status"], d["provider"], d["provider_message_id"]) for d in recorded.values()} == {
        ("sent", "sendgrid", "sg-batch-1")
    }
    # A webhook event about one of them finds its delivery (by the custom arg it echoes).
    target = page.delivery_ids[7]
    event = from_sendgrid(
        {
            "event": "delivered",
            "email": page.addresses[7],
            "timestamp": int(time.time()),
            "sg_event_id": "ev-1",
            "sg_message_id": "sg-batch-1.filterdrecv-1.7",
            "herald_delivery_id": str(target),
        }
    )
    async with sessions.begin() as session:
        found = await lock_delivery(session, event)
    assert found is not None and found.id == target


async def test_sendgrid_sends_personal_content_one_by_one(
    make_sends, sessions, tenant, threaded_http
):
    """A template that names its recipient renders a different email for each."""
    threaded_http.expect_request("/v3/mail/send").respond_with_response(sendgrid_accepts())
    async with sessions.begin() as session:
        await create_template(
            session,
            tenant,
            {
                "name": "Personal news",
                "event_key": "product.personal",
                "channel": "email",
                "locale": "en",
                "subject": "News for {{ recipient_name }}",
                "text_body": "Hello {{ recipient_name }}, everything is 20% off.",
                "html_body": "<p>Hello {{ recipient_name }}, everything is 20% off.</p>",
                "is_active": True,
                "is_default": True,
            },
        )
    page = await pending_page(
        sessions, tenant, 3, names=["Ada", "Grace", "Edsger"], event_key="product.personal"
    )
    async with make_sends(**sendgrid(threaded_http), email_providers="sendgrid") as sends:
        result = await run(sends, batch(page, ["sendgrid"]))

    assert result.sent == 3
    assert len(threaded_http.log) == 3
    payloads = [request.get_json() for request, _ in threaded_http.log]
    assert all(len(p["personalizations"]) == 1 for p in payloads)
    assert sorted(p["subject"] for p in payloads) == [
        "News for Ada",
        "News for Edsger",
        "News for Grace",
    ]


async def test_sends_in_flight_are_bounded_per_provider(
    make_sends, sessions, tenant, threaded_http, monkeypatch
):
    """At most BROADCAST_SEND_CONCURRENCY calls to a provider at once; the batch heartbeats as
    its sends finish (here after each one), not only between chunks."""
    monkeypatch.setattr(broadcast_sends, "HEARTBEAT_EVERY_SECONDS", 0)
    in_flight, most = 0, 0
    lock = threading.Lock()

    def slow_accept(request):
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return twilio_accepts("SM" + uuid.uuid4().hex)

    threaded_http.expect_request(TWILIO_MESSAGES).respond_with_handler(slow_accept)
    page = await pending_page(sessions, tenant, 24, channel="sms")
    async with make_sends(**twilio(threaded_http, concurrency=3)) as sends:
        heartbeats: list = []
        result = await run(sends, batch(page, ["twilio"]), heartbeats)

    assert result.sent == 24 and len(threaded_http.log) == 24
    assert most == 3
    assert len(heartbeats) == 24 + 1  # each send, and the chunk's end
    recorded = await deliveries_of(sessions, page)
    assert len({d["provider_message_id"] for d in recorded.values()}) == 24


async def test_a_cancelled_batch_records_what_the_provider_took(
    make_sends, sessions, tenant, threaded_http
):
    """Cancelled while sends are in flight: those finish and are recorded as sent, the rest
    are given back untouched; a batch after it sends exactly the rest."""
    started = threading.Event()

    def slow_accept(request):
        started.set()
        time.sleep(0.3)
        return twilio_accepts("SM" + uuid.uuid4().hex)

    threaded_http.expect_request(TWILIO_MESSAGES).respond_with_handler(slow_accept)
    page = await pending_page(sessions, tenant, 10, channel="sms")
    async with make_sends(**twilio(threaded_http, concurrency=2)) as sends:
        env = ActivityEnvironment()
        task = asyncio.create_task(env.run(sends.send_batch, batch(page, ["twilio"])))
        await asyncio.to_thread(started.wait, 5)
        env.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        taken = len(threaded_http.log)
        recorded = await deliveries_of(sessions, page)
        statuses = [d["status"] for d in recorded.values()]
        assert 1 <= taken < 10 and statuses.count("sent") == taken
        assert all(d["send_claimed_until"] is None for d in recorded.values())
        assert all(d["retry_count"] == 0 for d in recorded.values())

        rest = await run(sends, batch(page, ["twilio"]))

    assert rest.sent == 10 - taken
    assert len(threaded_http.log) == 10  # none twice
    assert await broadcast_counters(sessions, page.broadcast_id) == {"sent": 10, "failed": 0}


async def test_sends_are_recorded_as_providers_take_them_not_at_the_chunks_end(
    make_sends, sessions, tenant, threaded_http
):
    """A worker killed mid-chunk can record nothing more: what the provider took and was not
    recorded is sent again by a later batch. So sends are recorded a group
    (BROADCAST_SEND_CONCURRENCY) at a time while the chunk goes on: with the provider holding
    the chunk's last sends, the ones it took before are already recorded."""
    hold, held = threading.Event(), threading.Event()
    taken = 0
    lock = threading.Lock()

    def accept(request):
        nonlocal taken
        with lock:
            taken += 1
            mine = taken
        if mine > 12:  # the rest of the chunk waits until the test has looked
            held.set()
            hold.wait(10)
        return twilio_accepts("SM" + uuid.uuid4().hex)

    threaded_http.expect_request(TWILIO_MESSAGES).respond_with_handler(accept)
    page = await pending_page(sessions, tenant, 20, channel="sms")
    async with make_sends(**twilio(threaded_http, concurrency=2)) as sends:
        task = asyncio.create_task(run(sends, batch(page, ["twilio"])))
        await asyncio.to_thread(held.wait, 10)
        await asyncio.sleep(0.5)  # a group being written has been
        statuses = [d["status"] for d in (await deliveries_of(sessions, page)).values()]
        hold.set()
        result = await task

    # 12 taken; at most one group (2) still waiting for its record.
    assert statuses.count("sent") >= 10, statuses
    assert result.sent == 20 and len(threaded_http.log) == 20
    assert await broadcast_counters(sessions, page.broadcast_id) == {"sent": 20, "failed": 0}


async def test_concurrent_smtp_sends_keep_their_sessions(
    make_sends, sessions, tenant, smtp, monkeypatch
):
    """Each of the sends in flight at once keeps its session for its next email, also across
    chunks (between two, every session is given back at once), rather than all but the ten
    kept for single sends being closed there, and opened again for the next chunk."""
    opened = 0
    open_session = SmtpSessions.open

    async def counted(self):
        nonlocal opened
        opened += 1
        return await open_session(self)

    monkeypatch.setattr(SmtpSessions, "open", counted)
    count = 2 * CHUNK_SIZE + 50
    page = await pending_page(sessions, tenant, count)
    async with make_sends(broadcast_send_concurrency=15) as sends:
        result = await run(sends, batch(page, ["smtp"]))

    assert result.sent == count
    assert opened <= 15
