"""GET /v1/inbox/stream across API processes: two `uvicorn api.main:app` processes on one
PostgreSQL and the Temporal dev server, as deployed behind a load balancer. A change made
through one process (a message stored by a workflow, a read) reaches a stream on the other;
a stream resumes with Last-Event-ID after its process restarted, missing and repeating
nothing; heartbeats, token expiry, purged events, the stream limit, a lost LISTEN connection,
a database restart, and no event of anyone else.

Waits are generous (10 s); how fast events arrive is measured by `make bench`
(bench/inbox_streams.py), not here."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from config.settings import Settings
from db.inbox_events import append_event
from db.session import create_engine, session_factory
from domain.inbox import InboxEventKind
from tests.conftest import new_tenant
from tests.e2e.inbox_factory import recipient_token_answer
from tests.e2e.test_database_restart import own_postgres, stop  # noqa: F401  (a fixture)
from tests.utils.api_process import ApiProcess
from tests.utils.serving import on_a_port, serving
from tests.utils.sse import EventStream, event_stream

HEARTBEAT_SECONDS = 1  # the processes' INBOX_STREAM_HEARTBEAT_SECONDS, so a test sees several
STREAM = "/v1/inbox/stream"


@pytest.fixture(scope="module")
async def processes(
    database_url, temporal_env, smtp_server, tmp_path_factory
) -> AsyncIterator[tuple[ApiProcess, ApiProcess]]:
    """Two API processes (each with its embedded worker, as deployed) on one database."""
    work = tmp_path_factory.mktemp("inbox-stream")
    env = {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TASK_QUEUE": f"herald-inbox-stream-{uuid.uuid4()}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMS_OUTBOX_PATH": str(work / "sms-outbox.jsonl"),
        "SECRET_KEY": "inbox-stream-test-key-not-for-production",
        "METRICS_PORT": "0",
        "INBOX_STREAM_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
    }
    a, b = ApiProcess(env, work / "api-a.log"), ApiProcess(env, work / "api-b.log")
    try:
        await asyncio.gather(a.start(), b.start())
        yield a, b
    finally:
        for process in (a, b):
            process.kill()


@pytest.fixture
async def tenant(sessions, processes) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    """A fresh tenant: a client of each process with its API key."""
    _, key = await new_tenant(sessions)
    async with AsyncExitStack() as clients:
        yield tuple(
            [
                await clients.enter_async_context(
                    httpx.AsyncClient(
                        base_url=process.url,
                        headers={"Authorization": f"Bearer {key}"},
                        timeout=30,
                    )
                )
                for process in processes
            ]
        )


async def new_recipient(api: httpx.AsyncClient, external_id: str | None = None) -> dict:
    """A recipient of the tenant, and a token: {"token", "recipient_id", "tenant_id", ...}."""
    external_id = external_id or f"ann-{uuid.uuid4().hex[:8]}"
    return await recipient_token_answer(api, external_id) | {"external_id": external_id}


def bearer(recipient: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {recipient['token']}"}


async def send_in_app(api: httpx.AsyncClient, external_id: str, title: str) -> str:
    """POST /v1/notifications for the in-app channel (its workflow stores the message)."""
    accepted = await api.post(
        "/v1/notifications",
        json={
            "recipient": {"external_id": external_id},
            "event_key": "inbox.note",
            "channels": ["in_app"],
            "context": {"title": title, "message": f"{title}: the body"},
        },
    )
    assert accepted.status_code == 202, accepted.text
    return accepted.json()["id"]


@asynccontextmanager
async def stream_on(
    process: ApiProcess, recipient: dict | None, headers: dict | None = None, **request
) -> AsyncIterator[EventStream]:
    """A stream on `process` of `recipient`'s inbox (its token in Authorization)."""
    headers = (bearer(recipient) if recipient else {}) | (headers or {})
    async with (
        httpx.AsyncClient(base_url=process.url) as client,
        event_stream(client, STREAM, headers=headers, **request) as stream,
    ):
        yield stream


