"""A LISTEN connection of its own, outside the engine's pool: a LISTENing session must stay open
and idle for as long as the process runs, which a pooled connection is not meant to do. The
inbox's live streams (services/inbox_hub.py, on db/inbox_events.INBOX_CHANNEL) and the status
webhook dispatcher (services/status_webhook_dispatcher.py) each keep one."""

import asyncio
import logging
import random
from collections.abc import AsyncGenerator, Callable

import psycopg

from db.session import to_async_url

log = logging.getLogger("herald.listener")

LISTENING = None  # what `notifications` yields once it listens
FIRST_RETRY_SECONDS = 0.5  # reconnecting: doubling from here...
MAX_RETRY_SECONDS = 10.0  # ... up to this, with jitter so processes do not reconnect in step


def _conninfo(database_url: str) -> str:
    """libpq's URL: the SQLAlchemy dialect's `+psycopg` removed."""
    return "postgresql://" + to_async_url(database_url).removeprefix("postgresql+psycopg://")


async def notifications(
    database_url: str, channel: str, application_name: str
) -> AsyncGenerator[str | None, None]:
    """Yields LISTENING once `channel` is listened to (nothing committed from then on is
    missed), then each notification's payload as it arrives. Raises psycopg.OperationalError
    when the connection is lost (the database restarted)."""
    async with await psycopg.AsyncConnection.connect(
        _conninfo(database_url),
        autocommit=True,
        application_name=application_name,
        # A server that vanished without closing the connection (a host lost, a network
        # partition) is noticed within a minute or so, not after TCP's quarter of an hour.
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
        connect_timeout=10,
    ) as connection:
        await connection.execute(f"LISTEN {channel}")
        yield LISTENING
        async for notification in connection.notifies():
            yield notification.payload


async def keep_listening(
    database_url: str,
    channel: str,
    application_name: str,
    on_notification: Callable[[str | None], None],
) -> None:
    """Forever: LISTEN, and hand each payload to `on_notification`, LISTENING first on every
    (re)connection (what was announced while the connection was down is missed: the caller
    catches up then, from the table the notifications announce). A lost connection is
    reconnected with backoff."""
    delay = FIRST_RETRY_SECONDS
    while True:
        try:
            async for payload in notifications(database_url, channel, application_name):
                if payload is LISTENING:
                    delay = FIRST_RETRY_SECONDS
                on_notification(payload)
        except Exception as error:  # whatever broke, listening must go on
            log.warning("%s: %s; reconnecting in %.1f s", application_name, error, delay)
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(delay * 2, MAX_RETRY_SECONDS)
