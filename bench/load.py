"""`make bench`, load: 1,000 concurrent POST /v1/notifications, half of them repeating an
Idempotency-Key, some of those with a conflicting body.

On the stack bench/run.py measures (bench/stack.py: PostgreSQL, a Temporal dev server, one API
replica per core and a worker), all at once from one aiohttp client on loopback, in an order
shuffled with a fixed seed:
- KEYS requests, each with its own key and its own address (the key's `original` body);
- REPEATS requests repeating one of those keys with the same body (a replay: 202, the same id);
- CONFLICTS requests repeating a key with another body, mailing another address (a conflict).
Whichever body of a key is accepted first wins; every request with the other body is a 409.

Then, once every workflow has closed: the HTTP codes (goal: no 5xx, no connection errors), per
key exactly one notification row and one workflow execution (PostgreSQL and Temporal's
visibility), and exactly one email, at the accepted body's address (counted at the SMTP server by
address). 409 only for the body that lost, and one id per key. The request latency (p50/p99) and
the drain time (the burst's start to the last email) are reported, not goals: the machine is
shared and noisy. BENCH_LOAD_ROUNDS bursts (3) run on one stack, each with keys of its own once
the previous one has drained: a rare failure shows as the rounds that met a goal. Written to
bench/results/load.json: every round, the medians of the figures and the rounds meeting each goal.

    python -m bench.load
"""

import asyncio
import email.policy
import json
import os
import random
import statistics
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from bench.stack import Stack, herald_stack
from bench.stats import provenance, summary_ms
from devtools.mailcatcher import MailCatcher
from temporal_clients.notifications import notification_workflow_id

KEYS = int(os.environ.get("BENCH_LOAD_KEYS", 500))
REPEATS = int(os.environ.get("BENCH_LOAD_REPEATS", 400))
CONFLICTS = int(os.environ.get("BENCH_LOAD_CONFLICTS", 100))
SEED = 12
ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", 3))
DRAIN_TIMEOUT_S = 300
RESULTS = Path(__file__).parent / "results" / "load.json"
HEADERS = BytesHeaderParser(policy=email.policy.default)


class CountingCatcher(MailCatcher):
    """Counts arrivals by address, with each message's Message-ID and arrival time (the SMTP
    server runs in its own thread; appending to a list is safe across threads)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[str, str, float]] = []  # (address, Message-ID, perf_counter)

    async def handle_DATA(self, server, session, envelope) -> str:
        arrived = time.perf_counter()
        message_id = str(HEADERS.parsebytes(envelope.content)["Message-ID"])
        for address in envelope.rcpt_tos:
            self.arrivals.append((address, message_id, arrived))
        return "250 OK"


@dataclass
class Request:
    key: str
    variant: str  # "original" or "conflicting": which of the key's two bodies
    address: str
    status: int | str = 0  # the HTTP status, or the client error's name
    latency_s: float = 0.0
    answer: dict[str, Any] = field(default_factory=dict)


def plan(run: str) -> list[Request]:
    """Every request of the burst, shuffled: each key once, then repeats and conflicts of keys
    drawn at random (a key may be drawn more than once)."""
    rng = random.Random(SEED)
    keys = [f"load-{run}-{i}" for i in range(KEYS)]
    requests = [Request(key, "original", address_of(key, "original")) for key in keys]
    for variant, n in (("original", REPEATS), ("conflicting", CONFLICTS)):
        for key in rng.choices(keys, k=n):
            requests.append(Request(key, variant, address_of(key, variant)))
    rng.shuffle(requests)
    return requests


def address_of(key: str, variant: str) -> str:
    return f"{key}-{variant}@load.example"


async def post(api: aiohttp.ClientSession, base_url: str, request: Request) -> None:
    body = {
        "recipient": {"email": request.address},
        "event_key": "payment.completed",
        "channels": ["email"],
        "context": {"subject": "Payment received", "message": "We received your payment."},
    }
    started = time.perf_counter()
    try:
        async with api.post(
            f"{base_url}/v1/notifications", json=body, headers={"Idempotency-Key": request.key}
        ) as response:
            request.status = response.status
            request.answer = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as error:
        request.status = type(error).__name__
    request.latency_s = time.perf_counter() - started


async def workflows_by_id(client: Client, tenant_id: str, run: str) -> dict[str, list[Any]]:
    """The tenant's notification workflow executions of this run (every run of an id counts),
    by workflow id, from Temporal's visibility store via the HeraldTenant search attribute."""
    prefix = notification_workflow_id(tenant_id, f"load-{run}-")
    found: dict[str, list[Any]] = defaultdict(list)
    async for execution in client.list_workflows(f"HeraldTenant = '{tenant_id}'"):
        if execution.id.startswith(prefix):
            found[execution.id].append(execution)
    return found


