"""`make bench`, pending booking chains: how fast Herald starts them, what they cost while they
wait, and how punctually their reminders go out, in one run on the servers of bench/stack.py.

1. Start rate: BENCH_CHAINS booking.created events through Herald's event ingestion
   (POST /v1/events, spread over the API replicas, at concurrency BENCH_CONCURRENCY), each
   booking three days ahead with its two reminders (24 h and 1 h before), against as many bare
   workflow starts at the same concurrency (bench/bare.py's BareChainWorkflow: two timers,
   nothing sent), timed until their worker has run their first tasks. In alternating batches
   (BENCH_ROUNDS). Herald's figure is chains started per second, timed like the bare ones
   until each has run its first task: every event answered and every booking recorded by its
   chain (the `bookings` row its first task writes, reminders planned). The events are sent
   with `Prefer: respond-async` (BENCH_EVENTS_PREFER), as a sender of many would: the answer
   comes once the event is durably the chain's (`queued`); with BENCH_EVENTS_PREFER empty, each
   answer waits for the chain's verdict, up to 1.5 s. The chains' confirmations (invitee and
   organizer) go out meanwhile; the rate including the wait for the last of them is `settled`.
2. Memory while they wait: the resident size of Herald's worker process and API replicas (each
   runs a worker) once every chain has settled; a worker keeps at most
   WORKER_MAX_CACHED_WORKFLOWS workflows in memory and evicts the rest.
3. Punctuality: BENCH_DUE_REMINDERS more chains whose first reminder is due within the same
   minute (spread evenly over BENCH_DUE_SPREAD_S seconds), started beforehand; each reminder's
   arrival at the SMTP catcher against its due time.
With BENCH_PROFILE set, py-spy samples the worker and API replicas during Herald's starts
(collapsed stacks under bench/profiles/chains_*.txt).
"""

import asyncio
import itertools
import json
import math
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.bare import TASK_QUEUE, BareChainWorkflow
from bench.cpu import cpu_seconds, snapshot
from bench.run import api_session, start_profilers, stop_profilers
from bench.stack import API_PROCESSES, Stack, herald_stack
from bench.stack import cpu_groups as stack_cpu_groups
from bench.stats import percentile, provenance
from db.session import create_engine, session_factory
from devtools.mailcatcher import MailCatcher

CHAINS = int(os.environ.get("BENCH_CHAINS", 10_000))
DUE_REMINDERS = int(os.environ.get("BENCH_DUE_REMINDERS", 1_000))
DUE_SPREAD_S = float(os.environ.get("BENCH_DUE_SPREAD_S", 60))
# How long after the last due time a reminder is still waited for (and its lateness measured).
DUE_GRACE_S = float(os.environ.get("BENCH_DUE_GRACE_S", 120))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", 50))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))  # the chains are started in this many batches
ORGANIZERS = int(os.environ.get("BENCH_ORGANIZERS", 100))
# The events' Prefer header: `respond-async` answers once the event is durably the chain's (what
# a sender of many events wants); empty, the API waits up to 1.5 s for each chain's verdict.
# Either way a batch counts as started once every chain has recorded its booking.
EVENTS_PREFER = os.environ.get("BENCH_EVENTS_PREFER", "respond-async")
SETTLE_TIMEOUT_S = float(os.environ.get("BENCH_SETTLE_TIMEOUT_S", 1800))
GOALS = {"start_ratio_min": 0.8, "worker_rss_mb_max": 400, "reminder_lateness_s_max": 5.0}
RESULTS = Path(__file__).parent / "results"
SUBJECT = re.compile(rb"^Subject: ?(.*)$", re.MULTILINE)


