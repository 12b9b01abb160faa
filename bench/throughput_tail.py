"""Why a throughput round of `make bench` is slow: counts, not timings (issue 10).

`python -m bench.throughput_tail` runs make bench's throughput phase (bench/run.py: the bare
workflow, then Herald, at concurrency 50, BENCH_THROUGHPUT_N items each, then the round's
latency part, BENCH_ROUNDS rounds) on the same stack, and notes each Herald notification's
POST, answer and arrival. After each round it reads every one of that round's workflow
histories from Temporal and counts: workflow task timeouts, tasks per workflow, remote activity
tasks (a first attempt that failed and went on to retries), the first attempts plan_and_send
reported failed by failure type (SendInFlight: the send was claimed by another attempt), and
first workflow tasks not started eagerly (with how long they waited for a poller). It prints
the round's CPU per item by process (`other`: the rest of the host), the SMTP sessions and
PostgreSQL connections opened, the end-to-end distribution (the slow tail), the longest gap
between two arrivals and, for the slowest notifications and those whose task timed out, their
histories' events in time (seconds after the POST, and which process ran each task). The bare
workflows' task timeouts and longest run, and the errors the Temporal dev server has logged,
show what the server's own stalls did to either side. The processes' logs stay in
/tmp/herald-bench-*/logs."""

import asyncio
import itertools
import json
import os
import re
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.bare import TASK_QUEUE, BareWorkflow
from bench.cpu import per_item_ms, snapshot
from bench.run import CONCURRENCY, ArrivalCatcher, bare_once, notification_to
from bench.stack import herald_stack
from bench.stats import percentile

THROUGHPUT_N = int(os.environ.get("BENCH_THROUGHPUT_N", 600))
LATENCY_N = int(os.environ.get("BENCH_LATENCY_N", 60))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
SLOW_S = 2.0  # a notification this long from POST to arrival is in the tail
# A failure type plan_and_send reported for its first attempt, as its marker's payload holds it.
_REPORTED = re.compile(rb'"type":\s*"(\w+)"')
# What a local activity's marker says of its outcome: its type, a status, a failure's type.
_OUTCOME = re.compile(rb'"(?:activity_type|status|type)":\s*"(\w+)"')


class CountingCatcher(ArrivalCatcher):
    """Also counts SMTP sessions opened (each begins with EHLO)."""

    sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses


async def database_sessions(database_url: str) -> int:
    """Connections PostgreSQL has accepted since it started (pg_stat_database.sessions)."""
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as db:
        cursor = await db.execute("SELECT sum(sessions) FROM pg_stat_database")
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


@dataclass
class Sent:
    workflow_id: str
    posted: float  # perf_counter, seconds since the round began
    answered: float
    arrived: float
    posted_at: float = 0.0  # time.time() of the POST
    queued: float = 0.0  # seconds the first workflow task waited for a poller
    history: Counter = field(default_factory=Counter)
    timeline: list[str] = field(default_factory=list)


async def herald_once(
    api: aiohttp.ClientSession, url: str, catcher: ArrivalCatcher, began: float
) -> Sent:
    address = f"{uuid.uuid4().hex}@bench.example"
    arrival = catcher.expect(address)
    posted, posted_at = time.perf_counter(), time.time()
    for tries_left in (1, 0):  # a keep-alive connection the replica has just closed: once more
        try:
            async with api.post(
                f"{url}/v1/notifications", json=notification_to(address)
            ) as response:
                response.raise_for_status()
                workflow_id = (await response.json())["workflow_id"]
            break
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
            if not tries_left:
                raise
            print("a POST's connection was reset; sent again", flush=True)
    answered = time.perf_counter()
    arrived = await asyncio.wait_for(arrival, timeout=120)
    return Sent(workflow_id, posted - began, answered - began, arrived - began, posted_at)


