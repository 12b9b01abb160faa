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
