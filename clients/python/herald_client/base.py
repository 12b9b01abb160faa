"""What `Herald` and `AsyncHerald` share: configuration, the outbox, and `notify`'s half that
never waits (writing the row). Each client adds how it sends and how its worker runs."""

import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import httpx

from herald_client.api import Operations
from herald_client.binding import Deferrer
from herald_client.calls import Call
from herald_client.outbox import DeadLetter, Outbox
from herald_client.outcomes import DEFAULT_OUTBOX, Counters, OutboxPolicy
from herald_client.retry import DEFAULT_RETRY, RetryPolicy

log = logging.getLogger("herald_client")

USER_AGENT = "herald-client-python/0.1.0"
# How long an idle worker sleeps before looking at the outbox again (another process on the
# same file may have left rows); a notify wakes it at once.
IDLE_SECONDS = 30.0


def default_outbox_path(base_url: str) -> Path:
    """Under the user's state directory, one file per Herald URL."""
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    digest = hashlib.sha256(base_url.rstrip("/").encode()).hexdigest()[:12]
    return Path(state) / "herald-client" / f"outbox-{digest}.sqlite3"


class BaseClient(Operations, Deferrer):
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        outbox_path: str | os.PathLike[str] | None = None,
        outbox_policy: OutboxPolicy = DEFAULT_OUTBOX,
        background: bool = True,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`timeout`: seconds per request; `retry`: strict calls' retries; `outbox_path`: the
        outbox's SQLite file (default: under the user's state directory); `background=False`:
        no worker, `drain()` sends the outbox; `transport`: an httpx transport of the client's
        kind (a proxy's, a test's)."""
        self.base_url = base_url.rstrip("/")
        self._retry = retry
        self._background = background
        self.outbox = Outbox(
            Path(outbox_path) if outbox_path else default_outbox_path(base_url), outbox_policy
        )
        self._open(
            transport,
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT},
            timeout=timeout,
        )
        if self.outbox.pending():  # left by an earlier process: sent from now on
            self._wake()

    def _open(
        self, transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None, **options: Any
    ) -> None:
        """Makes the HTTP client and the worker's state."""
        raise NotImplementedError

    @property
    def counters(self) -> Counters:
        """The outbox's counters: queued, sent, retried, dead, errors."""
        return self.outbox.counters

    def pending(self) -> int:
        """Requests in the outbox still to send."""
        return self.outbox.pending()

    def dead_letters(self) -> list[DeadLetter]:
        """Requests Herald refused for good (kept in the outbox file, never sent again)."""
        return self.outbox.dead_letters()

    def _defer(self, call: Call[Any]) -> str | None:
        try:
            self.outbox.put(call)
        except Exception:
            log.exception("herald_client: could not keep %s %s", call.method, call.path)
            self._count_refused()
            return None
        self._wake()
        return call.replay_key

    def _count_refused(self) -> None:
        self.outbox.count("errors")

    def _wake(self) -> None:
        """Have the worker (started if need be) look at the outbox now."""
        raise NotImplementedError