def machine_busy_seconds() -> float:
    """CPU seconds every process on the host has spent (/proc/stat: all but idle and iowait)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


async def at_concurrency(once, groups: dict) -> tuple[float, list, dict]:
    """Wall seconds, what each item returned, and CPU ms per item by process group (`other`:
    the rest of the host, other work sharing the cores)."""
    remaining, done = THROUGHPUT_N, []
    before, busy = snapshot(groups), machine_busy_seconds()
    started = time.perf_counter()

    async def runner() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            done.append(await once(started))

    await asyncio.gather(*(runner() for _ in range(CONCURRENCY)))
    took = time.perf_counter() - started
    used = per_item_ms(before, snapshot(groups), THROUGHPUT_N)
    host = 1000 * (machine_busy_seconds() - busy) / THROUGHPUT_N
    used["other"] = round(host - sum(used.values()), 2)
    return took, done, used


async def read_history(client: Client, sent: Sent) -> None:
    """Events by type, and the failure types of plan_and_send's reported first attempt; for a
    workflow whose task timed out, its events in time (seconds after the POST) and by whom."""
    history = await client.get_workflow_handle(sent.workflow_id).fetch_history()
    counts: Counter = Counter()
    for event in history.events:
        name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
        counts[name] += 1
        at = event.event_time.ToDatetime().timestamp() - sent.posted_at
        who = event.workflow_task_started_event_attributes.identity
        if name == "MARKER_RECORDED":
            marker = event.marker_recorded_event_attributes
            data = b"".join(p.data for ps in marker.details.values() for p in ps.payloads)
            who = f"{marker.marker_name} {b' '.join(_OUTCOME.findall(data)).decode()}"
        sent.timeline.append(f"{at:.2f} {name}{' ' + who if who else ''}")
        if name == "MARKER_RECORDED":
            for payloads in event.marker_recorded_event_attributes.details.values():
                for payload in payloads.payloads:
                    if b"first_attempt" in payload.data:
                        for kind in _REPORTED.findall(payload.data):
                            counts[f"reported {kind.decode()}"] += 1
    # The first workflow task: started eagerly (with the execution: the API replica that
    # accepted the notification runs it) or handed to a poller by the server's matching.
    first, scheduled, started = history.events[0].event_time, None, None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED and not scheduled:
            scheduled = event.event_time.ToDatetime()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            started = event.event_time.ToDatetime()
            break
    if started is not None and scheduled is not None:
        queued = (started - scheduled).total_seconds()
        if (started - first.ToDatetime()).total_seconds() > 0.05:
            counts["first task not eager"] += 1
            counts["first task queued over 1 s"] += queued > 1
        sent.queued = queued
    sent.history = counts
    if not counts["WORKFLOW_TASK_TIMED_OUT"]:
        sent.timeline = []


async def main() -> None:
    catcher = CountingCatcher(asyncio.get_running_loop())
    async with (
        herald_stack(catcher) as stack,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONCURRENCY + 10),
            headers={"Authorization": f"Bearer {stack.key}"},
            timeout=aiohttp.ClientTimeout(total=120),
        ) as api,
    ):
        replicas = itertools.cycle(stack.api_urls)
        for _ in range(20):
            await bare_once(stack.client)
            await herald_once(api, next(replicas), catcher, 0.0)
        assert stack.bare_worker is not None
        groups: dict[str, list[int] | int] = {
            "temporal": [stack.temporal.pid],
            "bare_worker": [stack.bare_worker.pid],
            "herald_worker": [stack.worker.pid],
            "api": [p.pid for p in stack.apis],
            "postgres": stack.postmaster,
            "bench_client": [os.getpid()],
        }
        for round_no in range(ROUNDS):  # as bench/run.py: each round's latency part after
            bare_s, bare_ids, bare_cpu = await at_concurrency(
                lambda _began: bare_workflow(stack.client), groups
            )
            smtp_before = catcher.sessions
            database_before = await database_sessions(stack.database_url)
            herald_s, sends, herald_cpu = await at_concurrency(
                lambda began: herald_once(api, next(replicas), catcher, began), groups
            )
            print(
                f"herald round: {catcher.sessions - smtp_before} SMTP sessions opened,"
                f" {await database_sessions(stack.database_url) - database_before - 2}"
                f" PostgreSQL connections, for {THROUGHPUT_N} notifications",
                flush=True,
            )
            for _ in range(LATENCY_N):
                await bare_once(stack.client)
            for _ in range(LATENCY_N):
                await herald_once(api, next(replicas), catcher, 0.0)
            ratio = (THROUGHPUT_N / herald_s) / (THROUGHPUT_N / bare_s)
            print(
                f"round {round_no + 1}: bare {bare_s:.1f} s, herald {herald_s:.1f} s,"
                f" ratio {ratio:.2f}; CPU ms per item: bare {json.dumps(bare_cpu)},"
                f" herald {json.dumps(herald_cpu)}",
                flush=True,
            )
            await read_histories(stack.client, sends)
            report(round_no + 1, ratio, sends)
            print(f"  bare workflows: {json.dumps(await bare_counts(stack.client, bare_ids))}")
            errors = server_errors(stack.logs / "temporal.log")
            print(f"  Temporal server errors logged so far: {json.dumps(errors)}", flush=True)
        print(f"logs: {stack.logs}")


def server_errors(log: Path) -> dict[str, int]:
    """The Temporal dev server's logged errors by message (its persistence giving up on an
    update under load: a task it then loses until the task's timeout)."""
    found = re.findall(r'level=ERROR msg="([^"]+)"', log.read_text(errors="replace"))
    return dict(Counter(found))


