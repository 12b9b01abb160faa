"""`make run`'s development login: an owner of the development tenant, made on the first run
(when the tenant has no operator yet) with a drawn password kept in .data/, so every run prints
the same login."""

import secrets
from dataclasses import dataclass
from pathlib import Path

from db.api_keys import tenant_for_key
from db.session import create_engine, session_factory
from domain.operators import Role
from services.operators import NewOperator, create_operator, has_operators

DEV_OWNER_EMAIL = "owner@example.com"


@dataclass(frozen=True)
class DevLogin:
    email: str
    password: str | None  # None: the team was made otherwise, this checkout knows no password


async def ensure_dev_owner(database_url: str, api_key: str, data: Path) -> DevLogin:
    """The development owner of the tenant of `api_key` (the development tenant)."""
    password_file = data / "dev-owner-password"
    engine = create_engine(database_url, pool_size=1)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            tenant = await tenant_for_key(session, api_key)
        assert tenant is not None, "the development key's tenant"
        tenant_id = tenant.id
        if await has_operators(sessions, tenant_id):
            known = password_file.read_text().strip() if password_file.exists() else None
            return DevLogin(DEV_OWNER_EMAIL, known)
        password = secrets.token_urlsafe(12)
        new = NewOperator(tenant_id, DEV_OWNER_EMAIL, "Development owner", Role.OWNER, password)
        await create_operator(sessions, new, "make run")
    finally:
        await engine.dispose()
    password_file.write_text(password)
    password_file.chmod(0o600)
    return DevLogin(DEV_OWNER_EMAIL, password)


def login_lines(login: DevLogin) -> str:
    password = login.password or "(unknown here: set with `herald user create` or a reset)"
    return f"  Dashboard login {login.email} / {password}"
