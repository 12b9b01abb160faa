"""The fault tests' machinery: every piece of the stack as its own OS process, started, stopped,
killed and restarted by hand as an operator would, and the counters that say what arrived.

- PostgreSQL: pgserver initialises and first starts the server; a restart is pg_ctl stop/start
  on the same data directory and socket (so the same DATABASE_URL).
- Temporal: `temporal server start-dev --db-filename <file>`, restartable on the same port with
  its state.
- Herald: `uvicorn api.main:app` and `python worker.py`, each with its own log file.
- SMTP: an aiosmtpd catcher in this process that counts arrivals by address and Message-ID and
  can be stopped and started on its port, answer DATA with any reply, or answer slowly.
- SendGrid: a small aiohttp server speaking /v3/mail/send, scripted per recipient.
"""

import asyncio
import email.parser
import email.policy
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pgserver
from aiohttp import web
from aiosmtpd.controller import Controller
from pgserver._commands import pg_ctl  # type: ignore[attr-defined]
from temporalio.client import Client

from devtools.mailcatcher import MailCatcher
from tests.conftest import EAGER, free_port
from tests.utils.temporal import temporal_binary

ROOT = Path(__file__).resolve().parents[2]


def scaled(count: int) -> int:
    """A scenario's size: the issue's, unless FAULTS_SCALE shrinks it for a quick run."""
    return max(5, round(count * float(os.environ.get("FAULTS_SCALE", "1"))))


def outage(seconds: float) -> float:
    """An outage's length: the issue's, unless FAULTS_TIME_SCALE shortens it for a quick run."""
    return max(3.0, seconds * float(os.environ.get("FAULTS_TIME_SCALE", "1")))