async def wait_until_closed(client: Client, tenant_id: str, run: str) -> dict[str, list[Any]]:
    """Polls visibility until every key's workflow is listed and none is running any more: after
    that no email can still be on its way."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while True:
        found = await workflows_by_id(client, tenant_id, run)
        running = [
            e
            for runs in found.values()
            for e in runs
            if e.status == WorkflowExecutionStatus.RUNNING
        ]
        if (len(found) >= KEYS and not running) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(1)


def notification_rows(database_url: str, tenant_id: str, run: str) -> dict[str, list[tuple]]:
    """The tenant's notification rows of this run, by idempotency key: (id, recipient_email)."""
    rows: dict[str, list[tuple]] = defaultdict(list)
    with psycopg.connect(database_url) as db:
        for key, notification_id, email in db.execute(
            "SELECT idempotency_key, id, recipient_email FROM notifications"
            " WHERE tenant_id = %s AND idempotency_key LIKE %s",
            (tenant_id, f"load-{run}-%"),
        ):
            rows[key].append((str(notification_id), email))
    return rows


def check(
    requests: list[Request],
    rows: dict[str, list[tuple]],
    workflows: dict[str, list[Any]],
    arrivals: list[tuple[str, str, float]],
    tenant_id: str,
) -> dict[str, Any]:
    """Per key: what was accepted, and each way it could have gone wrong, counted."""
    by_key: dict[str, list[Request]] = defaultdict(list)
    for request in requests:
        by_key[request.key].append(request)
    mailed = Counter(address for address, _, _ in arrivals)
    problems: dict[str, list[str]] = defaultdict(list)
    for key, sent in by_key.items():
        accepted = [r for r in sent if r.status == 202]
        variants = {r.variant for r in accepted}
        ids = {r.answer.get("id") for r in accepted}
        if len(variants) != 1 or len(ids) != 1:
            problems["not_one_accepted_body_and_id"].append(key)
            continue
        winner = accepted[0]
        # One acceptance that was not a replay, unless the request that stored the row failed
        # afterwards (a 503 starting the workflow): its retries are replays.
        firsts = sum(not r.answer.get("replayed") for r in accepted)
        if firsts > 1 or (firsts == 0 and all(r.status in (202, 409) for r in sent)):
            problems["not_one_first_acceptance"].append(key)
        if any(r.status == 409 and r.variant == winner.variant for r in sent):
            problems["409_for_the_accepted_body"].append(key)
        if any(r.status not in (202, 409) for r in sent):
            problems["other_status"].append(key)
        if rows.get(key) != [(winner.answer["id"], winner.address)]:
            problems["not_one_row_with_the_accepted_address"].append(key)
        if len(workflows.get(notification_workflow_id(tenant_id, key), [])) != 1:
            problems["not_one_workflow"].append(key)
        loser = "conflicting" if winner.variant == "original" else "original"
        if mailed[winner.address] != 1:
            problems["not_one_email_to_the_accepted_address"].append(key)
        if mailed[address_of(key, loser)]:
            problems["email_to_the_refused_address"].append(key)
    return {name: keys for name, keys in problems.items()}


async def diagnose(
    client: Client,
    requests: list[Request],
    problems: dict[str, list[str]],
    arrivals: list[tuple[str, str, float]],
    tenant_id: str,
    started: float,
) -> dict[str, Any]:
    """What went wrong, for the report: the answers of the unexpected codes (by code and
    problem type); how many workflows have each kind of failure or timeout in their history;
    for each key mailed more than once, its emails (Message-ID, seconds after the burst began)
    and its history's failures."""
    unexpected = Counter(
        f"{r.status} {r.answer.get('type', '').rpartition('/')[2]}".strip()
        for r in requests
        if r.status not in (202, 409)
    )
    examples = {str(r.status): r.answer for r in requests if r.status not in (202, 409)}
    keys = sorted({r.key for r in requests})
    at_once = asyncio.Semaphore(20)
    histories = (history_failures(client, tenant_id, key, at_once) for key in keys)
    failures = dict(zip(keys, await asyncio.gather(*histories), strict=True))
    workflows_with = Counter(kind for found in failures.values() for kind in set(found.values()))
    mailed_twice = {
        key: {
            "emails": [
                (message_id, round(t - started, 2))
                for address, message_id, t in arrivals
                if address.startswith(f"{key}-")
            ],
            "history_failures": failures[key],
        }
        for key in problems.get("not_one_email_to_the_accepted_address", [])[:10]
    }
    return {
        "unexpected_answers": dict(unexpected),
        "examples": examples,
        "workflows_with": dict(workflows_with),
        "mailed_twice": mailed_twice,
    }


