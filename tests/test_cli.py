"""`herald tenant create NAME` prints a key that authenticates as the new tenant."""

import os
import re
import subprocess
import sys

from db.api_keys import tenant_for_key


async def test_tenant_create_prints_a_working_key(database_url, sessions):
    result = subprocess.run(
        [sys.executable, "-m", "cli", "tenant", "create", "Clinic Berlin"],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.split("api key: ")[1].strip()
    async with sessions() as session:
        tenant = await tenant_for_key(session, key)
    assert tenant is not None and tenant.name == "Clinic Berlin"
    assert key not in result.stderr


async def test_user_create_makes_an_operator_who_can_sign_in(database_url, sessions):
    from db.tenants import create_tenant
    from services.operator_sessions import SignedIn, SignIn, sign_in

    async with sessions.begin() as session:
        tenant, _ = await create_tenant(session, "Clinic Hamburg")

    def user_create(*options: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "cli", "user", "create", "--tenant", str(tenant.id), *options],
            env={**os.environ, "DATABASE_URL": database_url},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    drawn = user_create("--email", "Boss@Example.com", "--role", "owner")
    assert drawn.returncode == 0, drawn.stderr
    assert "boss@example.com (owner)" in drawn.stdout
    password = drawn.stdout.split("password: ")[1].strip()
    signed = await sign_in(sessions, SignIn("boss@example.com", password, "192.0.2.1"))
    assert isinstance(signed, SignedIn) and signed.operator.tenant_id == tenant.id

    chosen = user_create(
        "--email", "ed@example.com", "--role", "editor", "--password-stdin",
        stdin="a passphrase from stdin\n",
    )  # fmt: skip
    assert chosen.returncode == 0 and "password:" not in chosen.stdout
    signed = await sign_in(
        sessions, SignIn("ed@example.com", "a passphrase from stdin", "192.0.2.1")
    )
    assert isinstance(signed, SignedIn) and signed.operator.name == "ed"

    # Checked as the dashboard's forms check it; an address already on the team is refused.
    short = user_create(
        "--email", "x@example.com", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1 and "--password: must be at least 12 characters" in short.stderr
    again = user_create("--email", "boss@example.com", "--role", "viewer")
    assert again.returncode == 1 and "is already a member of this team" in again.stderr


async def test_make_run_creates_and_prints_one_development_login(database_url, sessions, tmp_path):
    from db.tenants import create_tenant
    from devtools.dev_owner import ensure_dev_owner, login_lines
    from services.operator_sessions import SignedIn, SignIn, sign_in

    async with sessions.begin() as session:
        tenant, key = await create_tenant(session, "Development")
    first = await ensure_dev_owner(database_url, key, tmp_path)
    again = await ensure_dev_owner(database_url, key, tmp_path)
    assert first == again and first.password  # the same login on every run
    assert f"{first.email} / {first.password}" in login_lines(first)
    signed = await sign_in(sessions, SignIn(first.email, first.password, "192.0.2.2"))
    assert isinstance(signed, SignedIn) and signed.operator.role == "owner"
    assert signed.operator.tenant_id == tenant.id


async def test_broadcast_watch_shows_live_progress_until_the_broadcast_finishes(
    database_url, sessions
):
    """`herald broadcast watch ID` redraws its bar as the broadcast's row advances (a terminal
    is simulated: TTY_COMPATIBLE) and ends when the broadcast does, with its counts."""
    import asyncio
    import uuid

    import psycopg

    from db.tenants import create_tenant
    from tests.conftest import wait_until

    async with sessions.begin() as session:
        tenant, _ = await create_tenant(session, "Clinic Munich")
    broadcast_id = uuid.uuid4()
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(
            "INSERT INTO broadcasts (id, tenant_id, idempotency_key, request_digest, event_key, "
            "priority, audience_kind, workflow_id, status, total, planned, sent, started_at) "
            "VALUES (%s, %s, 'k', '\\x00', 'news', 'normal', 'tenant', 'wf', 'running', 50, 10, "
            "10, now() - interval '10 seconds')",
            (broadcast_id, tenant.id),
        )

    async def advance(sql: str) -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await conn.execute(f"UPDATE broadcasts SET {sql} WHERE id = %s", (broadcast_id,))

    terminal = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "160"}
    watch = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli", "broadcast", "watch", str(broadcast_id), "--every", "0.1"),
        env={**os.environ, "DATABASE_URL": database_url, **terminal},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    shown = bytearray()

    async def read() -> None:
        assert watch.stdout is not None
        while chunk := await watch.stdout.read(4096):
            shown.extend(chunk)

    reader = asyncio.create_task(read())
    await wait_until(lambda: b"10/50" in shown, timeout=60, what="the first progress")
    # 10 written since it started: the 40 left take 40 / rate seconds.
    rate, eta = re.search(r"([0-9.]+)/s · ETA (\d+)s", shown.decode()).groups()  # type: ignore[union-attr]
    assert 0.1 < float(rate) <= 1 and abs(int(eta) - 40 / float(rate)) <= 40 / float(rate) * 0.05
    await advance("planned = 30, sent = 28, failed = 2")
    await wait_until(lambda: b"30/50" in shown, timeout=20, what="the progress redrawn")
    await advance("planned = 50, sent = 47, failed = 3, status = 'completed', finished_at = now()")
    assert await asyncio.wait_for(watch.wait(), timeout=20) == 0
    await reader
    assert (
        f"broadcast {broadcast_id} completed: 50/50 recipients, 47 sent, 0 suppressed, "
        "0 deferred, 3 failed"
    ) in shown.decode()

    # A broadcast that does not complete exits 1; an unknown one says so.
    await advance("status = 'cancelled'")
    cancelled = subprocess.run(
        [sys.executable, "-m", "cli", "broadcast", "watch", str(broadcast_id)],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cancelled.returncode == 1 and f"broadcast {broadcast_id} cancelled" in cancelled.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "cli", "broadcast", "watch", str(uuid.uuid4())],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1 and "not found" in unknown.stderr