async def created(stream: EventStream, title: str) -> dict:
    """The stream's next event: the message.created of the message titled `title`."""
    event = await stream.next()
    assert event.kind == "message.created", event
    assert event.data["message"]["title"] == title, event
    return event.data


async def test_a_message_sent_through_one_process_reaches_a_stream_on_the_other(processes, tenant):
    _, b = processes
    api_a, _ = tenant
    ann = await new_recipient(api_a)
    async with stream_on(b, ann) as stream:
        ready = await stream.next()
        assert (ready.kind, ready.id) == ("ready", 0)
        assert ready.data == {"counts": {"total": 0, "unread": 0, "unseen": 0}, "last_event_id": 0}

        await send_in_app(api_a, ann["external_id"], "Over there")
        event = await stream.next()
        assert (event.kind, event.id) == ("message.created", 1)
        assert event.data["message"]["title"] == "Over there"
        assert event.data["counts"] == {"total": 1, "unread": 1, "unseen": 1}


async def test_a_read_through_one_process_reaches_a_stream_on_the_other(processes, tenant):
    a, b = processes
    api_a, _ = tenant
    ann = await new_recipient(api_a)
    async with (
        httpx.AsyncClient(base_url=b.url, headers=bearer(ann)) as inbox_on_b,
        stream_on(a, ann) as stream,
    ):
        await stream.next()  # ready
        await send_in_app(api_a, ann["external_id"], "Read me")
        first = (await created(stream, "Read me"))["message"]["id"]
        await send_in_app(api_a, ann["external_id"], "Keep me")
        assert (await created(stream, "Keep me"))["counts"]["unread"] == 2

        read = await inbox_on_b.post("/v1/inbox/read", json={"ids": [first]})
        assert read.status_code == 200, read.text
        event = await stream.next()
        assert event.kind == "messages.updated", event
        assert (event.data["ids"], event.data["change"]) == ([first], "read")
        assert event.data["counts"] == {"total": 2, "unread": 1, "unseen": 1}


async def test_a_stream_resumes_after_its_process_restarts_missing_and_repeating_nothing(
    processes, tenant
):
    a, b = processes
    api_a, _ = tenant
    ann = await new_recipient(api_a)
    async with stream_on(b, ann) as stream:
        await stream.next()  # ready
        await send_in_app(api_a, ann["external_id"], "Before")
        seen = (await stream.next()).id
        assert seen == 1

        # SIGTERM with the stream open: it ends, and the process does not hang on it.
        assert await b.stop() < 20
        await stream.wait_ended()

    # While B is down, three messages are stored (through A), one after the other (each seen
    # on a stream on A before the next is sent: two workflows store theirs in either order).
    titles = [f"While down {n}" for n in range(3)]
    resume = {"Last-Event-ID": str(seen)}
    async with stream_on(a, ann, resume) as witness:
        for title in titles:
            await send_in_app(api_a, ann["external_id"], title)
            await created(witness, title)

    await b.start()
    async with stream_on(b, ann, resume) as resumed:
        for title in titles:
            await created(resumed, title)
        await send_in_app(api_a, ann["external_id"], "After")
        await created(resumed, "After")
        await asyncio.sleep(2 * HEARTBEAT_SECONDS)  # room for anything repeated to show
        assert [e.id for e in resumed.events] == [2, 3, 4, 5]


async def test_heartbeats_keep_an_idle_stream_open(processes, tenant):
    _, b = processes
    ann = await new_recipient(tenant[0])
    async with stream_on(b, ann) as stream:
        await stream.next()  # ready
        for _ in range(2):
            sent = await stream.next(heartbeats=True)
            assert sent.comment == "heartbeat", sent


