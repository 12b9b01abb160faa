"""`make bench`: Herald's email against three baselines, measured in the same run on the same
servers.

(a) bare: a bare workflow with one no-op activity, started from this process, its worker in
    another (bench/bare.py);
(b) eager: the fastest durable path Temporal offers for the same job: a bare workflow started
    eagerly whose local activity sends the same email through aiosmtplib, one process per core
    each with its worker, as Herald's API replicas (bench/eager_local.py);
(c) celery: the same email sent by Celery with a Redis broker, one worker process per core
    with as many threads in all as the concurrency (bench/celery_baseline.py); skipped, saying
    why, when redis-server or Celery is missing;
(d) herald: POST /v1/notifications to an API replica, whose embedded worker starts the
    workflow eagerly and sends. Herald runs as deployed: one API replica per core, plus a
    worker process.
Every email is timed from its request to its arrival at the SMTP server in this process.
Latency at concurrency 1 (p50/p99), sustained throughput at concurrency 50 and the CPU each
process spent per email, then Herald's ratios to each baseline. The machine is shared and noisy,
so only ratios within one run are goals, never absolute times.
"""

import asyncio
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import aiohttp
from temporalio.client import Client

from bench.bare import TASK_QUEUE, BareWorkflow
from bench.cpu import per_item_ms, snapshot
from bench.stack import API_PROCESSES, Stack, herald_stack, stop
from bench.stack import cpu_groups as stack_cpu_groups
from bench.stats import provenance, summary_ms
from devtools.mailcatcher import MailCatcher
from tests.conftest import free_port

# Herald first, then the baselines it is compared with (each round measures them in this order).
VARIANTS = ("herald", "bare", "eager", "celery")
GOALS = {
    "latency_ratio_max": 1.5,  # Herald's p50 against the bare workflow's
    "throughput_ratio_min": 0.8,  # against the bare workflow
    "eager_throughput_ratio_min": 0.9,  # against the eager + local activity workflow
}

LATENCY_N = int(os.environ.get("BENCH_LATENCY_N", 60))
THROUGHPUT_N = int(os.environ.get("BENCH_THROUGHPUT_N", 600))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 50))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))  # the median of 5 resists one noisy round
RESULTS = Path(__file__).parent / "results"
PROFILES = Path(__file__).parent / "profiles"


class ArrivalCatcher(MailCatcher):
    """Resolves a future when mail for an address arrives (the SMTP server runs in its own
    thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        super().__init__()
        self.loop = loop
        self.waiting: dict[str, asyncio.Future] = {}

    async def handle_DATA(self, server, session, envelope) -> str:
        arrived = time.perf_counter()
        for address in envelope.rcpt_tos:
            future = self.waiting.pop(address, None)
            if future is not None:
                self.loop.call_soon_threadsafe(future.set_result, arrived)
        return "250 OK"

    def expect(self, address: str) -> asyncio.Future:
        future = self.loop.create_future()
        self.waiting[address] = future
        return future


async def bare_once(client: Client) -> float:
    started = time.perf_counter()
    await client.execute_workflow(
        BareWorkflow.run, "x", id=f"bare-{uuid.uuid4()}", task_queue=TASK_QUEUE
    )
    return time.perf_counter() - started


def notification_to(address: str) -> dict[str, Any]:
    """The body of the benchmark's POST /v1/notifications: one email, sent now."""
    return {
        "recipient": {"email": address},
        "event_key": "payment.completed",
        "channels": ["email"],
        "context": {"subject": "Payment received", "message": "We received your payment."},
    }


async def herald_once(api: aiohttp.ClientSession, base_url: str, catcher: ArrivalCatcher) -> float:
    address = f"{uuid.uuid4().hex}@bench.example"
    arrival = catcher.expect(address)
    started = time.perf_counter()
    async with api.post(f"{base_url}/v1/notifications", json=notification_to(address)) as response:
        response.raise_for_status()
    return await asyncio.wait_for(arrival, timeout=60) - started


async def latency(once) -> list[float]:
    return [await once() for _ in range(LATENCY_N)]


async def throughput(
    once, groups: dict[str, list[int] | int], profile: dict[str, int] | None = None
) -> tuple[float, dict[str, float]]:
    """Items per second at CONCURRENCY, and the CPU milliseconds each process spent per item.

    With `profile` ({name: pid}) and BENCH_PROFILE set, py-spy samples those processes meanwhile."""
    samplers = start_profilers(profile or {})
    before = snapshot(groups)
    remaining = THROUGHPUT_N
    started = time.perf_counter()

    async def runner() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await once()

    await asyncio.gather(*(runner() for _ in range(CONCURRENCY)))
    rate = THROUGHPUT_N / (time.perf_counter() - started)
    used = per_item_ms(before, snapshot(groups), THROUGHPUT_N)
    stop_profilers(samplers)
    return rate, used


