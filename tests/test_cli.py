"""`herald tenant create NAME` prints a key that authenticates as the new tenant."""

import os
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