async def test_the_stream_ends_when_its_token_expires(processes, tenant):
    """A token the tenant's backend signed itself, living 3 seconds."""
    api_a, _ = tenant
    a, _ = processes
    ann = await new_recipient(api_a)
    secret = await api_a.post("/v1/settings/inbox/signing-secrets", json={})
    assert secret.status_code == 201, secret.text
    now = int(time.time())
    claims = {
        "sub": ann["external_id"],
        "tid": ann["tenant_id"],
        "iat": now,
        "exp": now + 3,
        "aud": "herald-inbox",
    }
    token = jwt.encode(
        claims, secret.json()["secret"], algorithm="HS256", headers={"kid": secret.json()["kid"]}
    )
    async with stream_on(a, None, params={"token": token}) as stream:  # as EventSource sends it
        assert (await stream.next()).kind == "ready"
        expired = await stream.next()
        assert expired.kind == "expired", expired
        await stream.wait_ended()
        assert time.time() >= claims["exp"]


async def test_a_stream_carries_only_its_own_recipients_events(processes, tenant, sessions):
    a, b = processes
    api_a, _ = tenant
    ann, bob = await new_recipient(api_a), await new_recipient(api_a)
    # Another tenant's recipient with ann's external id.
    _, other_key = await new_tenant(sessions, "Other")
    async with httpx.AsyncClient(
        base_url=a.url, headers={"Authorization": f"Bearer {other_key}"}
    ) as other_api:
        namesake = await new_recipient(other_api, ann["external_id"])
    async with (
        stream_on(b, bob) as bobs,
        stream_on(b, namesake) as namesakes,
        stream_on(b, ann) as anns,
    ):
        for stream in (bobs, namesakes, anns):
            await stream.next()  # ready
        await send_in_app(api_a, ann["external_id"], "For ann")
        await created(anns, "For ann")
        await send_in_app(api_a, bob["external_id"], "For bob")
        await created(bobs, "For bob")
        await asyncio.sleep(2 * HEARTBEAT_SECONDS)
        assert [e.kind for e in bobs.events] == ["ready", "message.created"]
        assert [e.kind for e in namesakes.events] == ["ready"]
        assert [e.kind for e in anns.events] == ["ready", "message.created"]


async def test_events_no_longer_stored_are_a_reset(processes, tenant, sessions):
    a, _ = processes
    api_a, _ = tenant
    ann = await new_recipient(api_a)
    async with stream_on(a, ann) as stream:
        await stream.next()
        for title in ("One", "Two", "Three"):
            await send_in_app(api_a, ann["external_id"], title)
            await created(stream, title)
    async with sessions.begin() as session:  # what the maintenance purge does to old ones
        await session.execute(
            text("DELETE FROM inbox_events WHERE recipient_id = :r AND seq <= 2"),
            {"r": ann["recipient_id"]},
        )
    for asked in ("1", "99"):  # purged; never reached
        async with stream_on(a, ann, {"Last-Event-ID": asked}) as stream:
            reset = await stream.next()
            assert (reset.kind, reset.id) == ("reset", 3), reset
            assert reset.data == {
                "counts": {"total": 3, "unread": 3, "unseen": 3},
                "last_event_id": 3,
            }
    async with stream_on(a, ann, params={"last_event_id": "2"}) as stream:  # 3 is still there
        event = await stream.next()
        assert (event.kind, event.id) == ("message.created", 3)


async def test_past_the_stream_limit_the_oldest_stream_closes(processes, tenant):
    a, _ = processes
    ann = await new_recipient(tenant[0])
    async with AsyncExitStack() as opened:
        streams = []
        for _ in range(11):
            stream = await opened.enter_async_context(stream_on(a, ann))
            await stream.next()  # ready
            streams.append(stream)
        closed = await streams[0].next()
        assert (closed.kind, closed.data) == ("closed", {"reason": "too_many_streams"})
        await streams[0].wait_ended()
        await asyncio.sleep(2 * HEARTBEAT_SECONDS)
        assert all(not s.ended.is_set() and len(s.events) == 1 for s in streams[1:])


