"""`make bench`: Herald against a bare Temporal workflow, measured in the same run on the same
server.

(a) a bare workflow with one no-op activity, started from this process, its worker in another;
(b) a Herald email: POST /v1/notifications to an API replica, whose embedded worker starts the
    workflow eagerly and sends -> the message arriving at the SMTP server in this process.
    Herald runs as deployed: one API replica per core, plus a worker process.
Latency at concurrency 1 (p50/p99) and sustained throughput at concurrency 50, then the ratios.
The machine is shared and noisy, so only ratios within one run are goals, never absolute times.
"""

import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from temporalio.client import Client

from bench.bare import TASK_QUEUE, BareWorkflow
from bench.cpu import per_item_ms, snapshot
from bench.stack import herald_stack
from bench.stats import provenance, summary_ms
from devtools.mailcatcher import MailCatcher

LATENCY_N = int(os.environ.get("BENCH_LATENCY_N", 60))
THROUGHPUT_N = int(os.environ.get("BENCH_THROUGHPUT_N", 600))
CONCURRENCY = 50
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
    for sampler in samplers:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)
    return rate, used


def start_profilers(targets: dict[str, int]) -> list[subprocess.Popen]:
    """py-spy, in collapsed-stack form, one file per process under bench/profiles/."""
    if not os.environ.get("BENCH_PROFILE"):
        return []
    PROFILES.mkdir(exist_ok=True)
    return [
        subprocess.Popen(
            [
                "py-spy",
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


async def main() -> None:
    catcher = ArrivalCatcher(asyncio.get_running_loop())
    # aiohttp rather than httpx: the load generator shares the two cores with what it measures,
    # and aiohttp spends about a third of httpx's CPU per request.
    async with (
        herald_stack(catcher) as stack,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONCURRENCY + 10),
            headers={"Authorization": f"Bearer {stack.key}"},
            timeout=aiohttp.ClientTimeout(total=60),
        ) as api,
    ):
        # Requests take turns among the API replicas, as a load balancer would spread them.
        replicas = itertools.cycle(stack.api_urls)
        bare = lambda: bare_once(stack.client)  # noqa: E731
        herald = lambda: herald_once(api, next(replicas), catcher)  # noqa: E731
        for warm in (bare, herald):  # connections, caches, the sandbox's first imports
            for _ in range(20):
                await warm()
        assert stack.bare_worker is not None  # started by default
        temporal, bare_worker, herald_worker = (
            p.pid for p in (stack.temporal, stack.bare_worker, stack.worker)
        )
        cpu_groups: dict[str, list[int] | int] = {
            "temporal": [temporal],
            "bare_worker": [bare_worker],
            "herald_worker": [herald_worker],
            "api": [p.pid for p in stack.apis],
            "postgres": stack.postmaster,
            "bench_client": [os.getpid()],
        }
        rounds: list[dict[str, Any]] = []
        for round_no in range(ROUNDS):  # alternate, so drift in machine load hits both alike
            bare_rate, bare_cpu = await throughput(bare, cpu_groups)
            herald_rate, herald_cpu = await throughput(
                herald,
                cpu_groups,
                profile={
                    "herald_worker": herald_worker,
                    **{f"api{i}": p.pid for i, p in enumerate(stack.apis)},
                },
            )
            result: dict[str, Any] = {
                "bare_latency": summary_ms(await latency(bare)),
                "herald_latency": summary_ms(await latency(herald)),
                "bare_throughput": round(bare_rate, 1),
                "herald_throughput": round(herald_rate, 1),
                "bare_cpu_ms_per_item": bare_cpu,
                "herald_cpu_ms_per_item": herald_cpu,
            }
            result["latency_ratio"] = round(
                result["herald_latency"]["p50_ms"] / result["bare_latency"]["p50_ms"], 2
            )
            result["throughput_ratio"] = round(
                result["herald_throughput"] / result["bare_throughput"], 2
            )
            print(f"round {round_no + 1}: {json.dumps(result)}", flush=True)
            rounds.append(result)
    report(rounds)


def report(rounds: list[dict[str, Any]]) -> None:
    def med(key: str, sub: str | None = None) -> float:
        return statistics.median(r[key][sub] if sub else r[key] for r in rounds)

    m = {
        "bare_p50_ms": med("bare_latency", "p50_ms"),
        "bare_p99_ms": med("bare_latency", "p99_ms"),
        "herald_p50_ms": med("herald_latency", "p50_ms"),
        "herald_p99_ms": med("herald_latency", "p99_ms"),
        "bare_throughput_per_s": med("bare_throughput"),
        "herald_throughput_per_s": med("herald_throughput"),
        "latency_ratio": med("latency_ratio"),
        "throughput_ratio": med("throughput_ratio"),
    }
    summary = {
        **provenance(),
        "rounds": rounds,
        "median": m,
        "goals": {"latency_ratio_max": 1.5, "throughput_ratio_min": 0.8},
        "goals_met": m["latency_ratio"] <= 1.5 and m["throughput_ratio"] >= 0.8,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "notification.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\nmedian of {len(rounds)} rounds:\n"
        f"  latency p50/p99   bare {m['bare_p50_ms']}/{m['bare_p99_ms']} ms   "
        f"herald {m['herald_p50_ms']}/{m['herald_p99_ms']} ms   "
        f"ratio {m['latency_ratio']} (goal <= 1.5)\n"
        f"  throughput @50    bare {m['bare_throughput_per_s']}/s   "
        f"herald {m['herald_throughput_per_s']}/s   "
        f"ratio {m['throughput_ratio']} (goal >= 0.8)\n"
        f"  goals met: {summary['goals_met']}   (written to bench/results/notification.json)"
    )


if __name__ == "__main__":
    asyncio.run(main())
