"""Where a notification's latency goes, step by step, and the latency ratio alone.

`python -m bench.steps` runs the benchmark's stack (bench/stack.py) with API replicas that note
the time around each step (bench/step_probe.py), sends BENCH_LATENCY_N notifications one after
the other per round, as `make bench` does, and prints the stretches of a notification's path
between milestones (the insert, the commit, the workflow's start, planning, the send's job, the
SMTP transaction, the arrival), then each step's start (ms after the POST) and duration: medians
over every notification of every round.

`python -m bench.steps --latency-only` runs the stack as `make bench` does, without the probe,
and measures only the latency part of `make bench` (the bare workflow's p50, then Herald's, in
alternating rounds): for A/B runs of two commits, each from its own checkout.

Single notifications are sent back to back, as in `make bench`; with --pause, each waits for the
previous notification's workflow to finish (its record and last activation then fall in its own
window instead of overlapping the next request). With --async-commit, PostgreSQL does not wait
for the disk at each commit (synchronous_commit = off): on a machine whose disk other work keeps
busy, a commit's flush varied from 0.1 to 8 ms and drowned what a change saved in round trips;
both sides of an A/B comparison must then run with it."""

import argparse
import asyncio
import bisect
import itertools
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bench.run import ArrivalCatcher, bare_once, notification_to
from bench.stack import herald_stack
from db.session import create_engine

LATENCY_N = int(os.environ.get("BENCH_LATENCY_N", 60))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))


async def herald_once(
    api: aiohttp.ClientSession, base_url: str, catcher: ArrivalCatcher
) -> tuple[float, float, float]:
    """As bench.run.herald_once; the POST's start, its response and the arrival (monotonic)."""
    address = f"{os.urandom(16).hex()}@bench.example"
    arrival = catcher.expect(address)
    started = time.monotonic()
    async with api.post(f"{base_url}/v1/notifications", json=notification_to(address)) as response:
        response.raise_for_status()
    answered = time.monotonic()
    # the catcher's clock (perf_counter) is CLOCK_MONOTONIC too
    return started, answered, await asyncio.wait_for(arrival, timeout=60)


async def main(latency_only: bool, pause: float, async_commit: bool) -> None:
    catcher = ArrivalCatcher(asyncio.get_running_loop())
    async with (
        herald_stack(catcher) as stack,
        aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {stack.key}"},
            timeout=aiohttp.ClientTimeout(total=60),
        ) as api,
    ):
        if async_commit:
            await without_waiting_for_the_disk(stack.database_url)
        replicas = itertools.cycle(stack.api_urls)
        for _ in range(20):  # connections, caches
            await bare_once(stack.client)
        for _ in range(20):
            await herald_once(api, next(replicas), catcher)
        sends: list[tuple[float, float, float]] = []
        ratios = []
        for round_no in range(ROUNDS):
            bare = [await bare_once(stack.client) for _ in range(LATENCY_N)]
            herald = []
            for _ in range(LATENCY_N):
                sent = await herald_once(api, next(replicas), catcher)
                herald.append(sent[2] - sent[0])
                sends.append(sent)
                if pause:
                    await asyncio.sleep(pause)
            bare_p50, herald_p50 = statistics.median(bare), statistics.median(herald)
            ratios.append(herald_p50 / bare_p50)
            print(
                f"round {round_no + 1}: bare p50 {bare_p50 * 1000:.1f} ms, herald p50 "
                f"{herald_p50 * 1000:.1f} ms, ratio {ratios[-1]:.3f}",
                flush=True,
            )
    print(f"median ratio {statistics.median(ratios):.3f} of {json.dumps(ratios)}")
    if not latency_only:
        print_steps(sends, Path(os.environ["HERALD_STEP_PROBE"]))


