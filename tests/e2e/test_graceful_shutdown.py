"""SIGTERM lets a worker process finish the sends it has in flight, and close its SMTP sessions.

A real `python worker.py` process, on the session's Temporal dev server and PostgreSQL, sends
through a slow SMTP server: each message is in the server's hands as soon as its DATA has
arrived, but the 250 reply takes seconds (as with an HTTP provider that has acted on a request
before its reply arrives). SIGTERM comes while the sends wait for that reply. A worker that
cancels them leaves the server with the message and the delivery unrecorded, so the retry on
the next worker sends it a second time.

A send's first attempt is a local activity: Temporal's worker waits for those at shutdown
whatever its graceful_shutdown_timeout, so that case passes with or without one and guards
that it stays so. Retries are regular activities, cancelled once graceful_shutdown_timeout
(WORKER_SHUTDOWN_GRACE_SECONDS) has passed: that case sent every message twice without it."""

import asyncio
import os
import signal
import sys
import uuid
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from pydantic import SecretStr

from api.app import create_app
from config.settings import Settings
from tests.conftest import ScriptedMailCatcher, free_port, new_tenant, wait_until
from tests.e2e.test_email_smtp import email_request
from tests.utils.serving import serving

ROOT = Path(__file__).resolve().parents[2]
REPLY_DELAY = 3.0  # seconds the server holds each DATA reply


class SlowMailCatcher(ScriptedMailCatcher):
    """Has a message once its DATA has arrived; replies `reply_delay` seconds later. With
    `refuse_first`, answers each address's first DATA with a 451 at once instead, so that the
    message's next attempt is a retry. Counts the connections open and the QUITs."""

    def __init__(self):
        super().__init__()
        self.reply_delay = REPLY_DELAY
        self.refuse_first = False
        self.refused: set[str] = set()
        self.received: list[str] = []  # recipients, as each accepted DATA arrives
        self.open_connections = 0
        self.quits = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_first and not set(envelope.rcpt_tos) <= self.refused:
            self.refused.update(envelope.rcpt_tos)
            return "451 4.3.0 Try again later"
        self.received.extend(envelope.rcpt_tos)
        await asyncio.sleep(self.reply_delay)
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope) -> str:
        self.quits += 1
        return "221 Bye"

    def connected(self) -> None:
        self.open_connections += 1

    def disconnected(self) -> None:
        self.open_connections -= 1


class _CountingSMTP(SMTPProtocol):
    def connection_made(self, transport):
        self.event_handler.connected()
        super().connection_made(transport)

    def connection_lost(self, exc):
        self.event_handler.disconnected()
        super().connection_lost(exc)


class _CountingController(Controller):
    def factory(self):
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def slow_smtp():
    handler = SlowMailCatcher()
    port = free_port()
    controller = _CountingController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


def worker_env(settings: Settings) -> dict[str, str]:
    secret_key = settings.secret_key
    assert secret_key is not None  # the tests' settings set one
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TASK_QUEUE": settings.task_queue,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "SMS_OUTBOX_PATH": settings.sms_outbox_path,
        "SECRET_KEY": secret_key.get_secret_value(),
        "METRICS_PORT": "0",
        "CIRCUIT_FAILURE_THRESHOLD": "100",  # the 451s of the retry case must not open it
        "WORKFLOW_SANDBOX": "true",
        "PYTHONUNBUFFERED": "1",
    }


class WorkerProcess:
    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        self.output: list[str] = []
        self.polling = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None  # a pipe: the worker is started with one
        async for line in self.process.stderr:
            text = line.decode(errors="replace").rstrip()
            self.output.append(text)
            if "worker polling task queue" in text:
                self.polling.set()

    def log(self) -> str:
        return "\n".join(self.output[-40:])

    async def exited(self, timeout: float) -> int:
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the worker did not exit within {timeout}s:\n{self.log()}"
            ) from None
        await self._reader
        return code

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


@asynccontextmanager
async def worker_process(settings: Settings):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "worker.py",
        cwd=ROOT,
        env=worker_env(settings),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    worker = WorkerProcess(process)
    try:
        try:
            await asyncio.wait_for(worker.polling.wait(), 60)
        except TimeoutError:
            raise AssertionError(
                f"the worker process did not start polling:\n{worker.log()}"
            ) from None
        yield worker
    finally:
        worker.kill()
        await process.wait()


@asynccontextmanager
async def api_without_worker(temporal_env, database_url, sessions, smtp_port: int, tmp_path):
    """The API in-process, starting notifications it does not work itself: only the worker
    processes the test runs do."""
    settings = Settings(
        database_url=database_url,
        temporal_address=temporal_env.client.service_client.config.target_host,
        task_queue=f"herald-shutdown-{uuid.uuid4()}",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        sms_outbox_path=str(tmp_path / "sms-outbox.jsonl"),
        delivery_retry_initial_seconds=0.1,
        delivery_retry_max_interval_seconds=0.5,
        delivery_max_attempts=4,
        secret_key=SecretStr("test-secret-key-not-for-production"),
        embedded_worker=False,
        workflow_sandbox=True,
    )
    _, key = await new_tenant(sessions, "Shutdown")
    async with serving(create_app(settings, temporal=temporal_env.client), key) as api:
        yield api, settings