async def bare_workflow(client: Client) -> str:
    """As bench.run.bare_once; the workflow's id."""
    workflow_id = f"bare-{uuid.uuid4()}"
    await client.execute_workflow(BareWorkflow.run, "x", id=workflow_id, task_queue=TASK_QUEUE)
    return workflow_id


async def bare_counts(client: Client, workflow_ids: list[str]) -> dict[str, float]:
    """The bare workflows' task timeouts, and their longest run: Temporal's own stalls show
    there as they do in Herald's workflows."""
    at_once = asyncio.Semaphore(20)
    counts: Counter = Counter()
    longest = 0.0

    async def read(workflow_id: str) -> None:
        nonlocal longest
        async with at_once:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        names = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events]
        counts.update(name for name in names if "TIMED_OUT" in name)
        took = (
            history.events[-1].event_time.ToDatetime() - history.events[0].event_time.ToDatetime()
        )
        longest = max(longest, took.total_seconds())

    await asyncio.gather(*(read(w) for w in workflow_ids))
    return {**counts, "longest run s": round(longest, 2)}


async def read_histories(client: Client, sends: list[Sent]) -> None:
    at_once = asyncio.Semaphore(20)

    async def read(sent: Sent) -> None:
        async with at_once:
            await read_history(client, sent)

    await asyncio.gather(*(read(s) for s in sends))


def report(round_no: int, ratio: float, sends: list[Sent]) -> None:
    took = [s.arrived - s.posted for s in sends]
    totals: Counter = Counter()
    for s in sends:
        totals.update({k: v for k, v in s.history.items() if v})
        totals["workflows with a task timeout"] += bool(s.history["WORKFLOW_TASK_TIMED_OUT"])
        totals["workflows with a remote attempt"] += bool(s.history["ACTIVITY_TASK_SCHEDULED"])
    print(f"\nround {round_no}: ratio {ratio:.2f}, {len(sends)} notifications")
    print(
        f"  POST to arrival: p50 {statistics.median(took):.3f} s, p90"
        f" {percentile(took, 0.9):.3f}, p99 {percentile(took, 0.99):.3f}, max {max(took):.2f};"
        f" over {SLOW_S} s: {sum(t > SLOW_S for t in took)}"
    )
    arrivals = sorted(s.arrived for s in sends)
    gap, at = max((b - a, a) for a, b in itertools.pairwise(arrivals))
    print(
        f"  arrivals: the 95th percentile's at {percentile(arrivals, 0.95):.1f} s, the last"
        f" at {arrivals[-1]:.1f} s; longest gap between two {gap:.2f} s (from {at:.1f} s)"
    )
    print("  history totals: " + json.dumps(dict(sorted(totals.items()))))
    waited = sorted(s.queued for s in sends if s.history["first task not eager"])
    if waited:
        print(
            f"  first tasks not started eagerly: {len(waited)}, waiting for a poller p50"
            f" {statistics.median(waited):.2f} s, max {waited[-1]:.2f} s"
        )
    for s in sorted(sends, key=lambda s: s.posted - s.arrived)[:3]:
        print(
            f"  slow: {s.workflow_id[-12:]} posted at {s.posted:.2f} s, answered"
            f" +{s.answered - s.posted:.2f}, arrived +{s.arrived - s.posted:.2f}:"
            f" {json.dumps(dict(s.history))}"
        )
    timed_out = [s for s in sends if s.timeline]
    for s in sorted(timed_out, key=lambda s: s.posted - s.arrived)[:3]:
        late = s.arrived - s.posted
        print(f"  a task timed out: {s.workflow_id[-12:]}, arrived +{late:.2f}:")
        print("    " + "\n    ".join(s.timeline))


if __name__ == "__main__":
    asyncio.run(main())
