"""Open SMTP sessions, kept for the next message.

A new session costs a TCP connect, the greeting, EHLO (and STARTTLS and AUTH where
configured): several round trips and about half the CPU of a send. An SMTP session may
carry any number of messages (RFC 5321 3.3), so finished sessions wait here for reuse.
Idle ones are closed before servers usually drop them (RFC 5321 4.5.3.2.7 lets a server
give up after 5 minutes)."""

import time
from dataclasses import dataclass

import aiosmtplib


@dataclass
class _Idle:
    session: aiosmtplib.SMTP
    since: float


class SmtpSessions:
    def __init__(self, options: dict, keep: int = 10, idle_seconds: float = 60.0):
        self._options = options
        self._keep = keep
        self._idle_seconds = idle_seconds
        self._idle: list[_Idle] = []

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
        if session.is_connected and len(self._idle) < self._keep:
            self._idle.append(_Idle(session, time.monotonic()))
        else:
            session.close()

    def close_all(self) -> None:
        for idle in self._idle:
            idle.session.close()
        self._idle.clear()
