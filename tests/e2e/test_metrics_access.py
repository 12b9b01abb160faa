"""What is open without a key (issue 11): /metrics and the detailed health answer only to the
operator's METRICS_TOKEN; the public health reads no table and names nothing of a tenant; a
worker's metrics listen on loopback unless told otherwise."""

import asyncio
import socket
import time
import uuid

import httpx
import pytest
from psycopg.errors import DeadlockDetected, LockNotAvailable
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RetryConfig

from bootstrap import serve_worker_metrics
from config.settings import Settings
from tests.conftest import OPERATOR, OPERATOR_TOKEN, free_port
from tests.e2e.test_email_smtp import email_request

PUBLIC_HEALTH = {"status": "ok", "database": {"status": "ok"}, "temporal": {"status": "ok"}}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: httpx.Response, invalid_token: bool) -> None:
    """401, the Bearer challenge (with RFC 6750's invalid_token when a credential was sent),
    and nothing of the metrics or the report."""
    assert response.status_code == 401, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert ('error="invalid_token"' in challenge) is invalid_token
    assert response.json()["code"] == "unauthorized"
    assert "herald_" not in response.text and "backlog" not in response.text


@pytest.mark.parametrize("path", ["/metrics", "/v1/health/details"])
async def test_the_operator_routes_answer_only_to_the_metrics_token(stack, path):
    assert_refused(await stack.api.get(path, headers={"Authorization": ""}), invalid_token=False)
    assert_refused(await stack.api.get(path, headers={"Authorization": "Basic b3A6b3A="}), False)
    # A tenant's own valid API key is not the operator's: these views span every tenant.
    assert_refused(await stack.api.get(path, headers=bearer(stack.api_key)), invalid_token=True)
    assert_refused(await stack.api.get(path, headers=bearer(OPERATOR_TOKEN[:-1])), True)
    assert_refused(await stack.api.get(path, headers=bearer(OPERATOR_TOKEN + "x")), True)

    allowed = await stack.api.get(path, headers=OPERATOR)
    assert allowed.status_code == 200, allowed.text
    if path == "/metrics":
        assert allowed.headers["content-type"].startswith("text/plain")
        assert "herald_http_requests_total" in allowed.text
    else:
        assert {"database", "temporal", "providers", "backlog", "alerts"} <= set(allowed.json())


async def test_without_a_metrics_token_the_operator_routes_do_not_exist(make_stack, temporal_env):
    async with make_stack(temporal_env, metrics_token=None) as stack:
        for path in ("/metrics", "/v1/health/details"):
            for headers in ({"Authorization": ""}, OPERATOR, bearer(stack.api_key)):
                response = await stack.api.get(path, headers=headers)
                assert response.status_code == 404, (path, response.text)
                assert "herald_" not in response.text
        public = await stack.api.get("/v1/health", headers={"Authorization": ""})
        assert public.status_code == 200 and public.json() == PUBLIC_HEALTH


async def test_no_tenants_event_key_reaches_a_response_outside_its_key(stack, smtp):
    """A tenant's event keys are its business: not in the public health, not in the
    operator's metrics or report either (a label per event key would also let callers
    grow the series without bound). Nor does a made-up HTTP method become a label."""
    event_key = f"confidential_{uuid.uuid4().hex[:10]}.launch"
    to = f"{uuid.uuid4().hex[:8]}@example.com"
    sent = await stack.api.post("/v1/notifications", json=email_request(to, event_key=event_key))
    assert sent.status_code == 202, sent.text
    await stack.wait_for_status(sent.json()["id"], "sent")
    made_up = f"M{uuid.uuid4().hex[:8].upper()}"
    assert (await stack.api.request(made_up, "/v1/notifications")).status_code == 405

    metrics = (await stack.api.get("/metrics", headers=OPERATOR)).text
    answers = {
        "public health": (await stack.api.get("/v1/health", headers={"Authorization": ""})).text,
        "metrics": metrics,
        "health details": str(await stack.health_details()),
        "metrics refused": (await stack.api.get("/metrics", headers={"Authorization": ""})).text,
    }
    for name, body in answers.items():
        assert event_key not in body and "confidential_" not in body, name
    assert 'herald_notifications_accepted_total{priority="normal"}' in metrics
    assert made_up not in metrics
    assert 'method="other",route="/v1/notifications",status="405"' in metrics


