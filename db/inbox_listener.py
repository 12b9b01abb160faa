"""The API process's one LISTEN connection on the inbox channel (db/inbox_events.py notifies it).

It is a connection of its own, outside the engine's pool: a LISTENing session must stay open
and idle for as long as the process runs, which a pooled connection is not meant to do.
"""

from collections.abc import AsyncIterator

import psycopg

from db.inbox_events import INBOX_CHANNEL
from db.session import to_async_url

LISTENING = None  # what `inbox_notifications` yields once it listens


def _conninfo(database_url: str) -> str:
    """libpq's URL: the SQLAlchemy dialect's `+psycopg` removed."""
    return "postgresql://" + to_async_url(database_url).removeprefix("postgresql+psycopg://")


async def inbox_notifications(database_url: str) -> AsyncIterator[str | None]:
    """Yields LISTENING once the channel is listened to (nothing committed from then on is
    missed), then each notification's payload, `"<recipient uuid>:<seq>"`, as it arrives.
    Raises psycopg.OperationalError when the connection is lost (the database restarted):
    the caller reconnects, and whoever waits on it catches up from the event log."""
    async with await psycopg.AsyncConnection.connect(
        _conninfo(database_url),
        autocommit=True,
        application_name="herald-inbox-listener",
        # A server that vanished without closing the connection (a host lost, a network
        # partition) is noticed within a minute or so, not after TCP's quarter of an hour.
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
        connect_timeout=10,
    ) as connection:
        await connection.execute(f"LISTEN {INBOX_CHANNEL}")
        yield LISTENING
        async for notification in connection.notifies():
            yield notification.payload