async def status_of(api: httpx.AsyncClient, notification_id: str) -> str:
    response = await api.get(f"/v1/notifications/{notification_id}")
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def submit(api: httpx.AsyncClient, addresses: list[str]) -> list[str]:
    ids = []
    for address in addresses:
        response = await api.post("/v1/notifications", json=email_request(address))
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    return ids


async def wait_until_sent(
    api: httpx.AsyncClient, ids: list[str], timeout: float = 30.0
) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for _ in range(int(timeout / 0.1)):
        for notification_id in ids:
            statuses[notification_id] = await status_of(api, notification_id)
        if all(status == "sent" for status in statuses.values()):
            break
        await asyncio.sleep(0.1)
    return statuses


# "first attempt": a send's first attempt runs as a local activity, inside the workflow task;
# "retry": after a 451, the next attempt is a regular activity the server hands out.
@pytest.mark.parametrize("attempt", ["first attempt", "retry"])
async def test_sigterm_lets_the_sends_in_flight_finish_and_none_is_sent_twice(
    temporal_env, database_url, sessions, slow_smtp, tmp_path, attempt
):
    slow_smtp.refuse_first = attempt == "retry"
    async with api_without_worker(
        temporal_env, database_url, sessions, slow_smtp.port, tmp_path
    ) as (api, settings):
        addresses = [f"{uuid.uuid4().hex[:8]}@example.com" for _ in range(6)]
        async with worker_process(settings) as first:
            ids = await submit(api, addresses)
            # Every message is with the server, none answered yet: six sends in flight.
            await wait_until(
                lambda: len(slow_smtp.received) == len(addresses), 30, "every DATA at the server"
            )
            assert not slow_smtp.messages
            first.process.send_signal(signal.SIGTERM)
            assert await first.exited(timeout=REPLY_DELAY + 20) == 0, first.log()
            answered_before_exit = len(slow_smtp.messages)

        async with worker_process(settings):  # takes over whatever the first one left
            statuses = await wait_until_sent(api, ids)
            # Whatever the second worker was going to send again, it has had the time to.
            await asyncio.sleep(REPLY_DELAY + 1)

    received = Counter(slow_smtp.received)
    assert {address: received[address] for address in addresses} == {
        address: 1 for address in addresses
    }
    assert answered_before_exit == len(addresses)  # the first worker waited for every reply
    assert set(statuses.values()) == {"sent"}, statuses


async def test_a_stopped_worker_process_quits_its_smtp_sessions(
    temporal_env, database_url, sessions, slow_smtp, tmp_path
):
    slow_smtp.reply_delay = 0.5  # three sends at once: three sessions, kept for the next ones
    running = api_without_worker(temporal_env, database_url, sessions, slow_smtp.port, tmp_path)
    async with running as (api, settings), worker_process(settings) as worker:
        ids = await submit(api, [f"{uuid.uuid4().hex[:8]}@example.com" for _ in range(3)])
        assert set((await wait_until_sent(api, ids)).values()) == {"sent"}
        kept = slow_smtp.open_connections
        assert kept >= 1
        worker.process.send_signal(signal.SIGTERM)
        assert await worker.exited(timeout=20) == 0, worker.log()

    await wait_until(lambda: slow_smtp.open_connections == 0, 5, "every session closed")
    # Each kept session was ended politely (QUIT), not merely dropped when the process exited.
    assert slow_smtp.quits == kept


async def test_the_api_s_embedded_worker_quits_its_smtp_sessions_when_the_api_stops(
    temporal_env, database_url, sessions, slow_smtp, tmp_path
):
    slow_smtp.reply_delay = 0
    settings = Settings(
        database_url=database_url,
        task_queue=f"herald-shutdown-{uuid.uuid4()}",
        smtp_host="127.0.0.1",
        smtp_port=slow_smtp.port,
        sms_outbox_path=str(tmp_path / "sms-outbox.jsonl"),
        secret_key=SecretStr("test-secret-key-not-for-production"),
        embedded_worker=True,
        workflow_sandbox=True,
    )
    _, key = await new_tenant(sessions, "Embedded")
    async with serving(create_app(settings, temporal=temporal_env.client), key) as api:
        ids = await submit(api, [f"{uuid.uuid4().hex[:8]}@example.com" for _ in range(2)])
        assert set((await wait_until_sent(api, ids)).values()) == {"sent"}
        kept = slow_smtp.open_connections
        assert kept >= 1
    # The API has stopped, this process goes on: nothing but the shutdown closed the sessions.
    await wait_until(lambda: slow_smtp.open_connections == 0, 5, "every session closed")
    assert slow_smtp.quits == kept