async def history_failures(
    client: Client, tenant_id: str, key: str, at_once: asyncio.Semaphore
) -> dict[int, str]:
    """The failure and timeout events of a key's workflow history, by event id."""
    async with at_once:
        handle = client.get_workflow_handle(notification_workflow_id(tenant_id, key))
        history = await handle.fetch_history()
    named = ((event.event_id, EventType.Name(event.event_type)) for event in history.events)
    return {
        event_id: name.removeprefix("EVENT_TYPE_")
        for event_id, name in named
        if any(word in name for word in _FAILURE_EVENTS)
    }


_FAILURE_EVENTS = ("FAILED", "TIMED_OUT", "CANCELED", "TERMINATED")


async def main() -> None:
    catcher = CountingCatcher()
    rounds: list[dict[str, Any]] = []
    async with (
        herald_stack(catcher, bare_worker=False) as stack,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),  # no limit: every request at once
            headers={"Authorization": f"Bearer {stack.key}"},
            timeout=aiohttp.ClientTimeout(total=120),
        ) as api,
    ):
        # Warm-up, not counted: connections, caches, the sandbox's first imports.
        for i in range(20):
            warm = Request(f"warm-{i}", "original", f"warm-{i}@load.example")
            await post(api, stack.api_urls[i % len(stack.api_urls)], warm)
        for round_no in range(ROUNDS):  # each with keys of its own, after the last has drained
            print(f"round {round_no + 1} of {ROUNDS}", flush=True)
            rounds.append(await burst(stack, api, catcher))
    write(rounds)


async def burst(stack: Stack, api: aiohttp.ClientSession, catcher: CountingCatcher) -> dict:
    """One burst, waited out and checked; its summary."""
    run = uuid.uuid4().hex[:8]
    requests = plan(run)
    started = time.perf_counter()
    await asyncio.gather(
        *(
            post(api, stack.api_urls[i % len(stack.api_urls)], request)
            for i, request in enumerate(requests)
        )
    )
    answered = time.perf_counter()
    workflows = await wait_until_closed(stack.client, stack.tenant_id, run)
    rows = notification_rows(stack.database_url, stack.tenant_id, run)
    arrivals = [a for a in catcher.arrivals if a[0].startswith(f"load-{run}-")]
    problems = check(requests, rows, workflows, arrivals, stack.tenant_id)
    diagnosis = await diagnose(stack.client, requests, problems, arrivals, stack.tenant_id, started)
    return report(
        requests, rows, workflows, arrivals, problems, diagnosis, started, answered, stack.logs
    )


def write(rounds: list[dict[str, Any]]) -> None:
    """All rounds to bench/results/load.json, with the medians of the figures and how many
    rounds met each goal."""
    goals = {goal: sum(r["goals"][goal] for r in rounds) for goal in rounds[0]["goals"]}
    median = {
        "p50_ms": statistics.median(r["latency"]["all"]["p50_ms"] for r in rounds),
        "p99_ms": statistics.median(r["latency"]["all"]["p99_ms"] for r in rounds),
        "burst_s": statistics.median(r["burst_s"] for r in rounds),
        "drain_s": statistics.median(r["drain_s"] for r in rounds),
    }
    summary = {
        **provenance(),
        "median": median,
        "rounds_meeting_each_goal": goals,
        "goals_met": all(n == len(rounds) for n in goals.values()),
        "rounds": rounds,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\nload, median of {len(rounds)} rounds: latency p50/p99 {median['p50_ms']}/"
        f"{median['p99_ms']} ms, burst answered in {median['burst_s']} s, last email after "
        f"{median['drain_s']} s\n"
        + "".join(
            f"  {'PASS' if n == len(rounds) else 'FAIL'}  {goal}: {n} of {len(rounds)} rounds\n"
            for goal, n in goals.items()
        )
        + f"  goals met: {summary['goals_met']}   (written to {RESULTS})"
    )