# A notification's path, point by point: (label, step, its start or its end). The time between
# two points is taken per notification, then the median of each stretch is printed.
MILESTONES = [
    ("POST sent", None, None),
    ("accept: insert begins", "accept.insert", "start"),
    ("accept: insert done", "accept.insert", "end"),
    ("accept: committed, start begins", "accept.start", "start"),
    ("accept: workflow started", "accept.start", "end"),
    ("first activation begins", "wf.activation", "start"),
    ("planning begins", "plan.load", "start"),
    ("planning recorded", "plan.record", "end"),
    ("send: its job loaded", ("send.load", "send.load+claim"), "start"),
    ("send: SMTP begins", "send.smtp", "start"),
]


def print_segments(
    sends: list[tuple[float, float, float]], noted: list[list[tuple[str, float, float]]]
) -> None:
    """The median of each stretch between two milestones, over the notifications."""
    stretches: dict[str, list[float]] = defaultdict(list)
    for send, steps in zip(sends, noted, strict=True):
        first: dict[str, tuple[float, float]] = {}
        for name, at, took in sorted(steps, key=lambda n: n[1]):
            first.setdefault(name, (at, at + took))
        points = []
        for label, step, end in MILESTONES:
            names = (step,) if isinstance(step, str) else step or ()
            found = [first[n] for n in names if n in first]
            if step is None:
                points.append((label, 0.0))
            elif found:
                points.append((label, found[0][1] if end == "end" else found[0][0]))
        points.append(("email arrived", (send[2] - send[0]) * 1000))
        for (a, at_a), (b, at_b) in itertools.pairwise(points):
            stretches[f"{a} -> {b}"].append(at_b - at_a)
    print("\nstretches (median ms over notifications):")
    for stretch, values in stretches.items():
        print(f"  {statistics.median(values):7.2f}  {stretch}")


async def without_waiting_for_the_disk(database_url: str) -> None:
    """synchronous_commit = off for every session from now on (ALTER SYSTEM, then a reload)."""
    engine = create_engine(database_url, pool_size=1)
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("ALTER SYSTEM SET synchronous_commit = off"))
        await connection.execute(text("SELECT pg_reload_conf()"))
    await engine.dispose()


def print_steps(sends: list[tuple[float, float, float]], probe: Path) -> None:
    """Each noted step belongs to the notification whose POST came last before it started; a
    step noted several times for one notification is numbered (wf.activation#2: its second)."""
    starts = [s[0] for s in sends]
    noted: list[list[tuple[str, float, float]]] = [[] for _ in sends]
    for line in probe.read_text().splitlines():
        name, _pid, start_ns, end_ns = line.split()
        start, end = int(start_ns) / 1e9, int(end_ns) / 1e9
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0:  # else warming up
            noted[i].append((name, (start - starts[i]) * 1000, (end - start) * 1000))
    steps: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for i, send in enumerate(sends):
        steps["POST answered"].append(((send[1] - send[0]) * 1000, 0.0))
        steps["email arrived"].append(((send[2] - send[0]) * 1000, 0.0))
        seen: dict[str, int] = defaultdict(int)
        for name, at, took in sorted(noted[i], key=lambda n: n[1]):
            seen[name] += 1
            steps[name if seen[name] == 1 else f"{name}#{seen[name]}"].append((at, took))
    print_segments(sends, noted)
    print(f"\n{len(sends)} notifications; medians in ms; 'of' is how many notifications had it\n")
    print(f"{'step':<18}{'of':>5}{'starts at':>11}{'ends at':>9}{'takes':>8}")
    for name, values in sorted(
        steps.items(), key=lambda kv: statistics.median(a for a, _ in kv[1])
    ):
        at = statistics.median(a for a, _ in values)
        end = statistics.median(a + t for a, t in values)
        took = statistics.median(t for _, t in values)
        print(f"{name:<18}{len(values):>5}{at:>11.2f}{end:>9.2f}{took:>8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between sends")
    parser.add_argument("--async-commit", action="store_true")
    args = parser.parse_args()
    if not args.latency_only:
        probe = Path(tempfile.mkdtemp(prefix="herald-steps-")) / "steps.txt"
        probe.touch()
        os.environ["HERALD_STEP_PROBE"] = str(probe)
        os.environ["BENCH_API_APP"] = "bench.step_probe:app"
    asyncio.run(main(args.latency_only, args.pause, args.async_commit))