class ArrivalLog(MailCatcher):
    """Notes when each address received mail (wall-clock time, to compare with due times), and
    the subject; keeps no messages."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[str, list[tuple[float, str]]] = defaultdict(list)
        self.count = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        arrived = time.time()
        found = SUBJECT.search(envelope.content[:4096])
        subject = found.group(1).decode(errors="replace").strip() if found else ""
        for address in envelope.rcpt_tos:
            self.arrivals[address].append((arrived, subject))
        self.count += len(envelope.rcpt_tos)
        return "250 OK"


def booking_created(
    booking_id: str, start: datetime, invitee: str, organizer: str, offsets: list[float] | None
) -> dict[str, Any]:
    """A booking.created event for a 30-minute booking at `start`."""
    data: dict[str, Any] = {
        "booking_id": booking_id,
        "organizer": {
            "id": organizer,
            "name": "Olga Organizer",
            "email": f"{organizer}@bench.example",
        },
        "invitee": {"name": "Ian Invitee", "email": invitee},
        "event_name": "Intro call",
        "start": start.isoformat(),
        "end": (start + timedelta(minutes=30)).isoformat(),
        "meeting_link": "https://meet.example.com/j/1",
    }
    if offsets:
        data["reminder_minutes_before"] = offsets
    return {
        "id": f"evt-{uuid.uuid4().hex}",
        "type": "booking.created",
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": data,
    }


async def at_concurrency(numbers: range, once: Callable[[int], Awaitable[None]]) -> float:
    """Runs once(number) for each of `numbers`, CONCURRENCY at a time; returns the seconds it
    took."""
    remaining = iter(numbers)
    started = time.perf_counter()

    async def runner() -> None:
        for number in remaining:
            await once(number)

    await asyncio.gather(*(runner() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


class Herald:
    """Posts booking.created events to the API replicas in turn, counting the answers."""

    def __init__(self, api: aiohttp.ClientSession, stack: Stack):
        self.api = api
        self.replicas = itertools.cycle(stack.api_urls)
        self.outcomes: dict[str, int] = defaultdict(int)
        self.headers = {"Prefer": EVENTS_PREFER} if EVENTS_PREFER else {}

    async def create(self, body: dict[str, Any]) -> None:
        """Posts the event; once more if the connection broke (an API replica closes a
        keep-alive connection idle for 5 s, which the client may be reusing just then). The
        same event id is accepted once: a repeat that finds it answers `duplicate`."""
        for attempt in (1, 2):
            try:
                async with self.api.post(
                    f"{next(self.replicas)}/v1/events", json=body, headers=self.headers
                ) as response:
                    answer = await response.json() if response.status in (200, 202) else {}
                    outcome = (
                        "duplicate"
                        if answer.get("duplicate")
                        else answer.get("outcome") or f"http {response.status}"
                    )
                    self.outcomes[outcome] += 1
                    return
            except aiohttp.ClientConnectionError:
                if attempt == 2:
                    self.outcomes["http connection broken"] += 1

    def started(self) -> int:
        """Chains started so far: events answered 202 (applied, or queued for the chain), or
        found a duplicate on a repeat."""
        return sum(n for outcome, n in self.outcomes.items() if not outcome.startswith("http"))


def rss_mb(pid: int) -> dict[str, float]:
    """Resident size now and at its peak (VmRSS, VmHWM), in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return {
        "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
        "peak_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
    }


async def settle(catcher: ArrivalLog, expected: int) -> float:
    """Waits until `expected` emails have arrived in all, or none has for 60 s; returns when the
    last one arrived (wall clock)."""
    last_count, last_change = catcher.count, time.monotonic()
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while catcher.count < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if catcher.count != last_count:
            last_count, last_change = catcher.count, time.monotonic()
        elif time.monotonic() - last_change > 60:
            break
    return max((t for times in catcher.arrivals.values() for t, _ in times), default=time.time())


async def recorded_until(
    sessions: async_sessionmaker[AsyncSession], tenant_id: str, ids: list[str]
) -> float:
    """When (wall clock) the last of the bookings `ids` was found recorded, polling every 50 ms:
    each chain records its booking in its first task."""
    count = text("SELECT count(*) FROM bookings WHERE tenant_id = :tenant AND id = ANY(:ids)")
    while True:
        async with sessions() as session:
            recorded = (await session.execute(count, {"tenant": tenant_id, "ids": ids})).scalar()
        if recorded == len(ids):
            return time.time()
        await asyncio.sleep(0.05)


async def busy_until(pid: int) -> float:
    """When (wall clock) process `pid` last used CPU, once it has used none for half a second:
    for a worker, when it finished the tasks queued for it."""
    used, last_busy = cpu_seconds(pid), time.time()
    while time.time() - last_busy < 0.5:
        await asyncio.sleep(0.05)
        if (now := cpu_seconds(pid)) != used:
            used, last_busy = now, time.time()
    return last_busy


def lateness_summary(lateness_s: list[float], expected: int) -> dict[str, Any]:
    """How late the reminders arrived against their due times (negative: early)."""
    within = sum(1 for late in lateness_s if late <= GOALS["reminder_lateness_s_max"])
    return {
        "expected": expected,
        "arrived": len(lateness_s),
        "within_goal": within,
        "p50_s": round(percentile(lateness_s, 0.5), 2) if lateness_s else None,
        "p99_s": round(percentile(lateness_s, 0.99), 2) if lateness_s else None,
        "max_s": round(max(lateness_s), 2) if lateness_s else None,
        "min_s": round(min(lateness_s), 2) if lateness_s else None,
    }


async def main() -> None:
    catcher = ArrivalLog()
    async with (
        herald_stack(catcher) as stack,
        api_session(stack, CONCURRENCY, timeout_s=120) as api,
    ):
        result = await measure(stack, api, catcher)
    report(result)