def launch(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """A process of its own session (a signal to the test runner does not reach it), its output
    in `log` for the diagnosis of a failure."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class Postgres:
    """pgserver's PostgreSQL, stoppable and restartable on the same data dir and socket."""

    def __init__(self, directory: Path):
        self.data = directory
        self._server = pgserver.get_server(directory, cleanup_mode=None)
        self.url = self._server.get_uri()
        self.socket_dir = self._server.get_postmaster_info().socket_dir
        self.user = self._server.system_user  # "pgserver" when this runs as root

    def _ctl(self, *args: str) -> None:
        pg_ctl(list(args), pgdata=self.data, user=self.user, timeout=60)

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self._ctl(
            "-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.data / "log"),
            "start",
        )  # fmt: skip

    def close(self) -> None:
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped


class Temporal:
    """A Temporal dev server keeping its state in a SQLite file, restartable on its port."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port, self.ui_port = free_port(), free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = launch(
            [
                temporal_binary(), "server", "start-dev", "--headless",
                "--port", str(self.port), "--ui-port", str(self.ui_port),
                "--db-filename", str(self.directory / "temporal.db"),
                "--log-level", "error", *EAGER,
            ],
            dict(os.environ),
            self.directory / "temporal.log",
        )  # fmt: skip

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            stop_process(self.process, sig, timeout=20)

    async def client(self) -> Client:
        for _ in range(300):
            try:
                return await Client.connect(self.address)
            except RuntimeError:
                await asyncio.sleep(0.2)
        raise RuntimeError(f"Temporal at {self.address} did not come up")


@dataclass
class Arrival:
    address: str
    message_id: str
    at: float  # time.monotonic()


class Arrivals:
    """What reached a provider: one entry per message it accepted (or had in hand)."""

    def __init__(self) -> None:
        self.items: list[Arrival] = []

    def add(self, address: str, message_id: str) -> None:
        self.items.append(Arrival(address, message_id, time.monotonic()))

    def addresses(self) -> set[str]:
        return {a.address for a in self.items}

    def count(self, address: str) -> int:
        return sum(1 for a in self.items if a.address == address)


_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.default)


class FaultSmtp(MailCatcher):
    """An SMTP server that counts arrivals by address and Message-ID, and on demand is down
    (connection refused), answers DATA with `reply` (421, 451, 550, ...), refuses each address's
    first DATA with a 451 (so its next attempt is a retry), or holds its 250 for `delay` seconds.
    A message counts as arrived once its DATA is in, before any delayed reply: from then on the
    server has it, whatever happens to the connection."""

    def __init__(self) -> None:
        super().__init__()
        self.port = free_port()
        self.arrivals = Arrivals()
        self.reply: str | None = None
        self.refuse_first = False
        self.delay = 0.0
        self.attempts: Counter[str] = Counter()  # DATA commands per address
        self._refused: set[str] = set()
        self._controller: Controller | None = None

    @property
    def up(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server, session, envelope) -> str:
        self.attempts.update(envelope.rcpt_tos)
        if self.reply:
            return self.reply
        if self.refuse_first and not set(envelope.rcpt_tos) <= self._refused:
            self._refused.update(envelope.rcpt_tos)
            return "451 4.3.0 Try again later"
        message_id = str(_HEADERS.parsebytes(envelope.content).get("Message-ID", ""))
        for address in envelope.rcpt_tos:
            self.arrivals.add(address, message_id)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted for delivery"


class FakeSendGrid:
    """/v3/mail/send on loopback: `answer(address, attempt)` returns (status, headers) per
    request (attempt counts from 1 per recipient); a 202 counts as an arrival, identified by the
    delivery id Herald sends as a custom arg."""

    def __init__(self, answer: Callable[[str, int], tuple[int, dict[str, str]]]):
        self.answer = answer
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.arrivals = Arrivals()
        # address -> (monotonic time, status answered), one per request
        self.requests: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self._runner: web.AppRunner | None = None

    async def _send(self, request: web.Request) -> web.Response:
        payload = await request.json()
        address = payload["personalizations"][0]["to"][0]["email"]
        attempt = len(self.requests[address]) + 1
        status, headers = self.answer(address, attempt)
        self.requests[address].append((time.monotonic(), status))
        if status == 202:
            reference = payload.get("custom_args", {}).get("herald_delivery_id", "")
            self.arrivals.add(address, reference)
            return web.Response(status=202, headers={"X-Message-Id": uuid.uuid4().hex, **headers})
        body = {"errors": [{"message": f"scripted {status}", "field": None}]}
        return web.json_response(body, status=status, headers=headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v3/mail/send", self._send)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class Herald:
    """Herald's API (with its embedded worker, the default) and one worker process, on their own
    task queue; restartable with the same settings."""

    def __init__(self, work: Path, env: dict[str, str]):
        self.work = work
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.starts = 0

    @property
    def processes(self) -> list[subprocess.Popen]:
        return [p for p in (self.api, self.worker) if p is not None]

    async def start(self) -> None:
        self.starts += 1
        self.worker = launch(
            [sys.executable, "worker.py"], self.env, self.work / f"worker-{self.starts}.log"
        )
        self.api = launch(
            [
                sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(self.port),
                "--log-level", "warning", "--no-access-log",
            ],
            self.env,
            self.work / f"api-{self.starts}.log",
        )  # fmt: skip
        await self.api_answering()
        await self.worker_polling()

    async def api_answering(self, timeout: float = 60) -> None:
        """Waits for the API's health route (like bench's wait_http, but a process that died
        fails at once, with its log)."""
        log = self.work / f"api-{self.starts}.log"
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as probe:
            while True:
                try:
                    await probe.get(f"{self.url}/v1/health")
                    return
                except httpx.TransportError:
                    if self.api is not None and self.api.poll() is not None:
                        raise RuntimeError(f"the API exited:\n{log.read_text()[-3000:]}") from None
                    if time.monotonic() > deadline:
                        message = f"the API did not answer:\n{log.read_text()[-3000:]}"
                        raise RuntimeError(message) from None
                    await asyncio.sleep(0.1)

    async def worker_polling(self, timeout: float = 60) -> None:
        log = self.work / f"worker-{self.starts}.log"
        deadline = time.monotonic() + timeout
        while "worker polling task queue" not in log.read_text(errors="replace"):
            if self.worker is not None and self.worker.poll() is not None:
                raise RuntimeError(f"the worker exited:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start polling:\n{log.read_text()[-3000:]}")
            await asyncio.sleep(0.2)

    def signal_all(self, sig: int) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(sig)

    async def exited(self, timeout: float) -> list[int | None]:
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p in self.processes) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        return [p.poll() for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process, signal.SIGTERM, timeout=60)


def herald_env(
    database_url: str, temporal_address: str, task_queue: str, work: Path, **overrides: str
) -> dict[str, str]:
    """Herald's settings as an operator would give them: its defaults, except the servers."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "TASK_QUEUE": task_queue,
        "SMTP_HOST": "127.0.0.1",
        "SMS_OUTBOX_PATH": str(work / "sms-outbox.jsonl"),
        "SECRET_KEY": "faults-secret-key-not-for-production",
        "METRICS_TOKEN": "faults-metrics-token-not-for-production",
        "METRICS_PORT": "0",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


@dataclass
class Outcome:
    """What the load generator saw: codes by time, and which notifications were accepted."""

    # (asked at, answered at, code), monotonic times; a code is an HTTP status or the error of a
    # request that got none (ClientConnectorError: connection refused)
    responses: list[tuple[float, float, str]] = field(default_factory=list)
    accepted: dict[str, str] = field(default_factory=dict)  # address -> notification id
    refused: dict[str, str] = field(default_factory=dict)  # address -> final 4xx, or "gave up"

    def codes_between(self, start: float, end: float) -> dict[str, int]:
        """The answers to the requests asked between `start` and `end`."""
        return dict(sorted(Counter(c for t, _, c in self.responses if start <= t <= end).items()))

    def slowest_between(self, start: float, end: float) -> float | None:
        """The longest a request asked between `start` and `end` waited for its answer."""
        waits = [done - t for t, done, _ in self.responses if start <= t <= end]
        return round(max(waits), 1) if waits else None

    def codes(self) -> dict[str, int]:
        return dict(sorted(Counter(c for _, _, c in self.responses).items()))


