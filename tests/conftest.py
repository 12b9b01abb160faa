"""Real components for every test: PostgreSQL, a Temporal dev server, an SMTP server, HTTP fakes."""

import asyncio
import os
import socket
import tempfile
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
import pgserver
import psycopg
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from bootstrap import build_worker
from config.settings import Settings
from db.migrate import upgrade
from db.session import create_engine, session_factory
from db.tenants import create_tenant
from devtools.mailcatcher import MailCatcher, start_mailcatcher
from tests.utils.stalls import within
from tests.utils.temporal import TIME_SKIPPING_FLAGS, temporal_binary
from workflows import search_attributes as sa

EAGER = ["--dynamic-config-value", "system.enableActivityEagerExecution=true"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, migrated database: on DATABASE_URL's server when set, else an embedded pgserver."""
    base = os.environ.get("DATABASE_URL")
    server = None
    if not base:
        # "delete": the data directory goes when the session ends (a run leaves nothing in /tmp).
        server = pgserver.get_server(
            Path(tempfile.mkdtemp(prefix="herald-pg-")), cleanup_mode="delete"
        )
        base = server.get_uri()
    name = f"herald_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(base, name)
    upgrade(url)
    yield url
    if server is None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _with_database(url: str, name: str) -> str:
    head, _, query = url.partition("?")
    head = head.rsplit("/", 1)[0] + "/" + name
    return head + ("?" + query if query else "")


@pytest.fixture(scope="session")
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        search_attributes=sa.ALL,
        dev_server_extra_args=EAGER,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=temporal_binary(),
        search_attributes=sa.ALL,
        dev_server_extra_args=TIME_SKIPPING_FLAGS,
    )
    yield env
    await env.shutdown()


class ScriptedMailCatcher(MailCatcher):
    """Refuses messages on demand: queue SMTP replies in `script`, or refuse an address always."""

    port: int  # set once its server listens

    def __init__(self):
        super().__init__()
        self.script: deque[str] = deque()
        self.refused_addresses: dict[str, str] = {}
        self.attempts = 0

    def refusal_for(self, envelope) -> str | None:
        self.attempts += 1
        for address in envelope.rcpt_tos:
            if address in self.refused_addresses:
                return self.refused_addresses[address]
        return self.script.popleft() if self.script else None

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.recipients]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 20.0) -> list:
        await wait_until(
            lambda: len(self.to(address)) >= count, timeout, f"{count} mail(s) to {address}"
        )
        return self.to(address)


@pytest.fixture(scope="session")
def smtp_server():
    handler = ScriptedMailCatcher()
    port = free_port()
    controller = start_mailcatcher(handler, port=port)
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.script.clear()
    smtp_server.refused_addresses.clear()
    return smtp_server


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


OPERATOR_TOKEN = "test-metrics-token-not-for-production"  # every Stack's METRICS_TOKEN
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}  # headers of the operator's requests
# How long a stack's teardown may take: its Workers' grace (WORKER_SHUTDOWN_GRACE_SECONDS, 20 s)
# and bootstrap.SHUTDOWN_OVERRUN (10 s), and more, but within pytest-timeout's 120 s a test
# together with the 10 s its cancelled rest gets (tests/utils/stalls.CANCELLED_TEARDOWN_S).
TEARDOWN_S = 75.0


@dataclass
class Stack:
    """The API in-process, a worker on its own task queue, and one tenant's credentials."""

    api: httpx.AsyncClient
    client: Client
    settings: Settings
    tenant_id: uuid.UUID
    api_key: str
    app: FastAPI | None = None  # the application itself, for tests that change its state

    async def as_tenant(self, key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.api._transport,
            base_url="http://herald",
            headers={"Authorization": f"Bearer {key}"},
        )

    async def health_details(self) -> dict:
        """GET /v1/health/details, as the operator (METRICS_TOKEN)."""
        response = await self.api.get("/v1/health/details", headers=OPERATOR)
        assert response.status_code == 200, response.text
        return response.json()

    async def notification(self, notification_id: str, key: str | None = None) -> dict:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        response = await self.api.get(f"/v1/notifications/{notification_id}", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def wait_for_status(
        self, notification_id: str, *statuses: str, timeout: float = 20.0
    ) -> dict:
        latest: dict = {}

        async def done() -> bool:
            nonlocal latest
            latest = await self.notification(notification_id)
            return latest["status"] in statuses

        deadline = time.monotonic() + timeout
        while not await done():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"notification stayed {latest.get('status')}, wanted {statuses}: {latest}"
                )
            await asyncio.sleep(0.1)
        return latest


async def new_tenant(sessions, name: str = "Acme") -> tuple[uuid.UUID, str]:
    async with sessions.begin() as session:
        tenant, key = await create_tenant(session, name)
    return tenant.id, key


@pytest.fixture
def make_stack(database_url, sessions, smtp_server, tmp_path):
    """Builds a Stack on a given Temporal environment with settings overrides."""

    @asynccontextmanager
    async def build(env: WorkflowEnvironment, **overrides) -> AsyncIterator[Stack]:
        defaults = dict(
            database_url=database_url,
            task_queue=f"herald-test-{uuid.uuid4()}",
            smtp_host="127.0.0.1",
            smtp_port=smtp_server.port,
            sms_outbox_path=str(tmp_path / "sms-outbox.jsonl"),
            # Short retries, few of them: a test waits seconds, not the hour Herald would.
            delivery_retry_initial_seconds=0.1,
            delivery_retry_max_interval_seconds=0.5,
            delivery_max_attempts=4,
            secret_key=SecretStr("test-secret-key-not-for-production"),
            metrics_token=SecretStr(OPERATOR_TOKEN),
            # Each test runs its worker itself, with the options it needs, unless it asks otherwise;
            # in the sandbox, so non-deterministic workflow code fails the suite.
            embedded_worker=False,
            workflow_sandbox=True,
        )
        settings = Settings(**(defaults | overrides))  # a test's own settings win
        tenant_id, key = await new_tenant(sessions)
        app = create_app(settings, temporal=env.client)
        own_worker = (
            nullcontext()
            if settings.embedded_worker
            else build_worker(env.client, settings, sessions)
        )
        async with AsyncExitStack() as running:
            await running.enter_async_context(app.router.lifespan_context(app))
            await running.enter_async_context(own_worker)
            api = await running.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app),
                    base_url="http://herald",
                    headers={"Authorization": f"Bearer {key}"},
                )
            )
            try:
                yield Stack(api, env.client, settings, tenant_id, key, app)
            finally:  # bounded: see tests/utils/stalls.py
                await within(running.pop_all().aclose(), "the stack's teardown", TEARDOWN_S)

    return build


@pytest.fixture
async def stack(make_stack, temporal_env) -> AsyncIterator[Stack]:
    async with make_stack(temporal_env) as built:
        yield built
