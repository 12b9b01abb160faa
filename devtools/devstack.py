"""`make run`: the whole stack on embedded defaults, under `.data/`, stopped cleanly by Ctrl-C.

PostgreSQL (pgserver) unless DATABASE_URL is set, the Temporal dev server with its Web UI
unless TEMPORAL_ADDRESS is set, an SMTP catcher on :1025, migrations, the worker and the API.
"""

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from temporalio.client import Client

from db.api_keys import tenant_for_key
from db.migrate import upgrade
from db.session import create_engine, session_factory
from db.tenants import create_tenant
from devtools.dev_owner import DevLogin, ensure_dev_owner, login_lines
from devtools.mailcatcher import MailCatcher, start_mailcatcher
from temporal_clients.setup import register_search_attributes

DATA = Path(".data")
MAIL = DATA / "mail"  # the SMTP catcher's messages, one .eml file each
TEMPORAL_PORT, TEMPORAL_UI_PORT, API_PORT, SMTP_PORT = 7233, 8233, 8000, 1025


def embedded_database_url() -> str:
    """The pgserver under .data/pg, started if needed (shared with other processes that ask)."""
    import pgserver  # imported here: only the embedded default needs it

    return pgserver.get_server(DATA / "pg").get_uri()


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing is listening on port {port} after {timeout}s")


def _start_temporal() -> subprocess.Popen:
    binary = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    process = subprocess.Popen(
        [
            binary,
            "server",
            "start-dev",
            "--db-filename",
            str(DATA / "temporal.db"),
            "--port",
            str(TEMPORAL_PORT),
            "--ui-port",
            str(TEMPORAL_UI_PORT),
            "--log-level",
            "warn",
            "--dynamic-config-value",
            "system.enableActivityEagerExecution=true",
        ],
        # Open as long as the server runs: the process writes its log through this handle.
        stdout=open(DATA / "temporal.log", "ab"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _wait_for_port(TEMPORAL_PORT)
    return process


async def _dev_api_key(database_url: str) -> str:
    """One development tenant; its key is kept in .data/ so a second run prints the same one."""
    key_file = DATA / "dev-api-key"
    engine = create_engine(database_url, pool_size=1)
    sessions = session_factory(engine)
    try:
        async with sessions.begin() as session:
            if key_file.exists() and await tenant_for_key(session, key_file.read_text().strip()):
                return key_file.read_text().strip()
            _, key = await create_tenant(session, "Development")
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
    finally:
        await engine.dispose()


def _dev_secret(name: str) -> str:
    """A random secret for this checkout, kept so it stays the same across runs (links signed
    with SECRET_KEY stay valid; a scraper keeps its METRICS_TOKEN)."""
    key_file = DATA / name
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


async def _prepare_temporal(address: str) -> None:
    client = await Client.connect(address)
    await register_search_attributes(client)


def main() -> None:
    DATA.mkdir(exist_ok=True)
    children: list[subprocess.Popen] = []
    env = dict(os.environ)
    database_url = env.get("DATABASE_URL") or embedded_database_url()
    env["DATABASE_URL"] = database_url
    if not env.get("TEMPORAL_ADDRESS"):
        children.append(_start_temporal())
        env["TEMPORAL_ADDRESS"] = f"localhost:{TEMPORAL_PORT}"
    env.setdefault("SMS_OUTBOX_PATH", str(DATA / "sms-outbox.jsonl"))
    env["DEV_MAILBOX_PATH"] = str(MAIL)  # the dashboard's Dev mailbox reads the catcher's files
    env.setdefault("SECRET_KEY", _dev_secret("secret-key"))
    env.setdefault("METRICS_TOKEN", _dev_secret("metrics-token"))
    try:
        asyncio.run(_prepare_temporal(env["TEMPORAL_ADDRESS"]))
        upgrade(database_url)
        key = asyncio.run(_dev_api_key(database_url))
        login = asyncio.run(ensure_dev_owner(database_url, key, DATA))
        catcher = start_mailcatcher(MailCatcher(MAIL), port=SMTP_PORT)
        # Own sessions: Ctrl-C reaches only this process, which then stops the API,
        # the worker and Temporal in that order (a worker outliving Temporal hangs).
        children.append(
            subprocess.Popen([sys.executable, "worker.py"], env=env, start_new_session=True)
        )
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "api.main:app",
                    "--port",
                    str(API_PORT),
                    "--log-level",
                    "warning",
                ],
                env=env,
                start_new_session=True,
            )
        )
        _wait_for_port(API_PORT)
        _print_summary(env, key, login)
        _wait_for_interrupt(children)
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if "catcher" in locals():
            catcher.stop()
        print("\nHerald stopped; data kept in .data/")


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def _wait_for_interrupt(children: list[subprocess.Popen]) -> None:
    # Explicit handlers: a shell that starts us in the background may have set SIGINT to ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a Herald process exited; stopping the stack", file=sys.stderr)
    except KeyboardInterrupt:
        pass


def _print_summary(env: dict, key: str, login: DevLogin) -> None:
    temporal_ui = (
        f"http://localhost:{TEMPORAL_UI_PORT}"
        if env["TEMPORAL_ADDRESS"] == f"localhost:{TEMPORAL_PORT}"
        else f"(external Temporal at {env['TEMPORAL_ADDRESS']})"
    )
    database = (
        "(from DATABASE_URL)" if os.environ.get("DATABASE_URL") else "embedded, data in .data/pg"
    )
    print(
        f"""
Herald is running.
  API            http://localhost:{API_PORT}   (OpenAPI docs: http://localhost:{API_PORT}/docs)
  Dashboard      http://localhost:{API_PORT}/dashboard
  Temporal UI    {temporal_ui}
  Temporal       {env["TEMPORAL_ADDRESS"]}
  PostgreSQL     {database}
  SMTP catcher   localhost:{SMTP_PORT}; received mail is saved in {MAIL}/*.eml and shown at
                 http://localhost:{API_PORT}/dashboard/dev-mailbox
  SMS outbox     {env["SMS_OUTBOX_PATH"]}
  API key        {key}
{login_lines(login)}
  Metrics        curl -H 'Authorization: Bearer {env["METRICS_TOKEN"]}' \\
                   http://localhost:{API_PORT}/metrics   (also /v1/health/details)

Try:
  curl -s -X POST http://localhost:{API_PORT}/v1/notifications \\
    -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\
    -d '{{"recipient": {{"email": "ada@example.com"}}, "event_key": "payment.completed",
         "channels": ["email"],
         "context": {{"subject": "Payment received", "message": "Thanks!"}}}}'

Ctrl-C stops everything.""",
        flush=True,
    )