def report(
    requests: list[Request],
    rows: dict[str, list[tuple]],
    workflows: dict[str, list[Any]],
    arrivals: list[tuple[str, str, float]],
    problems: dict[str, list[str]],
    diagnosis: dict[str, Any],
    started: float,
    answered: float,
    logs: Path,
) -> dict[str, Any]:
    codes = Counter(str(r.status) for r in requests)
    server_errors = sum(n for code, n in codes.items() if not code.startswith(("2", "4")))
    emails_of: dict[str, list[str]] = defaultdict(list)  # key -> Message-IDs mailed for it
    for address, message_id, _ in arrivals:
        emails_of[address.rsplit("-", 1)[0]].append(message_id)
    mailed_again = {key: ids for key, ids in emails_of.items() if len(ids) > 1}
    duplicates = {
        "keys_mailed_more_than_once": len(mailed_again),
        "extra_emails": sum(len(ids) - 1 for ids in mailed_again.values()),
        "same_message_id": sum(len(ids) - len(set(ids)) for ids in mailed_again.values()),
    }
    statuses = Counter(
        e.status.name if e.status else "UNKNOWN" for runs in workflows.values() for e in runs
    )
    goals = {
        "no_5xx_or_connection_errors": server_errors == 0,
        "one_notification_and_one_workflow_per_key": not any(
            name in problems
            for name in (
                "not_one_accepted_body_and_id",
                "not_one_row_with_the_accepted_address",
                "not_one_workflow",
            )
        ),
        "one_email_per_key_at_the_accepted_address": not any(
            name in problems
            for name in (
                "not_one_email_to_the_accepted_address",
                "email_to_the_refused_address",
            )
        ),
        "409_only_for_the_refused_body": not any(
            name in problems for name in ("409_for_the_accepted_body", "other_status")
        ),
    }
    latency = {
        "all": summary_ms([r.latency_s for r in requests]),
        **{
            code: summary_ms([r.latency_s for r in requests if str(r.status) == code])
            for code in sorted(codes)
        },
    }
    summary = {
        "requests": {
            "total": len(requests),
            "keys": KEYS,
            "repeats_same_body": REPEATS,
            "repeats_conflicting_body": CONFLICTS,
            "seed": SEED,
        },
        "http_codes": dict(sorted(codes.items())),
        "latency": latency,
        "burst_s": round(answered - started, 2),
        "drain_s": round(max((t for *_, t in arrivals), default=started) - started, 2),
        "notification_rows": sum(len(found) for found in rows.values()),
        "workflows": sum(len(runs) for runs in workflows.values()),
        "workflow_statuses": dict(statuses),
        "emails": len(arrivals),
        **duplicates,
        "problems": {
            name: {"keys": len(keys), "e.g.": keys[:3]} for name, keys in problems.items()
        },
        "diagnosis": diagnosis,
        "goals": goals,
        "goals_met": all(goals.values()),
    }
    print(
        f"load: {len(requests)} concurrent POST /v1/notifications ({KEYS} keys, {REPEATS} "
        f"replays, {CONFLICTS} conflicting bodies)\n"
        f"  HTTP codes        {summary['http_codes']}\n"
        f"  latency p50/p99   {latency['all']['p50_ms']}/{latency['all']['p99_ms']} ms   "
        f"(burst answered in {summary['burst_s']} s, last email {summary['drain_s']} s after "
        "the first request)\n"
        f"  per key           {summary['notification_rows']} rows, {summary['workflows']} "
        f"workflows {dict(statuses)}, {len(arrivals)} emails\n"
        + "".join(f"  {'PASS' if ok else 'FAIL'}  {goal}\n" for goal, ok in goals.items())
        + f"  duplicates        {duplicates}\n"
        + f"  in the histories  workflows with {diagnosis['workflows_with'] or 'no failures'}\n"
        + (f"  unexpected codes  {diagnosis['unexpected_answers']}\n" if server_errors else "")
        + (f"  problems: {summary['problems']}\n" if problems else "")
        + (f"  the processes' output: {logs}\n" if problems or server_errors else "")
        + f"  goals met: {summary['goals_met']}",
        flush=True,
    )
    return summary


if __name__ == "__main__":
    asyncio.run(main())
