"""Open SMTP sessions, kept for the next message.

A new session costs a TCP connect, the greeting, EHLO (and STARTTLS and AUTH where
configured): several round trips and about half the CPU of a send. An SMTP session may
carry any number of messages (RFC 5321 3.3), so finished sessions wait here for reuse.
Idle ones are closed before servers usually drop them (RFC 5321 4.5.3.2.7 lets a server
give up after 5 minutes). When their worker stops, `close_all` ends them with QUIT."""

import asyncio
import logging
import time
from dataclasses import dataclass

import aiosmtplib

log = logging.getLogger(__name__)


@dataclass
class _Idle:
    session: aiosmtplib.SMTP
    since: float


class SmtpSessions:
    def __init__(
        self, options: dict, keep: int = 10, idle_seconds: float = 60.0, quit_seconds: float = 2.0
    ):
        self._options = options
        self._keep = keep
        self._idle_seconds = idle_seconds
        self._quit_seconds = quit_seconds  # for all the QUITs of close_all together
        self._idle: list[_Idle] = []
        self._closed = False

    async def open(self) -> aiosmtplib.SMTP:
        session = aiosmtplib.SMTP(**self._options)
        await session.connect()
        return session

    def reusable(self) -> aiosmtplib.SMTP | None:
        """The most recently used session that is still open and fresh, if any."""
        now = time.monotonic()
        while self._idle:
            idle = self._idle.pop()
            if idle.session.is_connected and now - idle.since < self._idle_seconds:
                return idle.session
            idle.session.close()
        return None

    def give_back(self, session: aiosmtplib.SMTP) -> None:
        if session.is_connected and len(self._idle) < self._keep and not self._closed:
            self._idle.append(_Idle(session, time.monotonic()))
        else:
            session.close()

    async def close_all(self) -> None:
        """End every kept session politely, with QUIT (RFC 5321 4.1.1.10), all at once and
        within `quit_seconds`: a server slower than that is simply disconnected. Sessions
        given back afterwards are closed, not kept."""
        self._closed = True
        idle, self._idle = self._idle, []
        try:
            async with asyncio.timeout(self._quit_seconds):
                await asyncio.gather(*(_quit(i.session) for i in idle if i.session.is_connected))
        except TimeoutError:
            log.warning("no reply to QUIT within %ss: SMTP sessions closed", self._quit_seconds)
        finally:
            for i in idle:
                i.session.close()  # a no-op for those that said goodbye


async def _quit(session: aiosmtplib.SMTP) -> None:
    try:
        await session.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass  # the server went first, or refused QUIT: closed right after all the same
