"""`make bench`, inbox streams: 2,000 concurrent GET /v1/inbox/stream on one API process.

On bench/stack.py's stack (PostgreSQL, Temporal, Herald's worker and API replicas), each round
starts one more API process as deployed (`uvicorn api.main:app`, its embedded worker, default
settings: heartbeats every 15 s) and measures it alone:
- memory per open stream: the process's RSS with STREAMS streams open (each has had its
  `ready`) minus its RSS before (after a warm-up of 20 streams opened and closed), / STREAMS;
- idle CPU: the process's CPU time over IDLE_S seconds with no stream, then with every stream
  open and nothing happening (heartbeats fall due in that window);
- latency, from the commit of an inbox change to its event arriving at the client: EVENTS
  events at RATE a second, each for a random recipient, written by this process with
  db.inbox_events.append_event in its own transaction (the call the delivery activity makes
  in the transaction that stores the in-app row; no row is stored here, so the figure is the
  stream's path alone: NOTIFY, the hub, the stream's read of the log, the write); the clock
  starts when the commit returns. Then a burst: one event for every recipient at once
  (reported, not a goal). Every event must arrive exactly once;
- how long SIGTERM takes to stop the process with every stream open.

The client is this process: one raw asyncio connection per stream (a Protocol that only looks
for `id:` lines), all on loopback, its objects frozen out of the garbage collector once open
(as the API's are). The figures of BENCH_INBOX_ROUNDS rounds (3), each with the machine's load
average (it is shared), and their medians are written to bench/results/inbox_streams.json.

    python -m bench.inbox_streams
"""

import asyncio
import gc
import json
import os
import random
import resource
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import psycopg

from bench.cpu import cpu_seconds
from bench.stack import Stack, herald_stack, start, wait_http
from bench.stats import provenance, summary_ms
from db.inbox_events import append_event
from db.session import create_engine, session_factory
from devtools.mailcatcher import MailCatcher
from domain.inbox import InboxEventKind
from domain.inbox_tokens import AUDIENCE
from tests.conftest import free_port

STREAMS = int(os.environ.get("BENCH_INBOX_STREAMS", 2000))
EVENTS = int(os.environ.get("BENCH_INBOX_EVENTS", 500))
RATE = float(os.environ.get("BENCH_INBOX_RATE", 100))  # events a second
IDLE_S = float(os.environ.get("BENCH_INBOX_IDLE_S", 10))
ROUNDS = int(os.environ.get("BENCH_INBOX_ROUNDS", 3))
OPEN_AT_ONCE = 100  # streams connecting concurrently while they are opened
WARM_UP = 20
ARRIVAL_TIMEOUT_S = 60
GOALS = {"p99_ms": 1000, "kb_per_stream": 20}
RESULTS = Path(__file__).parent / "results" / "inbox_streams.json"


class StreamClient(asyncio.Protocol):
    """One open stream: the arrival time of every event id, the heartbeats counted."""

    def __init__(self, request: bytes):
        self.request = request
        self.buffer = b""
        self.arrivals: dict[int, float] = {}
        self.repeated = 0
        self.heartbeats = 0
        self.ready = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        *lines, self.buffer = (self.buffer + data).split(b"\n")
        for line in lines:
            if line.startswith(b"id: "):
                seq = int(line[4:])
                if seq in self.arrivals:
                    self.repeated += 1
                self.arrivals.setdefault(seq, now)
            elif line == b"event: ready" and not self.ready.done():
                self.ready.set_result(None)
            elif line == b": heartbeat":
                self.heartbeats += 1
            elif line.startswith(b"HTTP/1.1 ") and not line.startswith(b"HTTP/1.1 200"):
                self.ready.set_exception(RuntimeError(line.decode()))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"closed before ready: {exc}"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_streams(port: int, tokens: list[str]) -> list[StreamClient]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def one(token: str) -> StreamClient:
        request = (
            "GET /v1/inbox/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
        async with gate:
            _, client = await loop.create_connection(
                lambda: StreamClient(request), "127.0.0.1", port
            )
            await asyncio.wait_for(client.ready, 60)
        return client

    return list(await asyncio.gather(*(one(t) for t in tokens)))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def idle_cpu_percent(pid: int) -> float:
    before, started = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(IDLE_S)
    return round(100 * (cpu_seconds(pid) - before) / (time.perf_counter() - started), 2)


async def recipients(stack: Stack, api_url: str) -> tuple[list[uuid.UUID], list[str]]:
    """STREAMS recipients of the bench tenant and a token for each, signed here with a signing
    secret from the API, as a tenant's backend may sign them (1 hour)."""
    headers = {"Authorization": f"Bearer {stack.key}"}
    names = [f"inbox-bench-{n}" for n in range(STREAMS)]
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=60) as api:
        gate = asyncio.Semaphore(20)

        async def put(name: str) -> None:
            async with gate:
                answer = await api.put(f"/v1/recipients/{name}", json={"name": name})
                answer.raise_for_status()

        await asyncio.gather(*(put(name) for name in names))
        created = await api.post("/v1/settings/inbox/signing-secrets", json={})
        created.raise_for_status()
        secret = created.json()
    with psycopg.connect(stack.database_url) as connection:
        ids: dict[str, uuid.UUID] = dict(
            connection.execute(
                "SELECT external_id, id FROM recipients WHERE tenant_id = %s",
                (stack.tenant_id,),
            ).fetchall()
        )
    now = int(time.time())
    tokens = [
        jwt.encode(
            {"sub": n, "tid": stack.tenant_id, "iat": now, "exp": now + 3600, "aud": AUDIENCE},
            secret["secret"],
            algorithm="HS256",
            headers={"kid": secret["kid"]},
        )
        for n in names
    ]
    return [ids[n] for n in names], tokens


