"""The client library's tests: Herald's stack served by uvicorn on a real port (the client
speaks HTTP, as a caller's service does), and helpers to count what Herald stored."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Notification
from tests.conftest import Stack
from tests.utils.serving import on_a_port


@dataclass(frozen=True)
class Served:
    stack: Stack
    url: str

    @property
    def key(self) -> str:
        return self.stack.api_key


@pytest.fixture
async def herald(stack) -> AsyncIterator[Served]:
    """Herald (the test stack: API, worker, PostgreSQL, Temporal) listening on a free port."""
    assert stack.app is not None
    async with on_a_port(stack.app) as url:
        yield Served(stack, url)


@pytest.fixture
def outbox_path(tmp_path) -> Path:
    return tmp_path / "outbox" / "herald.sqlite3"


async def notifications_with_key(sessions, tenant_id: uuid.UUID, key: str) -> int:
    """How many notifications Herald stored for this Idempotency-Key."""
    async with sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.tenant_id == tenant_id, Notification.idempotency_key == key)
            )
            or 0
        )


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