def notification_body(address: str, **extra: Any) -> dict[str, Any]:
    return {
        "recipient": {"external_id": f"user-{address.split('@')[0]}", "email": address},
        "event_key": "payment.completed",
        "channels": ["email"],
        "context": {"subject": "Payment received", "message": "We received 42.00 EUR."},
        **extra,
    }


async def submit(
    base_url: str,
    api_key: str,
    bodies: Iterable[tuple[str, dict[str, Any]]],
    outcome: Outcome,
    *,
    concurrency: int = 50,
    give_up_after: float = 300.0,
) -> None:
    """POST each (address, body) as a careful client does: with an Idempotency-Key, retrying a
    5xx or a refused connection with the same key until it is accepted (2xx), refused (4xx), or
    `give_up_after` seconds have passed."""
    queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)

    async def one(session: aiohttp.ClientSession, address: str, body: dict[str, Any]) -> None:
        headers = {"Idempotency-Key": f"faults-{address}"}
        deadline = time.monotonic() + give_up_after
        while True:
            asked = time.monotonic()
            try:
                async with session.post(
                    f"{base_url}/v1/notifications", json=body, headers=headers
                ) as response:
                    code = str(response.status)
                    payload = await response.json(content_type=None) if response.ok else None
            except (aiohttp.ClientError, TimeoutError) as exc:
                code, payload = type(exc).__name__, None
            outcome.responses.append((asked, time.monotonic(), code))
            if payload is not None:
                outcome.accepted[address] = payload["id"]
                return
            if code.isdigit() and 400 <= int(code) < 500 and code not in ("408", "429"):
                outcome.refused[address] = code
                return
            if time.monotonic() > deadline:
                outcome.refused[address] = f"gave up after {code}"
                return
            await asyncio.sleep(0.5)

    async def runner(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            address, body = queue.get_nowait()
            await one(session, address, body)

    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=aiohttp.ClientTimeout(total=30),
        connector=aiohttp.TCPConnector(limit=concurrency + 10),
    ) as session:
        await asyncio.gather(*(runner(session) for _ in range(concurrency)))


async def running_notifications(client: Client, task_queue: str) -> int | None:
    """How many NotificationWorkflows of the task queue still run (None: Temporal unreachable)."""
    try:
        count = await client.count_workflows(
            f"TaskQueue = '{task_queue}' AND WorkflowType = 'NotificationWorkflow' "
            "AND ExecutionStatus = 'Running'"
        )
        return count.count
    except Exception:  # the server may be down: the drain asks again
        return None


async def drain(
    arrivals: Arrivals,
    expected: set[str],
    client: Client,
    task_queue: str,
    *,
    deadline: float,
    settle: float = 3.0,
) -> None:
    """Waits until every expected address has arrived or nothing can arrive any more (no
    notification workflow of the task queue runs), or until the deadline (monotonic); then
    `settle` seconds more for late duplicates."""
    checked = 0.0
    while time.monotonic() < deadline:
        if expected <= arrivals.addresses():
            if await running_notifications(client, task_queue) == 0:
                break
        elif time.monotonic() - checked > 3:
            checked = time.monotonic()
            if await running_notifications(client, task_queue) == 0:
                break
        await asyncio.sleep(0.5)
    await asyncio.sleep(settle)


def tally(arrivals: Arrivals, expected: set[str], since: float) -> dict[str, Any]:
    """Sent, arrived, duplicates by address and by Message-ID (with a few examples, their arrival
    times from `since`), lost, drain time (from `since` to the last expected arrival)."""
    mine = [a for a in arrivals.items if a.address in expected]
    per_address = Counter(a.address for a in mine)
    per_message_id = Counter(a.message_id for a in mine)
    ids_per_address: dict[str, set[str]] = defaultdict(set)
    for a in mine:
        ids_per_address[a.address].add(a.message_id)
    firsts: dict[str, float] = {}
    for a in mine:
        firsts.setdefault(a.address, a.at)
    lost = sorted(expected - set(per_address))
    return {
        "sent": len(expected),
        "arrived": len(per_address),
        "emails": len(mine),
        "duplicate_addresses": sum(1 for n in per_address.values() if n > 1),
        "duplicate_message_ids": sum(1 for n in per_message_id.values() if n > 1),
        "duplicates_with_new_message_id": sum(1 for i in ids_per_address.values() if len(i) > 1),
        "duplicate_examples": [
            {
                "address": address,
                "arrived_s": [round(a.at - since, 2) for a in mine if a.address == address],
                "message_ids": sorted(ids_per_address[address]),
            }
            for address, n in per_address.items()
            if n > 1
        ][:5],
        "lost": len(lost),
        "lost_examples": lost[:5],
        "drain_seconds": round(max(firsts.values()) - since, 1) if firsts and not lost else None,
    }