def message(n: int) -> dict[str, Any]:
    """An event's data as the delivery activity writes it, at a typical size."""
    return {
        "message": {
            "id": str(uuid.uuid4()),
            "notification_id": str(uuid.uuid4()),
            "title": f"Bench message {n}",
            "body": "Your booking for Thursday at 10:00 is confirmed. " * 3,
            "action_url": "https://app.example.com/bookings/42",
            "priority": "normal",
            "category": "booking.confirmation",
            "tags": ["bench"],
            "created_at": "2026-01-01T00:00:00+00:00",
        }
    }


async def write_events(
    sessions, tenant_id: uuid.UUID, targets: list[int], ids: list[uuid.UUID], rate: float | None
) -> list[tuple[int, int, float]]:
    """An event per target (an index of `ids`), at `rate` a second (None: as fast as 8
    writers go); (target, seq, commit time) each."""
    committed: list[tuple[int, int, float]] = []
    gate = asyncio.Semaphore(8)
    started = time.perf_counter()

    async def one(n: int, target: int) -> None:
        if rate is not None:
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
        async with gate, sessions() as session:
            seq = await append_event(
                session, tenant_id, ids[target], InboxEventKind.CREATED, message(n)
            )
            await session.commit()
            committed.append((target, seq, time.perf_counter()))

    await asyncio.gather(*(one(n, t) for n, t in enumerate(targets)))
    return committed


async def arrivals(
    clients: list[StreamClient], committed: list[tuple[int, int, float]]
) -> dict[str, Any]:
    deadline = time.monotonic() + ARRIVAL_TIMEOUT_S
    while time.monotonic() < deadline:
        if all(seq in clients[target].arrivals for target, seq, _ in committed):
            break
        await asyncio.sleep(0.2)
    latencies = [
        clients[target].arrivals[seq] - at
        for target, seq, at in committed
        if seq in clients[target].arrivals
    ]
    return {
        **summary_ms(latencies),
        "max_ms": round(max(latencies, default=0) * 1000, 1),
        "missing": len(committed) - len(latencies),
    }


async def one_round(stack: Stack, env: dict[str, str], number: int) -> dict[str, Any]:
    port = free_port()
    api = start(
        [
            sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(port),
            "--log-level", "warning", "--no-access-log",
        ],
        env,
        stack.logs / f"inbox-api-{number}.log",
    )  # fmt: skip
    try:
        await wait_http(f"http://127.0.0.1:{port}/v1/health", api)
        ids, tokens = await recipients(stack, f"http://127.0.0.1:{port}")
        for client in await open_streams(port, tokens[:WARM_UP]):
            client.close()
        await asyncio.sleep(2)
        rss_before = rss_kb(api.pid)
        cpu_without = await idle_cpu_percent(api.pid)

        opening = time.perf_counter()
        clients = await open_streams(port, tokens)
        opened_s = time.perf_counter() - opening
        # As the API does once started (bootstrap.tune_runtime_for_the_event_loop): a full
        # collection over this process's modules and 2,000 clients would stall the loop that
        # timestamps arrivals.
        gc.collect()
        gc.freeze()
        await asyncio.sleep(2)
        rss_open = rss_kb(api.pid)
        heartbeats = sum(c.heartbeats for c in clients)
        cpu_with = await idle_cpu_percent(api.pid)
        heartbeats = sum(c.heartbeats for c in clients) - heartbeats

        engine = create_engine(stack.database_url, pool_size=8)
        sessions = session_factory(engine)
        tenant_id = uuid.UUID(stack.tenant_id)
        rng = random.Random(number)
        steady = await write_events(
            sessions, tenant_id, [rng.randrange(STREAMS) for _ in range(EVENTS)], ids, RATE
        )
        steady_latency = await arrivals(clients, steady)
        burst = await write_events(sessions, tenant_id, list(range(STREAMS)), ids, None)
        burst_latency = await arrivals(clients, burst)
        await engine.dispose()

        stopping = time.perf_counter()
        api.send_signal(signal.SIGTERM)
        await asyncio.to_thread(api.wait, 60)
        stop_s = time.perf_counter() - stopping
        for client in clients:
            client.close()
        return {
            "load_average_1min": round(os.getloadavg()[0], 1),  # the machine is shared
            "streams": len(clients),
            "opened_in_s": round(opened_s, 1),
            "kb_per_stream": round((rss_open - rss_before) / len(clients), 1),
            "rss_mb": {"before": round(rss_before / 1024, 1), "open": round(rss_open / 1024, 1)},
            "idle_cpu_percent": {"no_streams": cpu_without, "all_streams_open": cpu_with},
            "heartbeats_in_idle_window": heartbeats,
            "steady": {"rate_per_s": RATE, **steady_latency},
            "burst": {"events": len(burst), **burst_latency},
            "repeated": sum(c.repeated for c in clients),
            "sigterm_to_exit_s": round(stop_s, 1),
        }
    finally:
        if api.poll() is None:
            api.kill()
            api.wait()


