"""`make bench`, part 5 of issue 15: priority under load. An urgent notification's latency, from
its POST /v1/notifications to its arrival at the SMTP server in this process, idle and then while
a large in-app broadcast runs, in the same run on the same servers: the ratio of the p99s
(goal: <= 2).

On bench/stack.py's stack, per layout (a fresh stack each):
1. BENCH_PRIORITY_URGENT (60) urgent emails, one after the other, BENCH_PRIORITY_INTERVAL_S
   (0.25 s) apart, after a few unmeasured ones: the idle figures.
2. POST /v1/broadcasts, in-app only, to every recipient of a second tenant seeded with
   BENCH_PRIORITY_RECIPIENTS (100,000) recipients by one COPY; once it has written its first
   page, the same urgent emails again: the loaded figures. The broadcast must still be running
   when the last one arrives (else the result says so), and it is awaited to the end.

Layouts (BENCH_PRIORITY_LAYOUTS, comma-separated; the first three by default):
- embedded: as deployed by default. The API replicas' embedded workers serve the default and
  urgent lanes (an urgent notification starts eagerly and is sent in the API process); the
  worker process serves every lane, the broadcast's included.
- shared: EMBEDDED_WORKER=false: one worker process serves every lane, so urgent notifications
  and the broadcast share its event loop (as notifications started by workers do: resends,
  booking reminders, agendas).
- split: EMBEDDED_WORKER=false, a worker process with WORKER_QUEUES=default,urgent and another
  with WORKER_QUEUES=broadcast (the Helm chart's shape).
- split-nice: split, the broadcast worker at WORKER_NICE=10.
- embedded-nice: embedded, the worker process at WORKER_NICE=10.

Results: bench/results/priority.json (with the hardware). With BENCH_PROFILE set, py-spy samples
the first API replica and the (first) worker process while the urgent emails go out under the
broadcast (bench/profiles/priority-<layout>-api.txt, -worker.txt).

    python -m bench.priority
    BENCH_PRIORITY_RECIPIENTS=20000 BENCH_PRIORITY_LAYOUTS=embedded python -m bench.priority
"""

import asyncio
import itertools
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from bench.broadcast import tenant_api
from bench.run import ArrivalCatcher, api_session, notification_to, start_profilers, stop_profilers
from bench.stack import Stack, herald_stack
from bench.stats import provenance, result_path, summary_ms
from tests.utils.audience import FINISHED, Member, broadcast_progress, copy_recipients

URGENT = int(os.environ.get("BENCH_PRIORITY_URGENT", 60))
WARMUP = 10
INTERVAL_S = float(os.environ.get("BENCH_PRIORITY_INTERVAL_S", 0.25))
RECIPIENTS = int(os.environ.get("BENCH_PRIORITY_RECIPIENTS", 100_000))
LAYOUTS: dict[str, tuple[dict[str, str], list[dict[str, str]]]] = {
    # name: (the API replicas' added environment, one worker process per added environment)
    "embedded": ({}, [{}]),
    "shared": ({"EMBEDDED_WORKER": "false"}, [{}]),
    "split": (
        {"EMBEDDED_WORKER": "false"},
        [{"WORKER_QUEUES": "default,urgent"}, {"WORKER_QUEUES": "broadcast"}],
    ),
    "split-nice": (
        {"EMBEDDED_WORKER": "false"},
        [{"WORKER_QUEUES": "default,urgent"}, {"WORKER_QUEUES": "broadcast", "WORKER_NICE": "10"}],
    ),
    "embedded-nice": ({}, [{"WORKER_NICE": "10"}]),
}
CHOSEN = os.environ.get("BENCH_PRIORITY_LAYOUTS", "embedded,shared,split").split(",")
GOAL_P99_RATIO = 2.0
BROADCAST_TIMEOUT_S = 3600
RESULTS = Path(__file__).parent / "results"


async def urgent_latencies(stack: Stack, catcher: ArrivalCatcher, count: int) -> list[float]:
    """`count` urgent emails, one after the other, INTERVAL_S apart: seconds from each POST to
    its arrival."""
    replicas = itertools.cycle(stack.api_urls)
    latencies = []
    async with api_session(stack, concurrency=1) as api:
        for _ in range(count):
            address = f"{uuid.uuid4().hex}@urgent.example"
            arrival = catcher.expect(address)
            started = time.perf_counter()
            body = notification_to(address) | {"priority": "urgent"}
            async with api.post(f"{next(replicas)}/v1/notifications", json=body) as response:
                response.raise_for_status()
            latencies.append(await asyncio.wait_for(arrival, timeout=60) - started)
            await asyncio.sleep(INTERVAL_S)
    return latencies


