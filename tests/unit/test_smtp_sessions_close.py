"""Kept SMTP sessions are ended with QUIT when their worker stops, in bounded time."""

import asyncio
import time
from typing import Self

from channels.registry import Providers
from channels.smtp import SmtpEmailProvider
from channels.smtp_sessions import SmtpSessions


class TinySmtpServer:
    """Greets, answers every command with 250 and QUIT with 221 (or, if told, not at all);
    counts the connections open and the QUITs."""

    def __init__(self, answer_quit: bool = True):
        self.answer_quit = answer_quit
        self.open = 0
        self.quits = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        try:
            writer.write(b"220 tiny ESMTP\r\n")
            while line := await reader.readline():
                if line.upper().startswith(b"QUIT"):
                    self.quits += 1
                    if not self.answer_quit:
                        await reader.read()  # silent until the client hangs up
                        break
                    writer.write(b"221 Bye\r\n")
                    await writer.drain()
                    break
                writer.write(b"250 OK\r\n")
                await writer.drain()
        finally:
            writer.close()
            self.open -= 1

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.server is not None  # started on entering
        self.server.close()


def sessions_for(server: TinySmtpServer, **options) -> SmtpSessions:
    return SmtpSessions(
        {
            "hostname": "127.0.0.1",
            "port": server.port,
            "timeout": 5,
            "local_hostname": "herald.test",
        },
        **options,
    )


async def eventually(predicate, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_close_all_ends_each_kept_session_with_quit():
    async with TinySmtpServer() as server:
        sessions = sessions_for(server)
        opened = [await sessions.open() for _ in range(3)]
        for session in opened:
            sessions.give_back(session)
        await eventually(lambda: server.open == 3)

        await sessions.close_all()

        assert server.quits == 3
        assert not any(session.is_connected for session in opened)
        await eventually(lambda: server.open == 0)
        assert sessions.reusable() is None


async def test_close_all_does_not_wait_long_for_a_server_that_ignores_quit():
    async with TinySmtpServer(answer_quit=False) as server:
        sessions = sessions_for(server, quit_seconds=0.3)
        for _ in range(2):
            sessions.give_back(await sessions.open())

        started = time.monotonic()
        await sessions.close_all()

        assert time.monotonic() - started < 1.0  # not the session's 5 s command timeout
        assert server.quits == 2
        await eventually(lambda: server.open == 0)


async def test_a_session_given_back_after_close_all_is_closed_not_kept():
    async with TinySmtpServer() as server:
        sessions = sessions_for(server)
        late = await sessions.open()  # a send still finishing as the worker stops
        await sessions.close_all()
        sessions.give_back(late)

        assert not late.is_connected
        assert sessions.reusable() is None


async def test_providers_close_closes_the_smtp_sessions_and_skips_providers_without_close():
    class Outbox:
        name = "outbox"

        async def send_sms(self, message): ...

    class Failing:
        name = "failing"

        async def send_sms(self, message): ...

        async def close(self):
            raise RuntimeError("boom")

    async with TinySmtpServer() as server:
        smtp = SmtpEmailProvider("127.0.0.1", server.port, local_hostname="herald.test")
        smtp._sessions.give_back(await smtp._sessions.open())  # as a finished send leaves it
        await eventually(lambda: server.open == 1)

        await Providers(
            {"email": {"smtp": smtp}, "sms": {"failing": Failing(), "outbox": Outbox()}}
        ).close()

        assert server.quits == 1
        await eventually(lambda: server.open == 0)


async def test_close_all_with_nothing_kept_returns_at_once():
    async with TinySmtpServer() as server:
        await sessions_for(server).close_all()
        assert server.quits == 0
