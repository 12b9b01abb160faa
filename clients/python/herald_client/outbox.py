"""The local durable outbox behind `notify`: one SQLite row per request, until Herald accepts it.

A row holds the request exactly as it will be sent (method, path, headers with the
Idempotency-Key, body). Sending it again is safe: Herald answers a known key (or event id) with
what it did the first time. So a process that dies after Herald accepted a request but before
its row was deleted re-sends it on its next drain, and Herald sends nothing twice.

A row being sent is leased (`leased_until`), so two clients on one file (two worker processes
of one service) do not send it at the same time; a lease left by a dead process expires.
One file serves one Herald tenant: give each tenant's client its own `outbox_path`.
"""

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from herald_client.calls import Call
from herald_client.errors import retry_after
from herald_client.outcomes import (
    Counters,
    OutboxPolicy,
    Verdict,
    describe,
    permanent,
    unreachable,
)

log = logging.getLogger("herald_client")

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB,
    replay_key TEXT,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    leased_until REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    dead_at REAL
);
CREATE INDEX IF NOT EXISTS requests_pending ON requests (id) WHERE dead_at IS NULL;
"""


@dataclass(frozen=True)
class Row:
    id: int
    call: Call[Any]
    attempts: int


@dataclass(frozen=True)
class DeadLetter:
    id: int
    method: str
    path: str
    replay_key: str | None
    body: bytes | None
    attempts: int
    last_error: str | None
    dead_at: float


@dataclass
class Outbox:
    path: Path
    policy: OutboxPolicy = field(default_factory=OutboxPolicy)
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection, shared by the caller's threads and the worker, one at a time.
        self._lock = threading.Lock()
        self._counting = threading.Lock()
        # When a send last found Herald unreachable, and until when the worker waits.
        self.unreachable_at = 0.0
        self.paused_until = 0.0
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=10
        )
        with self._lock:
            # WAL: the worker reading does not block a caller writing. NORMAL: a commit survives
            # the process dying; only a power loss may take the last few back.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, call: Call[Any]) -> None:
        now = time.time()
        with self._lock:
            self._db.execute(
                "INSERT INTO requests (method, path, headers, body, replay_key, created_at,"
                " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    call.method,
                    call.path,
                    json.dumps(dict(call.headers)),
                    call.body,
                    call.replay_key,
                    now,
                    now,
                ),
            )
        self.count("queued")

    def claimed(self, due_only: bool) -> Iterator[Row]:
        """Pending rows not leased elsewhere (`due_only`: whose backoff is over), oldest first,
        each once, leased while the caller sends it. Stops early once Herald is found
        unreachable: the rest would fail alike, and the worker waits out the backoff."""
        started, after = time.time(), 0
        while self.unreachable_at < started and (row := self._claim(after, due_only)):
            after = row.id
            yield row

    def _claim(self, after: int, due_only: bool) -> Row | None:
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                found = self._db.execute(
                    "SELECT id, method, path, headers, body, replay_key, attempts FROM requests"
                    " WHERE dead_at IS NULL AND id > ? AND leased_until <= ?"
                    " AND (? = 0 OR next_attempt_at <= ?) ORDER BY id LIMIT 1",
                    (after, now, int(due_only), now),
                ).fetchone()
                if found is not None:
                    self._db.execute(
                        "UPDATE requests SET leased_until = ? WHERE id = ?",
                        (now + self.policy.lease_seconds, found[0]),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if found is None:
            return None
        row_id, method, path, headers, body, key, attempts = found
        call = Call(method, path, path, _as_is, body, headers=json.loads(headers), replay_key=key)
        return Row(row_id, call, attempts)

    def release(self, row: Row) -> None:
        """Gives a row back unsent (its send was interrupted): the next pass takes it."""
        self._execute("UPDATE requests SET leased_until = 0 WHERE id = ?", (row.id,))

    def settle(self, row: Row, outcome: httpx.Response | httpx.TransportError) -> Verdict:
        """Records what Herald did with the row's request: accepted (the row goes), refused
        for good (kept as a dead letter, never sent again), or to try again later."""
        key, what = row.call.replay_key, f"{row.call.method} {row.call.path}"
        if isinstance(outcome, httpx.Response) and outcome.is_success:
            self._execute("DELETE FROM requests WHERE id = ?", (row.id,))
            self.count("sent")
            self.paused_until = 0.0
            log.info("herald_client: %s (key %s) accepted: %s", what, key, outcome.status_code)
            return "sent"
        error = describe(outcome)
        if permanent(outcome):
            self._execute(
                "UPDATE requests SET dead_at = ?, attempts = attempts + 1, last_error = ?,"
                " leased_until = 0 WHERE id = ?",
                (time.time(), error, row.id),
            )
            self.count("dead")
            log.error("herald_client: %s (key %s) refused, dead-lettered: %s", what, key, error)
            return "dead"
        delay = self._backoff(row.attempts, outcome)
        if unreachable(outcome):
            self.unreachable_at = time.time()
            self.paused_until = self.unreachable_at + delay
        self._execute(
            "UPDATE requests SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
            " leased_until = 0 WHERE id = ?",
            (error, time.time() + delay, row.id),
        )
        self.count("retried")
        log.warning(
            "herald_client: %s (key %s) failed, retry in %.1f s: %s", what, key, delay, error
        )
        return "retry"

    def count(self, counter: str) -> None:
        with self._counting:
            setattr(self.counters, counter, getattr(self.counters, counter) + 1)

    def _backoff(self, attempts: int, outcome: httpx.Response | httpx.TransportError) -> float:
        asked = retry_after(outcome.headers) if isinstance(outcome, httpx.Response) else None
        if asked is not None:
            return min(asked, self.policy.max_backoff)
        ceiling = min(self.policy.max_backoff, self.policy.initial_backoff * 2**attempts)
        return random.uniform(ceiling / 2, ceiling)

    def pending(self) -> int:
        """Requests still to send (dead letters not counted)."""
        return int(self._one("SELECT COUNT(*) FROM requests WHERE dead_at IS NULL") or 0)

    def seconds_until_due(self, longest: float) -> float:
        """How long the worker may sleep: until the next row's backoff (or lease) is over."""
        due = self._one(
            "SELECT MIN(MAX(next_attempt_at, leased_until)) FROM requests WHERE dead_at IS NULL"
        )
        if due is None:
            return longest
        return min(longest, max(0.05, max(float(due), self.paused_until) - time.time()))

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, method, path, replay_key, body, attempts, last_error, dead_at"
                " FROM requests WHERE dead_at IS NOT NULL ORDER BY id"
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, params)

    def _one(self, sql: str) -> Any:
        with self._lock:
            return self._db.execute(sql).fetchone()[0]


def _as_is(answer: Any) -> Any:
    return answer