async def measure_layout(name: str) -> dict[str, Any]:
    api_env, worker_envs = LAYOUTS[name]
    catcher = ArrivalCatcher(asyncio.get_running_loop())
    async with herald_stack(
        catcher, bare_worker=False, api_env=api_env, worker_envs=worker_envs
    ) as stack:
        tenant_id, broadcaster = await tenant_api(stack, f"priority-{name}")
        seeded = time.perf_counter()
        members = [Member(external_id=f"p-{i}") for i in range(RECIPIENTS)]
        await copy_recipients(stack.database_url, tenant_id, members)
        print(f"[{name}] {RECIPIENTS:,} recipients seeded in {time.perf_counter() - seeded:.1f} s")

        await urgent_latencies(stack, catcher, WARMUP)
        idle = await urgent_latencies(stack, catcher, URGENT)
        print(f"[{name}] idle {summary_ms(idle)}")

        async with broadcaster:
            posted = time.perf_counter()
            response = await broadcaster.post(
                "/v1/broadcasts",
                json={"audience": {"all": True}, "event_key": "news.announcement",
                      "channels": ["in_app"],
                      "context": {"subject": "Our news", "message": "Something new."}},
                headers={"Idempotency-Key": f"bench-priority-{uuid.uuid4()}"},
            )  # fmt: skip
            response.raise_for_status()
            broadcast_id = response.json()["id"]
            before = await first_page_written(broadcaster, broadcast_id)
            samplers = start_profilers(
                {
                    f"priority-{name}-api": stack.apis[0].pid,
                    f"priority-{name}-worker": stack.worker.pid,
                }
            )
            loaded = await urgent_latencies(stack, catcher, URGENT)
            stop_profilers(samplers)
            after = await broadcast_progress(broadcaster, broadcast_id)
            print(f"[{name}] under the broadcast {summary_ms(loaded)}; broadcast at {after}")
            finished = await finished_broadcast(broadcaster, broadcast_id)
            took = time.perf_counter() - posted
    ratio = summary_ms(loaded)["p99_ms"] / summary_ms(idle)["p99_ms"]
    return {
        "api_env": api_env,
        "worker_processes": worker_envs,
        "idle": summary_ms(idle),
        "under_broadcast": summary_ms(loaded),
        "p99_ratio": round(ratio, 2),
        "goal_met": ratio <= GOAL_P99_RATIO,
        "broadcast": {
            "recipients": RECIPIENTS,
            "status": finished["status"],
            "seconds": round(took, 1),
            "recipients_per_second": round(RECIPIENTS / took, 1),
            "planned_when_urgent_sends_began": before["planned"],
            "planned_when_they_ended": after["planned"],
            "still_running_when_they_ended": after["status"] not in FINISHED,
        },
    }


async def first_page_written(api: Any, broadcast_id: str) -> dict[str, Any]:
    """GET its progress until it has written recipients: the broadcast is under way."""
    deadline = time.monotonic() + BROADCAST_TIMEOUT_S
    while True:
        progress = await broadcast_progress(api, broadcast_id)
        if progress["planned"] > 0 or progress["status"] in FINISHED:
            return progress
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the broadcast wrote nothing in {BROADCAST_TIMEOUT_S} s: {progress}"
            )
        await asyncio.sleep(0.05)


async def finished_broadcast(api: Any, broadcast_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + BROADCAST_TIMEOUT_S
    while (progress := await broadcast_progress(api, broadcast_id))["status"] not in FINISHED:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the broadcast did not finish in {BROADCAST_TIMEOUT_S} s")
        await asyncio.sleep(0.5)
    return progress


async def main() -> None:
    layouts = {name: await measure_layout(name) for name in CHOSEN}
    result = {
        **provenance(),
        "urgent_notifications": URGENT,
        "interval_s": INTERVAL_S,
        "broadcast_recipients": RECIPIENTS,
        "goal": f"under the broadcast, urgent p99 <= {GOAL_P99_RATIO}x idle p99",
        "layouts": layouts,
    }
    print(json.dumps(result, indent=2))
    path = result_path(RESULTS, "priority")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