async def lock_every_table(sessions) -> AsyncSession:
    """A session holding every table of Herald's in ACCESS EXCLUSIVE mode; the caller closes it
    (then `until_no_lock_is_awaited`). LOCK takes the tables one by one, so Herald's own
    background work (the outbox, the inbox listeners, a workflow's local activity) may hold one
    and want another. Each attempt gives up after lock_timeout, shorter than PostgreSQL's
    deadlock_timeout (1 s), so this side yields before a deadlock check would fail either side,
    and tries again."""
    for attempt in range(1, 21):
        session = sessions()
        try:
            await session.begin()
            await session.execute(text("SET LOCAL lock_timeout = '300ms'"))
            tables = (
                await session.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
            names = ", ".join(f'"{name}"' for name in tables)
            await session.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
            await session.execute(text("SET LOCAL lock_timeout = 0"))
            return session
        except OperationalError as error:
            await session.close()
            if not isinstance(error.orig, LockNotAvailable | DeadlockDetected) or attempt == 20:
                raise
            await asyncio.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


async def until_no_lock_is_awaited(sessions, timeout: float = 10.0) -> None:
    """Let the work the locks held up go on before the stack stops: a Worker shut down with a
    local activity still running can hang (a race in Temporal's Core: the activity's cancel is
    dropped and the shutdown waits for it forever; temporalio/sdk-python#1837)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with sessions() as session:
            waiting = (
                await session.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            ).scalar_one()
        if not waiting:
            return
        await asyncio.sleep(0.05)


async def test_the_public_health_reads_no_table(stack, sessions):
    """Every table of Herald's is locked against readers; a count would wait for the lock.
    The public health answers at once, with only the documented fields."""
    locker = await lock_every_table(sessions)
    try:
        # The lock is real: what the detailed health counts cannot be read meanwhile.
        with pytest.raises(OperationalError, match="lock timeout"):
            async with sessions.begin() as reader:
                await reader.execute(text("SET LOCAL lock_timeout = '200ms'"))
                await reader.execute(text("SELECT count(*) FROM notifications"))

        started = time.monotonic()
        response = await asyncio.wait_for(
            stack.api.get("/v1/health", headers={"Authorization": ""}), timeout=5
        )
        elapsed = time.monotonic() - started
    finally:
        await locker.close()
        await until_no_lock_is_awaited(sessions)
    assert response.status_code == 200, response.text
    assert response.json() == PUBLIC_HEALTH  # no counts, names, providers or reasons
    assert elapsed < 1.5, f"the public health took {elapsed:.2f}s"


async def test_the_public_health_shares_one_answer_for_a_second_then_reports_down(stack):
    public = {"Authorization": ""}
    assert (await stack.api.get("/v1/health", headers=public)).json() == PUBLIC_HEALTH
    reachable = stack.app.state.temporal
    stack.app.state.temporal = await Client.connect(
        f"127.0.0.1:{free_port()}",  # nothing listens there
        lazy=True,
        retry_config=RetryConfig(max_retries=0),
    )
    try:
        # Within the second, callers share the answer already worked out: no new check.
        shared = await asyncio.gather(
            *(stack.api.get("/v1/health", headers=public) for _ in range(20))
        )
        assert {r.status_code for r in shared} == {200}
        await asyncio.sleep(1.1)
        started = time.monotonic()
        down = await stack.api.get("/v1/health", headers=public)
        elapsed = time.monotonic() - started
    finally:
        stack.app.state.temporal = reachable
    assert down.status_code == 503, down.text
    assert down.json() == {
        "status": "down",
        "database": {"status": "ok"},
        "temporal": {"status": "down"},
    }
    assert elapsed < 2, f"an unreachable Temporal held the public health {elapsed:.2f}s"


def _non_loopback_address() -> str | None:
    """This host's address on its outward interface, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: routing only
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def test_a_workers_metrics_listen_on_loopback_unless_told_otherwise():
    port = free_port()
    server = serve_worker_metrics(Settings(metrics_port=port))
    assert server is not None
    try:
        assert server.server_address[:2] == ("127.0.0.1", port)
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"http://127.0.0.1:{port}/metrics")
        assert answer.status_code == 200 and "herald_deliveries_total" in answer.text
        outward = _non_loopback_address()
        if outward is not None:  # another interface of this host finds nothing listening
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((outward, port), timeout=2).close()
    finally:
        server.shutdown()
        server.server_close()

    widened = serve_worker_metrics(
        Settings(metrics_port=free_port(), worker_metrics_address="0.0.0.0")
    )
    assert widened is not None
    try:
        assert widened.server_address[0] == "0.0.0.0"
    finally:
        widened.shutdown()
        widened.server_close()
    assert serve_worker_metrics(Settings(metrics_port=0)) is None


def test_a_metrics_token_is_unset_when_empty_and_refused_when_short(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "")  # as Compose passes an unset ${METRICS_TOKEN:-}
    assert Settings().metrics_token is None
    monkeypatch.setenv("METRICS_TOKEN", "short")
    with pytest.raises(ValidationError, match="METRICS_TOKEN must be 16"):
        Settings()
    monkeypatch.setenv("METRICS_TOKEN", "a" * 16)
    token = Settings().metrics_token
    assert token is not None and token.get_secret_value() == "a" * 16


async def test_the_openapi_document_says_who_may_read_which_health(stack):
    paths = (await stack.api.get("/openapi.json")).json()["paths"]
    public, details = paths["/v1/health"]["get"], paths["/v1/health/details"]["get"]
    assert "security" not in public and "401" not in public["responses"]
    assert public["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/HealthPublic"
    )
    assert details["security"] == [{"HTTPBearer": []}]
    assert {"401", "404", "503"} <= set(details["responses"])
    assert "/metrics" not in paths
