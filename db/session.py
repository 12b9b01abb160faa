"""Engine and session factory. One engine per process, created by whoever owns the process."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def to_async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as pgserver and most hosts give) for psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, got {url.split(':', 1)[0]}://...")


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        # No pre-ping: it costs a round trip per checkout; a dead connection is discarded on
        # its first error and the caller (an activity, or the client of a 5xx) retries.
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=20,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def autocommit(sessions: async_sessionmaker) -> AsyncIterator[AsyncSession]:
    """A session whose statements each commit on their own: for reads and single-statement
    writes, which gain nothing from a transaction but would pay its BEGIN and COMMIT round
    trips (two of a lone UPDATE's three)."""
    async with sessions() as session:
        await without_transaction(session)
        yield session


async def without_transaction(session: AsyncSession) -> None:
    """Make a fresh session's statements commit each on its own (see `autocommit`)."""
    await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
