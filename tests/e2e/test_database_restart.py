"""PostgreSQL restarted under the API: every request answers 503 with a clear message while it
is down (never a 500), and the connection pool recovers by itself once it is back."""

import asyncio
import os
import signal
import tempfile
import time
from pathlib import Path

import pgserver
import pytest
from pydantic import SecretStr

from api.app import create_app
from config.settings import Settings
from db.migrate import upgrade
from db.session import create_engine, session_factory
from tests.conftest import new_tenant
from tests.e2e.test_email_smtp import email_request
from tests.utils.serving import serving


@pytest.fixture
def own_postgres():
    """A PostgreSQL of this test's own, to stop and start (under /tmp as tests/conftest.py's:
    pytest's tmp_path is not reachable by the server's own user)."""
    data = Path(tempfile.mkdtemp(prefix="herald-pg-restart-")) / "pg"
    server = pgserver.get_server(data, cleanup_mode="stop")
    upgrade(server.get_uri())
    yield server, data
    server.ensure_postgres_running()  # so that its cleanup finds it


def stop(data: Path) -> None:
    """A fast shutdown (SIGINT to the postmaster), as a restart by an operator begins."""
    pid = int((data / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("postgres did not stop")


async def test_the_api_answers_503_while_postgres_is_down_and_recovers(own_postgres, temporal_env):
    server, data = own_postgres
    engine = create_engine(server.get_uri(), pool_size=2)
    _, key = await new_tenant(session_factory(engine))
    await engine.dispose()
    settings = Settings(
        database_url=server.get_uri(),
        embedded_worker=False,
        secret_key=SecretStr("database-restart-test-key-0123456789"),
    )
    app = create_app(settings, temporal=temporal_env.client)
    async with serving(app, key) as api:
        assert (await api.get("/v1/logs")).status_code == 200  # the pool holds connections now

        stop(data)
        answers = [
            await api.get("/v1/logs"),
            await api.get("/v1/templates"),
            await api.post("/v1/notifications", json=email_request("down@example.com")),
            await api.put("/v1/recipients/r-1", json={"email": "r1@example.com"}),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json()["code"] == "database_unavailable", answer.text
            assert answer.headers["Retry-After"] == "5"
            assert "Traceback" not in answer.text
        assert (await api.get("/v1/health")).status_code == 503

        server.ensure_postgres_running()
        codes = []
        for _ in range(20):  # the pool drops the dead connections and reconnects
            codes.append((await api.get("/v1/logs")).status_code)
            if codes[-1] == 200:
                break
            await asyncio.sleep(0.25)
        assert codes[-1] == 200 and set(codes) <= {200, 503}, codes
        after = [(await api.get("/v1/logs")).status_code for _ in range(10)]
        assert after == [200] * 10
        # Nothing the refused requests tried was written.
        assert (await api.get("/v1/recipients/r-1")).status_code == 404