def stop_profilers(samplers: list[subprocess.Popen]) -> None:
    """py-spy writes its file on SIGINT."""
    for sampler in samplers:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)


def start_profilers(targets: dict[str, int]) -> list[subprocess.Popen]:
    """py-spy, in collapsed-stack form, one file per process under bench/profiles/."""
    if not os.environ.get("BENCH_PROFILE"):
        return []
    PROFILES.mkdir(exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return [
        subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(pid),
                "--rate",
                "250",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(PROFILES / f"{name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in targets.items()
    ]


def start_eager_local(stack: Stack, exits: ExitStack) -> list[tuple[subprocess.Popen, int]]:
    """The eager + local activity baseline: one process per API replica, each listening for
    addresses on the port it prints."""
    started = []
    for number in range(API_PROCESSES):
        log = (stack.logs / f"eager-{number}.log").open("w")
        exits.callback(log.close)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.eager_local",
                stack.client.service_client.config.target_host,
                str(stack.smtp_port),
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        exits.callback(_stop, process)
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"bench.eager_local did not start (see {log.name})")
        started.append((process, int(line.split()[1])))
    return started


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    stop(process)


def start_celery(stack: Stack, exits: ExitStack) -> tuple[Any, list[int]] | None:
    """The Celery baseline's submit function and its processes' pids (workers, then Redis), or
    None, saying why, when it cannot run here."""
    try:
        from bench import celery_baseline
    except ImportError as exc:
        print(f"Celery baseline skipped: {exc} (make bench installs the bench extra)", flush=True)
        return None
    why = celery_baseline.unavailable()
    if why:
        print(f"Celery baseline skipped: {why}", flush=True)
        return None
    redis = exits.enter_context(celery_baseline.redis_broker(free_port(), stack.logs / "redis.log"))
    workers = exits.enter_context(
        celery_baseline.celery_workers(API_PROCESSES, CONCURRENCY, stack.smtp_port, stack.logs)
    )
    return celery_baseline.submit, [w.pid for w in workers] + [redis.pid]


async def line_sender(port: int) -> asyncio.StreamWriter:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    return writer


async def eager_once(writer: asyncio.StreamWriter, catcher: ArrivalCatcher) -> float:
    address = f"{uuid.uuid4().hex}@bench.example"
    arrival = catcher.expect(address)
    started = time.perf_counter()
    writer.write(f"{address}\n".encode())
    await writer.drain()
    return await asyncio.wait_for(arrival, timeout=60) - started


async def celery_once(submit, catcher: ArrivalCatcher) -> float:
    address = f"{uuid.uuid4().hex}@bench.example"
    arrival = catcher.expect(address)
    started = time.perf_counter()
    submit(address)
    return await asyncio.wait_for(arrival, timeout=60) - started


def api_session(stack: Stack, concurrency: int, timeout_s: float = 60) -> aiohttp.ClientSession:
    """The load generator's HTTP client, authenticated as the stack's tenant.

    aiohttp rather than httpx: the load generator shares the two cores with what it measures,
    and aiohttp spends about a third of httpx's CPU per request."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency + 10),
        headers={"Authorization": f"Bearer {stack.key}"},
        timeout=aiohttp.ClientTimeout(total=timeout_s),
    )


async def main() -> None:
    catcher = ArrivalCatcher(asyncio.get_running_loop())
    with ExitStack() as exits:
        async with (
            herald_stack(catcher) as stack,
            api_session(stack, CONCURRENCY) as api,
        ):
            try:
                rounds = await measure(stack, api, catcher, exits)
            finally:
                exits.close()  # the baselines' processes, before the stack's servers
    report(rounds)


async def measure(
    stack: Stack, api: aiohttp.ClientSession, catcher: ArrivalCatcher, exits: ExitStack
) -> list[dict[str, Any]]:
    eager_processes = start_eager_local(stack, exits)
    writers = [await line_sender(port) for _, port in eager_processes]
    celery = start_celery(stack, exits)
    # Requests take turns among the API replicas (and the eager processes), as a load balancer
    # would spread them.
    replicas = itertools.cycle(stack.api_urls)
    eager_targets = itertools.cycle(writers)
    onces = {
        "herald": lambda: herald_once(api, next(replicas), catcher),
        "bare": lambda: bare_once(stack.client),
        "eager": lambda: eager_once(next(eager_targets), catcher),
    }
    if celery is not None:
        onces["celery"] = lambda: celery_once(celery[0], catcher)
    for warm in onces.values():  # connections, caches, the sandbox's first imports
        for _ in range(20):
            await warm()
    herald_worker = stack.worker.pid
    cpu_groups = stack_cpu_groups(stack) | {
        "eager_local": [p.pid for p, _ in eager_processes],
        "celery": celery[1] if celery else [],
    }
    profiled = {
        "herald_worker": herald_worker,
        **{f"api{i}": p.pid for i, p in enumerate(stack.apis)},
    }
    rounds: list[dict[str, Any]] = []
    for round_no in range(ROUNDS):  # alternate, so drift in machine load hits all alike
        result: dict[str, Any] = {}
        for name, once in onces.items():
            rate, cpu = await throughput(
                once, cpu_groups, profile=profiled if name == "herald" else None
            )
            result[f"{name}_throughput"] = round(rate, 1)
            result[f"{name}_cpu_ms_per_item"] = cpu
            result[f"{name}_cpu_ms_total"] = round(sum(cpu.values()), 2)
        for name, once in onces.items():
            result[f"{name}_latency"] = summary_ms(await latency(once))
        result |= ratios(result)
        print(f"round {round_no + 1}: {json.dumps(result)}", flush=True)
        rounds.append(result)
    return rounds


def ratios(result: dict[str, Any]) -> dict[str, float]:
    """Herald's latency (p50) and throughput against each baseline measured in `result`:
    `latency_ratio` and `throughput_ratio` against the bare workflow, `<baseline>_..._ratio`
    against the others."""
    found = {}
    for baseline in VARIANTS[1:]:
        if f"{baseline}_throughput" not in result:
            continue
        prefix = "" if baseline == "bare" else f"{baseline}_"
        found[f"{prefix}latency_ratio"] = round(
            result["herald_latency"]["p50_ms"] / result[f"{baseline}_latency"]["p50_ms"], 2
        )
        found[f"{prefix}throughput_ratio"] = round(
            result["herald_throughput"] / result[f"{baseline}_throughput"], 2
        )
        found[f"{prefix}cpu_ratio"] = round(
            result["herald_cpu_ms_total"] / result[f"{baseline}_cpu_ms_total"], 2
        )
    return found


def medians(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Each figure's median over the rounds: latencies, throughputs, CPU totals, ratios."""
    m: dict[str, float] = {}
    for key, value in rounds[0].items():
        if isinstance(value, dict) and "p50_ms" in value:
            name = key.removesuffix("_latency")
            for p in ("p50_ms", "p99_ms"):
                m[f"{name}_{p}"] = statistics.median(r[key][p] for r in rounds)
        elif key.endswith("_throughput"):
            m[f"{key}_per_s"] = statistics.median(r[key] for r in rounds)
        elif not isinstance(value, dict):
            m[key] = statistics.median(r[key] for r in rounds)
    return m


def goals_met(m: dict[str, float]) -> bool:
    return (
        m["latency_ratio"] <= GOALS["latency_ratio_max"]
        and m["throughput_ratio"] >= GOALS["throughput_ratio_min"]
        and m["eager_throughput_ratio"] >= GOALS["eager_throughput_ratio_min"]
    )


def report(rounds: list[dict[str, Any]]) -> None:
    m = medians(rounds)
    summary = {
        **provenance(),
        "sizes": {
            "latency_n": LATENCY_N,
            "throughput_n": THROUGHPUT_N,
            "concurrency": CONCURRENCY,
            "rounds": ROUNDS,
            "api_processes": API_PROCESSES,
        },
        "rounds": rounds,
        "median": m,
        "goals": GOALS,
        "goals_met": goals_met(m),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "notification.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        f"\nmedian of {len(rounds)} rounds (latency p50/p99, throughput @{CONCURRENCY}, "
        "CPU ms per email, Herald's ratios to it: latency p50, throughput, CPU):"
    ]
    for name in VARIANTS:
        if f"{name}_throughput_per_s" not in m:
            continue
        prefix = "" if name == "bare" else f"{name}_"
        ratio = (
            ""
            if name == "herald"
            else f"   ratios {m[prefix + 'latency_ratio']} / {m[prefix + 'throughput_ratio']}"
            f" / {m[prefix + 'cpu_ratio']}"
        )
        lines.append(
            f"  {name:7} {m[name + '_p50_ms']}/{m[name + '_p99_ms']} ms   "
            f"{m[name + '_throughput_per_s']}/s   {m[name + '_cpu_ms_total']} ms CPU{ratio}"
        )
    lines.append(
        f"  goals: latency ratio to bare <= {GOALS['latency_ratio_max']}, throughput ratio to "
        f"bare >= {GOALS['throughput_ratio_min']}, to eager >= "
        f"{GOALS['eager_throughput_ratio_min']}; met: {summary['goals_met']} "
        "(written to bench/results/notification.json)"
    )
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