async def measure(stack: Stack, api: aiohttp.ClientSession, catcher: ArrivalLog) -> dict[str, Any]:
    herald = Herald(api, stack)
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    reminders_due = [(start - timedelta(minutes=m)).isoformat() for m in (1440, 60)]
    workers = {"worker": stack.worker.pid, **{f"api{i}": p.pid for i, p in enumerate(stack.apis)}}
    cpu_groups = stack_cpu_groups(stack)
    assert stack.bare_worker is not None
    engine = create_engine(stack.database_url, pool_size=1)
    sessions = session_factory(engine)

    async def bare_start(number: int) -> None:
        await stack.client.start_workflow(
            BareChainWorkflow.run,
            reminders_due,
            id=f"bare-chain-{number}-{uuid.uuid4().hex[:8]}",
            task_queue=TASK_QUEUE,
        )

    async def herald_start(number: int) -> None:
        await herald.create(
            booking_created(
                f"bk-{number}",
                start,
                f"chain-{number}@bench.example",
                f"org-{number % ORGANIZERS}",
                None,  # the default offsets: 24 h and 1 h before
            )
        )

    for number in range(10):  # warm: connections, the first imports of every path
        await bare_start(-number - 1)
        await herald_start(-number - 1)
    await settle(catcher, 20)
    warm_count = catcher.count

    # Alternate batches, so that drift in the machine's load hits both alike; each Herald batch
    # settles (its confirmations sent) before the next bare batch starts.
    bare_s = herald_s = settled_s = answered_s = 0.0
    cpu: dict[str, dict[str, float]] = {"bare": defaultdict(float), "herald": defaultdict(float)}
    ratios = []
    samplers = start_profilers({f"chains_{name}": pid for name, pid in workers.items()})
    for batch in range(ROUNDS):
        numbers = range(batch * CHAINS // ROUNDS, (batch + 1) * CHAINS // ROUNDS)
        took = {}
        for name, once in (("bare", bare_start), ("herald", herald_start)):
            before, began = snapshot(cpu_groups), time.time()
            mails, started = catcher.count, herald.started()
            took[name] = await at_concurrency(numbers, once)
            if name == "bare":  # started, and waiting on their first timer
                took[name] = await busy_until(stack.bare_worker.pid) - began
            else:  # answered, and each chain's first task done
                answered_s += took[name]
                ids = [f"bk-{number}" for number in numbers]
                took[name] = await recorded_until(sessions, stack.tenant_id, ids) - began
            if name == "herald":  # two confirmations a chain: the invitee's, the organizer's
                expected = mails + 2 * (herald.started() - started)
                settled_s += await settle(catcher, expected) - began
            for group, seconds in snapshot(cpu_groups).items():
                cpu[name][group] += seconds - before[group]
        bare_s, herald_s = bare_s + took["bare"], herald_s + took["herald"]
        ratios.append(round(took["bare"] / took["herald"], 2))
        print(
            f"batch {batch + 1}: {len(numbers)} chains, bare {took['bare']:.1f} s, "
            f"herald {took['herald']:.1f} s (ratio {ratios[-1]}) {dict(herald.outcomes)}",
            flush=True,
        )
    stop_profilers(samplers)
    await engine.dispose()
    confirmations = catcher.count - warm_count
    await asyncio.sleep(5)  # the last workflow tasks and activities finish
    waiting_rss = {name: rss_mb(pid) for name, pid in workers.items()}
    print(f"settled: {confirmations} confirmations; memory {waiting_rss}", flush=True)
    bare_cpu, herald_cpu = (
        {group: round(1000 * used / CHAINS, 2) for group, used in cpu[name].items()}
        for name in ("bare", "herald")
    )

    herald_rate = CHAINS / herald_s
    due = await punctuality(herald, catcher, herald_rate) if DUE_REMINDERS else {}
    return {
        "bare_starts_per_s": round(CHAINS / bare_s, 1),
        "herald_starts_per_s": round(herald_rate, 1),
        # Events answered per second (all answered, chains not necessarily started yet).
        "herald_answered_per_s": round(CHAINS / answered_s, 1),
        "answered_ratio": round(bare_s / answered_s, 2),
        "start_ratio": round(bare_s / herald_s, 2),
        "herald_settled_per_s": round(CHAINS / settled_s, 1),
        "settled_ratio": round(bare_s / settled_s, 2),
        "batch_ratios": ratios,
        "herald_outcomes": dict(herald.outcomes),
        "confirmations_arrived": confirmations,
        "bare_cpu_ms_per_chain": bare_cpu,
        "herald_cpu_ms_per_chain": herald_cpu,
        "bare_cpu_ms_total": round(sum(bare_cpu.values()), 2),
        "herald_cpu_ms_total": round(sum(herald_cpu.values()), 2),
        "waiting_memory": waiting_rss,
        "after_reminders_memory": {name: rss_mb(pid) for name, pid in workers.items()},
        "worker_max_cached_workflows": int(os.environ.get("WORKER_MAX_CACHED_WORKFLOWS", 1000)),
        "reminders": due,
    }


async def punctuality(herald: Herald, catcher: ArrivalLog, start_rate: float) -> dict[str, Any]:
    """DUE_REMINDERS chains whose first reminder falls due within one minute, starting at a
    whole minute once they have all been started (at the start rate just measured, with room
    to spare); how late each reminder arrived."""
    lead_s = 1.5 * DUE_REMINDERS / start_rate + 30
    first_due = datetime.fromtimestamp(
        math.ceil((time.time() + lead_s) / 60) * 60, UTC
    )  # a whole minute
    dues = [
        first_due + timedelta(seconds=DUE_SPREAD_S * number / DUE_REMINDERS)
        for number in range(DUE_REMINDERS)
    ]

    async def create(number: int) -> None:
        # The booking 10 minutes after its first reminder; its second, 5 minutes before the
        # booking, falls after the measurement.
        await herald.create(
            booking_created(
                f"due-{number}",
                dues[number] + timedelta(minutes=10),
                f"due-{number}@bench.example",
                f"org-{number % ORGANIZERS}",
                [10, 5],
            )
        )

    created_s = await at_concurrency(range(DUE_REMINDERS), create)
    created_by = datetime.now(UTC)
    print(
        f"due: {DUE_REMINDERS} chains started in {created_s:.1f} s; reminders due from "
        f"{first_due:%H:%M:%S} (started {(first_due - created_by).total_seconds():.0f} s before)",
        flush=True,
    )
    end = dues[-1].timestamp() + DUE_GRACE_S
    while time.time() < end and not all(
        _reminder_arrival(catcher, number) for number in range(DUE_REMINDERS)
    ):
        await asyncio.sleep(1)
    lateness = [
        arrival - dues[number].timestamp()
        for number in range(DUE_REMINDERS)
        if (arrival := _reminder_arrival(catcher, number)) is not None
    ]
    return {
        "due_from": first_due.isoformat(),
        "spread_s": DUE_SPREAD_S,
        "started_s_before_first_due": round((first_due - created_by).total_seconds(), 1),
        **lateness_summary(lateness, DUE_REMINDERS),
    }


def _reminder_arrival(catcher: ArrivalLog, number: int) -> float | None:
    """The reminder's arrival: the invitee's mail after the confirmation (its subject differs)."""
    mails = catcher.arrivals.get(f"due-{number}@bench.example", [])
    if len(mails) < 2:
        return None
    return mails[-1][0]


def report(result: dict[str, Any]) -> None:
    reminders = result["reminders"] or lateness_summary([], 0)
    worst_rss = max(m["rss_mb"] for m in result["waiting_memory"].values())
    met = {
        "start_ratio": result["start_ratio"] >= GOALS["start_ratio_min"],
        "worker_rss": worst_rss < GOALS["worker_rss_mb_max"],
        "reminders": reminders["within_goal"] == reminders["expected"],
    }
    summary = {
        **provenance(),
        "sizes": {
            "chains": CHAINS,
            "due_reminders": DUE_REMINDERS,
            "due_spread_s": DUE_SPREAD_S,
            "concurrency": CONCURRENCY,
            "batches": ROUNDS,
            "organizers": ORGANIZERS,
            "api_processes": API_PROCESSES,
            "events_prefer": EVENTS_PREFER,
        },
        **result,
        "goals": GOALS,
        "goals_met": met,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chains.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\n{CHAINS} booking chains, concurrency {CONCURRENCY}:\n"
        f"  start rate   bare {result['bare_starts_per_s']}/s   "
        f"herald {result['herald_starts_per_s']}/s (settled "
        f"{result['herald_settled_per_s']}/s, ratio {result['settled_ratio']})   ratio "
        f"{result['start_ratio']} (goal >= "
        f"{GOALS['start_ratio_min']})\n"
        f"  events answered {result['herald_answered_per_s']}/s (ratio "
        f"{result['answered_ratio']}, Prefer: {EVENTS_PREFER or '-'})\n"
        f"  CPU ms/chain bare {result['bare_cpu_ms_total']}   herald "
        f"{result['herald_cpu_ms_total']}\n"
        f"  memory while waiting: largest resident {worst_rss} MB (goal < "
        f"{GOALS['worker_rss_mb_max']})\n"
        f"  {reminders['expected']} reminders due within {DUE_SPREAD_S:.0f} s: "
        f"{reminders['within_goal']} within {GOALS['reminder_lateness_s_max']} s, lateness "
        f"p50 {reminders['p50_s']} s p99 {reminders['p99_s']} s max {reminders['max_s']} s\n"
        f"  goals met: {met}   (written to bench/results/chains.json)"
    )


if __name__ == "__main__":
    asyncio.run(main())
