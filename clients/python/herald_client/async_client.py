"""`AsyncHerald`: the asyncio client. Strict methods are coroutines raising typed errors;
`notify` is a plain method that returns at once, and a task sends the outbox."""

import asyncio
import contextlib
from types import TracebackType
from typing import Any, TypeVar

import httpx

from herald_client.base import IDLE_SECONDS, BaseClient, log
from herald_client.binding import AsyncRunner
from herald_client.calls import Call, result_of
from herald_client.outcomes import DrainReport
from herald_client.retry import Attempts

T = TypeVar("T")


class AsyncHerald(BaseClient, AsyncRunner):
    """`async with AsyncHerald(url, api_key) as herald: ...`. The outbox's task starts with
    the first `notify` (or at `async with`, to send what an earlier process left);
    `background=False`: no task, `await drain()` sends the outbox."""

    def _open(
        self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None, **options: Any
    ) -> None:
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise TypeError("AsyncHerald takes an httpx.AsyncBaseTransport")
        self._http = httpx.AsyncClient(transport=transport, **options)
        self._wake_up = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    async def _run(self, call: Call[T]) -> T:
        attempts = Attempts(self._retry, call.idempotent)
        while True:
            outcome = await self._send_once(call)
            delay = attempts.wait_before_next(outcome)
            if delay is None:
                return result_of(call, outcome)
            await asyncio.sleep(delay)

    async def _send_once(self, call: Call[Any]) -> httpx.Response | httpx.TransportError:
        try:
            return await self._http.request(**call.httpx_args())
        except httpx.TransportError as exc:
            return exc

    async def drain(self) -> DrainReport:
        """Try every request in the outbox once, now (backoffs ignored); what became of them.
        Never raises on Herald's failures: those not accepted stay for later."""
        return await self._drain(due_only=False)

    async def _drain(self, due_only: bool) -> DrainReport:
        report = DrainReport()
        for row in self.outbox.claimed(due_only):
            try:
                outcome = await self._send_once(row.call)
            except BaseException:  # interrupted (the task cancelled): the row is free again
                self.outbox.release(row)
                raise
            report.add(self.outbox.settle(row, outcome))
        return report

    def _wake(self) -> None:
        if not self._background or self._closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # Called outside the event loop: the row is kept; the task starts with the next
            # notify (or `async with`) made in the loop.
            return
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="herald-client-outbox")
        self._wake_up.set()

    async def _work(self) -> None:
        while True:
            self._wake_up.clear()
            try:
                await self._drain(due_only=True)
                wait = self.outbox.seconds_until_due(IDLE_SECONDS)
            except Exception:
                log.exception("herald_client: the outbox worker failed; trying again")
                wait = 1.0
            with contextlib.suppress(TimeoutError):
                # Not asyncio.wait_for: in Python 3.11 it swallows a cancel that arrives as the
                # wake-up does (CPython gh-86296), and aclose() would then wait for ever.
                async with asyncio.timeout(wait):
                    await self._wake_up.wait()

    async def aclose(self) -> None:
        """Stops the task (what it has not sent stays in the outbox file for next time)."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._http.aclose()
        self.outbox.close()

    async def __aenter__(self) -> "AsyncHerald":
        if self.outbox.pending():  # left by an earlier process: sent from now on
            self._wake()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
