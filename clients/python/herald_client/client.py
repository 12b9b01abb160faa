"""`Herald`: the synchronous client. Strict methods block and raise typed errors; `notify`
returns at once, and a background thread sends the outbox."""

import threading
import time
from types import TracebackType
from typing import Any, TypeVar

import httpx

from herald_client.base import IDLE_SECONDS, BaseClient, log
from herald_client.binding import SyncRunner
from herald_client.calls import Call, result_of
from herald_client.outcomes import DrainReport
from herald_client.retry import Attempts

T = TypeVar("T")


class Herald(BaseClient, SyncRunner):
    """`Herald("https://herald.example.com", api_key)`. `background=False`: no worker thread;
    call `drain()` to send the outbox (a script before it exits)."""

    def _open(
        self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None, **options: Any
    ) -> None:
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            raise TypeError("Herald takes an httpx.BaseTransport")
        self._http = httpx.Client(transport=transport, **options)
        self._wake_up = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()

    def _run(self, call: Call[T]) -> T:
        attempts = Attempts(self._retry, call.idempotent)
        while True:
            outcome = self._send_once(call)
            delay = attempts.wait_before_next(outcome)
            if delay is None:
                return result_of(call, outcome)
            time.sleep(delay)

    def _send_once(self, call: Call[Any]) -> httpx.Response | httpx.TransportError:
        try:
            return self._http.request(**call.httpx_args())
        except httpx.TransportError as exc:
            return exc

    def drain(self) -> DrainReport:
        """Try every request in the outbox once, now (backoffs ignored); what became of them.
        Never raises on Herald's failures: those not accepted stay for later."""
        return self._drain(due_only=False)

    def _drain(self, due_only: bool) -> DrainReport:
        report = DrainReport()
        for row in self.outbox.claimed(due_only):
            try:
                outcome = self._send_once(row.call)
            except BaseException:  # interrupted (the task cancelled): the row is free again
                self.outbox.release(row)
                raise
            report.add(self.outbox.settle(row, outcome))
        return report

    def _wake(self) -> None:
        if not self._background or self._stopping.is_set():
            return
        with self._worker_lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="herald-client-outbox", daemon=True
                )
                self._worker.start()
        self._wake_up.set()

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake_up.clear()
            try:
                self._drain(due_only=True)
                wait = self.outbox.seconds_until_due(IDLE_SECONDS)
            except Exception:
                log.exception("herald_client: the outbox worker failed; trying again")
                wait = 1.0
            self._wake_up.wait(wait)

    def close(self) -> None:
        """Stops the worker (what it has not sent stays in the outbox file for next time)."""
        self._stopping.set()
        self._wake_up.set()
        if self._worker is not None:
            self._worker.join(timeout=self._http.timeout.read or 10.0)
        self._http.close()
        self.outbox.close()

    def __enter__(self) -> "Herald":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