async def main() -> dict[str, Any]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # the API process inherits it
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 2 * STREAMS + 1000)), hard))
    async with herald_stack(MailCatcher(), bare_worker=False) as stack:
        env = {
            **os.environ,
            "DATABASE_URL": stack.database_url,
            "TEMPORAL_ADDRESS": stack.client.service_client.config.target_host,
            "TASK_QUEUE": "herald-bench",
            "METRICS_PORT": "0",
            "SECRET_KEY": "bench-secret-key-not-for-production",  # seals the signing secrets
        }
        rounds = []
        for number in range(1, ROUNDS + 1):
            rounds.append(await one_round(stack, env, number))
            print(f"inbox streams, round {number}: {json.dumps(rounds[-1])}", flush=True)
    summary = summarise(rounds)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def median(*path: str) -> float:
        values = []
        for r in rounds:
            value: Any = r
            for key in path:
                value = value[key]
            values.append(value)
        return round(statistics.median(values), 2)

    medians = {
        "steady_p50_ms": median("steady", "p50_ms"),
        "steady_p99_ms": median("steady", "p99_ms"),
        "burst_p50_ms": median("burst", "p50_ms"),
        "burst_p99_ms": median("burst", "p99_ms"),
        "kb_per_stream": median("kb_per_stream"),
        "idle_cpu_percent_no_streams": median("idle_cpu_percent", "no_streams"),
        "idle_cpu_percent_all_streams_open": median("idle_cpu_percent", "all_streams_open"),
        "sigterm_to_exit_s": median("sigterm_to_exit_s"),
    }
    every_event_once = all(
        r["steady"]["missing"] == r["burst"]["missing"] == r["repeated"] == 0 for r in rounds
    )
    goals = {
        "p99 under 1 s at 2,000 streams (steady)": medians["steady_p99_ms"] < GOALS["p99_ms"],
        "under 20 KB per stream": medians["kb_per_stream"] < GOALS["kb_per_stream"],
        "every event exactly once": every_event_once,
    }
    summary = {
        **provenance(),
        "streams": STREAMS,
        "events_per_round": {"steady": EVENTS, "burst": STREAMS},
        "writes": "db.inbox_events.append_event, one transaction per event, from the bench",
        "rounds": rounds,
        "medians": medians,
        "goals": goals,
        "goals_met": all(goals.values()),
    }
    print(
        f"inbox streams: {STREAMS} open on one API process, medians of {len(rounds)} rounds\n"
        f"  commit -> event, {EVENTS} at {RATE:.0f}/s   p50 {medians['steady_p50_ms']} ms, "
        f"p99 {medians['steady_p99_ms']} ms\n"
        f"  burst, one event per stream  p50 {medians['burst_p50_ms']} ms, "
        f"p99 {medians['burst_p99_ms']} ms\n"
        f"  memory per open stream       {medians['kb_per_stream']} KB\n"
        f"  idle CPU                     {medians['idle_cpu_percent_no_streams']} % without "
        f"streams, {medians['idle_cpu_percent_all_streams_open']} % with all open\n"
        f"  SIGTERM with all open        exits in {medians['sigterm_to_exit_s']} s\n"
        + "".join(f"  {'PASS' if ok else 'FAIL'}  {goal}\n" for goal, ok in goals.items())
        + f"  goals met: {summary['goals_met']}",
        flush=True,
    )
    return summary


if __name__ == "__main__":
    asyncio.run(main())