async def test_streams_catch_up_when_the_listener_reconnects(processes, tenant, sessions):
    """The LISTEN connections are cut (as a database restart cuts them), and an event is
    committed before they are back: its notification reaches no one, yet the stream gets it,
    by reading the log when its process listens again."""
    a, _ = processes
    ann = await new_recipient(tenant[0])
    async with stream_on(a, ann) as stream:
        await stream.next()  # ready
        listeners = text(
            "SELECT pid, backend_start FROM pg_stat_activity"
            " WHERE application_name = 'herald-inbox-listener'"
        )
        async with sessions.begin() as session:
            cut = [row.pid for row in await session.execute(listeners)]
            await session.execute(
                text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) pid"),
                {"pids": cut},
            )
        while True:  # until the cut connections are gone
            async with sessions() as session:
                left = {row.pid for row in await session.execute(listeners)}
            if not left & set(cut):
                break
            await asyncio.sleep(0.01)
        async with sessions.begin() as session:
            await append_event(
                session,
                uuid.UUID(ann["tenant_id"]),
                uuid.UUID(ann["recipient_id"]),
                InboxEventKind.DELETED,
                {"ids": []},
            )
            committed = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()

        event = await stream.next()
        assert (event.kind, event.id) == ("messages.deleted", 1)
        async with sessions() as session:
            back = (await session.execute(listeners)).all()
        # Every listener now connected came back after the commit: the event was read from
        # the log, not announced.
        assert back and all(row.backend_start > committed for row in back), (back, committed)


async def test_bad_input_and_credentials_are_refused(processes, tenant):
    a, _ = processes
    api_a, _ = tenant
    ann = await new_recipient(api_a)
    async with httpx.AsyncClient(base_url=a.url) as on_a:
        for headers, params, field in (
            ({"Last-Event-ID": "soon"}, {}, "Last-Event-ID"),
            ({"Last-Event-ID": "-1"}, {}, "Last-Event-ID"),
            ({"Last-Event-ID": str(2**63)}, {}, "Last-Event-ID"),
            ({}, {"last_event_id": "x"}, "last_event_id"),
        ):
            answer = await on_a.get(STREAM, headers=bearer(ann) | headers, params=params)
            assert answer.status_code == 422, answer.text
            assert answer.json()["errors"][0]["field"] == field, answer.text
        assert (await on_a.get(STREAM)).status_code == 401
        assert (await on_a.get(STREAM, params={"token": "not-a-token"})).status_code == 401
        tenant_key = api_a.headers["Authorization"]
        assert (await on_a.get(STREAM, headers={"Authorization": tenant_key})).status_code == 401


async def test_a_stream_outlives_a_database_restart(
    own_postgres,  # noqa: F811  (the fixture imported above)
    temporal_env,
):
    """PostgreSQL stopped and started again under an open stream: heartbeats go on while it is
    down, and an event committed once it is back arrives (the listener reconnects by itself)."""
    server, data = own_postgres
    engine = create_engine(server.get_uri(), pool_size=2)
    sessions = session_factory(engine)
    _, key = await new_tenant(sessions)
    settings = Settings(
        database_url=server.get_uri(),
        embedded_worker=False,
        secret_key=SecretStr("inbox-stream-restart-key-0123456789"),
        inbox_stream_heartbeat_seconds=HEARTBEAT_SECONDS,
    )
    app = create_app(settings, temporal=temporal_env.client)
    async with serving(app, key) as api, on_a_port(app) as url:
        ann = await new_recipient(api)
        async with (
            httpx.AsyncClient(base_url=url) as client,
            event_stream(client, STREAM, headers=bearer(ann)) as stream,
        ):
            await stream.next()  # ready
            stop(data)
            down = len(stream.received)
            await asyncio.sleep(3 * HEARTBEAT_SECONDS)
            assert any(s.comment == "heartbeat" for s in stream.received[down:])
            server.ensure_postgres_running()

            for _ in range(20):  # the test's own pool drops its dead connections first
                try:
                    async with sessions.begin() as session:
                        await append_event(
                            session,
                            uuid.UUID(ann["tenant_id"]),
                            uuid.UUID(ann["recipient_id"]),
                            InboxEventKind.DELETED,
                            {"ids": []},
                        )
                    break
                except DBAPIError:
                    await asyncio.sleep(0.25)
            event = await stream.next(timeout=20)  # the listener's backoff is 10 s at most
            assert (event.kind, event.id) == ("messages.deleted", 1), event
    await engine.dispose()
