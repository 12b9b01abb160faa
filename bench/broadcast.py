"""`make bench`, parts 2 and 3 of issue 15: broadcasts, each against a raw baseline measured in
the same run on the same servers.

On bench/stack.py's stack (PostgreSQL, a Temporal dev server, Herald's worker process, which
serves the broadcast lane, and the API replicas, which do not), each part on a tenant of its
own whose recipients are seeded with one COPY:

Part 2, in-app: one POST /v1/broadcasts to every recipient of a tenant of BENCH_BROADCAST_INAPP
(100,000) recipients, in-app only, then GET /v1/broadcasts/{id} every POLL_S until completed:
recipients per second from the POST to the answer saying completed. Baseline: the very rows the
broadcast wrote (notifications, deliveries, in-app messages and their inbox events), under fresh
ids, COPYed into the same tables in one transaction, their COPY data prepared before the clock
starts: recipients per second. Goal: ratio >= 0.5. Meanwhile the worker process's RSS is
sampled every RSS_EVERY_S (goal: peak < 400 MB), and Temporal's server actions per recipient
are counted two ways: the dev server's own `action` counter (its /metrics endpoint, namespace
default, by action type, before and after: what Temporal Cloud bills as actions), and the
broadcast workflow's history events across its continue-as-new runs.

Part 3, email: a broadcast of one email to each of BENCH_BROADCAST_EMAILS (10,000) recipients,
to the SMTP server in this process: emails per second from the POST to the last arrival.
Baseline: the same messages as they arrived (envelope and bytes) sent again by a process of
their own (as Herald's worker is) with aiosmtplib over BROADCAST_SEND_CONCURRENCY (20)
connections, each sending one message after another: emails per second. Goal: ratio >= 0.7.

Both parts also record the CPU milliseconds per recipient of each process group (worker, API
replicas, Temporal, PostgreSQL) and of the baseline (PostgreSQL and the copier; the sender's
process), and their ratio (`cpu_ratio`: baseline CPU / Herald's CPU for the same recipients),
which a shared, busy host disturbs less than wall time; and the host's load average. With
BENCH_PROFILE set, py-spy samples the worker during each broadcast (bench/profiles/).
Results: bench/results/broadcast_inapp.json and bench/results/broadcast_email.json.

    python -m bench.broadcast
    BENCH_BROADCAST_INAPP=20000 BENCH_BROADCAST_EMAILS=2000 python -m bench.broadcast
"""

import asyncio
import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.cpu import per_item_ms, snapshot, tree_cpu_seconds
from bench.run import start_profilers
from bench.stack import Stack, cpu_groups, herald_stack
from bench.stats import provenance, result_path
from config.settings import Settings
from db.session import create_engine, session_factory
from db.tenants import create_tenant
from devtools.mailcatcher import MailCatcher
from tests.utils.audience import Member, copy_recipients, wait_for_broadcast

INAPP = int(os.environ.get("BENCH_BROADCAST_INAPP", 100_000))
EMAILS = int(os.environ.get("BENCH_BROADCAST_EMAILS", 10_000))
CONCURRENCY = int(
    os.environ.get(
        "BROADCAST_SEND_CONCURRENCY", Settings.model_fields["broadcast_send_concurrency"].default
    )
)
POLL_S = 0.2
RSS_EVERY_S = 0.1
TIMEOUT_S = 3600
GOALS = {"inapp_ratio": 0.5, "worker_peak_rss_mb": 400, "email_ratio": 0.7}
RESULTS = Path(__file__).parent / "results"
EVENT = "news.announcement"
CONTEXT = {"subject": "Our news", "message": "Something new for you."}

Mail = tuple[str, list[str], bytes]  # envelope sender, recipients, the message as sent


class KeepingCatcher(MailCatcher):
    """Keeps every message as it arrived, with its arrival time (perf_counter); no parsing, so
    the server in this process costs both sides of part 3 the same little."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[tuple[Mail, float]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        mail = (envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        self.kept.append((mail, time.perf_counter()))
        return "250 OK"


class PeakRss:
    """A process's resident memory (VmRSS), sampled from a thread while the `with` block runs."""

    def __init__(self, pid: int):
        self.status = Path(f"/proc/{pid}/status")
        self.first_mb = self.peak_mb = self._mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _mb(self) -> float:
        for line in self.status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024  # kB
        raise RuntimeError(f"no VmRSS in {self.status}")

    def _sample(self) -> None:
        while not self._stop.wait(RSS_EVERY_S):
            self.peak_mb = max(self.peak_mb, self._mb())

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self) -> dict[str, float]:
        return {"before_mb": round(self.first_mb, 1), "peak_mb": round(self.peak_mb, 1)}


async def tenant_api(stack: Stack, name: str) -> tuple[uuid.UUID, httpx.AsyncClient]:
    """A new tenant, and a client of the API as that tenant."""
    engine = create_engine(stack.database_url, pool_size=1)
    async with session_factory(engine).begin() as session:
        tenant, key = await create_tenant(session, name)
    await engine.dispose()
    api = httpx.AsyncClient(
        base_url=stack.api_urls[0], headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    return tenant.id, api


async def run_broadcast(api: httpx.AsyncClient, channels: list[str]) -> dict[str, Any]:
    """POST a broadcast to every recipient of the tenant; GET until it completes. Its answer,
    the seconds it took (POST to completed as seen by polling) and when it was posted."""
    posted = time.perf_counter()
    response = await api.post(
        "/v1/broadcasts",
        json={"audience": {"all": True}, "event_key": EVENT, "channels": channels,
              "context": CONTEXT},
        headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"},
    )  # fmt: skip
    response.raise_for_status()
    accepted = response.json()
    progress = await wait_for_broadcast(api, accepted["id"], timeout=TIMEOUT_S, every=POLL_S)
    if progress["status"] != "completed":
        raise RuntimeError(f"the broadcast ended {progress['status']}: {progress}")
    return {
        "accepted": accepted,
        "progress": progress,
        "seconds": time.perf_counter() - posted,
        "posted": posted,
    }


def listening_ports(pid: int) -> list[int]:
    """The TCP ports a process listens on: its sockets' inodes, looked up in /proc/net/tcp*."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def temporal_metrics_url(stack: Stack) -> str | None:
    """The dev server's Prometheus endpoint: it serves /metrics on a port of its own choosing
    (bench/stack.py does not set one), found among the ports the process listens on."""
    for port in listening_ports(stack.temporal.pid):
        url = f"http://127.0.0.1:{port}/metrics"
        try:
            if "# HELP action " in httpx.get(url, timeout=1).text:
                return url
        except httpx.HTTPError:
            continue
    return None


def server_actions(url: str | None) -> Counter[str]:
    """The dev server's `action` counter in namespace default, by action type."""
    counts: Counter[str] = Counter()
    if url is None:
        return counts
    for line in httpx.get(url, timeout=10).text.splitlines():
        if line.startswith("action{") and 'namespace="default"' in line:
            labels, value = line.rsplit(" ", 1)
            kind = labels.split('action_type="', 1)[1].split('"', 1)[0]
            counts[kind] += int(float(value))
    return counts


async def history_events(client: Client, workflow_id: str) -> dict[str, Any]:
    """The broadcast workflow's history events across its runs (continue-as-new), by type; and
    its activity attempts (a retried activity shows its last attempt only)."""
    runs = [w.run_id async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
    events: Counter[str] = Counter()
    attempts = 0
    for run_id in runs:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        async for event in handle.fetch_history_events():
            events[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
            if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                attempts += event.activity_task_started_event_attributes.attempt
    return {"runs": len(runs), "events": sum(events.values()), "attempts": attempts,
            "by_type": dict(events.most_common())}  # fmt: skip


def actions_figures(url: str | None, actions: Counter[str], recipients: int) -> dict[str, Any]:
    return {
        "source": "the dev server's `action` counter (/metrics), namespace default"
        if url
        else "no metrics endpoint found",
        "total": actions.total(),
        "per_recipient": round(actions.total() / recipients, 4),
        "by_type": dict(actions.most_common()),
    }


# The rows a broadcast wrote, under fresh ids, in temporary tables (stage_<table>), in the
# order they are copied. Inbox events are the tenant's (the part's tenant has no others),
# renumbered past the broadcast's.
_STAGE = """
CREATE TEMP TABLE n_map AS
    SELECT id AS old_id, gen_random_uuid() AS new_id FROM notifications WHERE broadcast_id = %(b)s;
CREATE TEMP TABLE stage_notifications AS
    SELECT * FROM notifications WHERE broadcast_id = %(b)s;
UPDATE stage_notifications s SET id = m.new_id, idempotency_key = 'raw:' || m.new_id
    FROM n_map m WHERE s.id = m.old_id;
CREATE TEMP TABLE stage_deliveries AS
    SELECT d.* FROM deliveries d JOIN n_map m ON m.old_id = d.notification_id;
UPDATE stage_deliveries s SET id = gen_random_uuid(), notification_id = m.new_id
    FROM n_map m WHERE s.notification_id = m.old_id;
CREATE TEMP TABLE stage_in_app_messages AS
    SELECT i.* FROM in_app_messages i JOIN n_map m ON m.old_id = i.notification_id;
UPDATE stage_in_app_messages s SET id = gen_random_uuid(), notification_id = m.new_id
    FROM n_map m WHERE s.notification_id = m.old_id;
CREATE TEMP TABLE stage_inbox_events AS
    SELECT * FROM inbox_events WHERE tenant_id = %(t)s;
UPDATE stage_inbox_events SET seq = seq + 1000000000;
"""
TABLES = ["notifications", "deliveries", "in_app_messages", "inbox_events"]


async def raw_copy(
    database_url: str, postmaster: int, broadcast_id: str, tenant_id: uuid.UUID
) -> dict[str, Any]:
    """The baseline of part 2: the broadcast's rows COPYed again, one transaction; its seconds
    and the CPU seconds PostgreSQL and this process spent on it."""
    data: dict[str, bytes] = {}
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        for statement in filter(str.strip, _STAGE.split(";")):
            await conn.execute(statement, {"b": broadcast_id, "t": tenant_id})
        async with conn.cursor() as cursor:
            for table in TABLES:
                async with cursor.copy(f"COPY stage_{table} TO STDOUT") as copy:
                    data[table] = b"".join([bytes(block) async for block in copy])
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cpu = tree_cpu_seconds(postmaster) + time.process_time()
        started = time.perf_counter()
        async with conn.transaction(), conn.cursor() as cursor:
            for table in TABLES:
                async with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    await copy.write(data[table])
        seconds = time.perf_counter() - started
        cpu = tree_cpu_seconds(postmaster) + time.process_time() - cpu
    rows = {t: d.count(b"\n") for t, d in data.items()}
    return {"seconds": seconds, "cpu_seconds": cpu, "rows": rows}


async def measured_broadcast(
    stack: Stack, api: httpx.AsyncClient, channel: str, recipients: int
) -> dict[str, Any]:
    """run_broadcast of one channel, with what it cost: CPU ms per recipient by process group,
    Temporal server actions, the worker's RSS (and a py-spy profile when asked)."""
    metrics = temporal_metrics_url(stack)
    actions_before = server_actions(metrics)
    groups = cpu_groups(stack)
    cpu_before = snapshot(groups)
    samplers = start_profilers({f"broadcast-{channel}-worker": stack.worker.pid})
    with PeakRss(stack.worker.pid) as rss:
        run = await run_broadcast(api, [channel])
    stop_profilers(samplers)
    actions = server_actions(metrics) - actions_before
    await api.aclose()
    return run | {
        "cpu": per_item_ms(cpu_before, snapshot(groups), recipients),
        "actions": actions_figures(metrics, actions, recipients),
        "rss": rss,
    }


async def in_app_part(stack: Stack) -> dict[str, Any]:
    tenant_id, api = await tenant_api(stack, "bench broadcast in-app")
    members = [Member(f"inapp-{i:06d}") for i in range(INAPP)]
    seeded = time.perf_counter()
    await copy_recipients(stack.database_url, tenant_id, members)
    seed_seconds = time.perf_counter() - seeded
    run = await measured_broadcast(stack, api, "in_app", INAPP)
    cpu, rss = run["cpu"], run["rss"]
    history = await history_events(stack.client, run["accepted"]["workflow_id"])
    raw = await raw_copy(stack.database_url, stack.postmaster, run["accepted"]["id"], tenant_id)
    herald_rate = INAPP / run["seconds"]
    raw_rate = INAPP / raw["seconds"]
    raw_cpu_ms = 1000 * raw["cpu_seconds"] / INAPP
    return {
        **provenance(),
        "recipients": INAPP,
        "seed_copy_seconds": round(seed_seconds, 2),
        "herald": {
            "seconds": round(run["seconds"], 2),
            "recipients_per_second": round(herald_rate, 1),
            "progress": run["progress"],
        },
        "raw_copy": {
            "seconds": round(raw["seconds"], 2),
            "recipients_per_second": round(raw_rate, 1),
            "cpu_ms_per_recipient": round(raw_cpu_ms, 3),
            "rows": raw["rows"],
        },
        "ratio": round(herald_rate / raw_rate, 3),
        # The same work in CPU (every process of the stack against PostgreSQL and the copier):
        # steadier than wall time on a shared, busy host.
        "cpu_ratio": round(raw_cpu_ms / sum(cpu.values()), 3),
        "load_average": os.getloadavg(),
        "worker_rss": rss.figures(),
        "temporal_actions": run["actions"],
        "workflow_history": {
            **history,
            "events_per_recipient": round(history["events"] / INAPP, 4),
        },
        "cpu_ms_per_recipient": cpu,
        "goals": {
            "ratio": GOALS["inapp_ratio"],
            "worker_peak_rss_mb": GOALS["worker_peak_rss_mb"],
        },
        "met": {
            "ratio": herald_rate / raw_rate >= GOALS["inapp_ratio"],
            "worker_peak_rss_mb": rss.peak_mb < GOALS["worker_peak_rss_mb"],
        },
    }


def stop_profilers(samplers: list[subprocess.Popen]) -> None:
    for sampler in samplers:
        sampler.send_signal(signal.SIGINT)
        sampler.wait(timeout=60)


async def email_part(stack: Stack, catcher: KeepingCatcher) -> dict[str, Any]:
    tenant_id, api = await tenant_api(stack, "bench broadcast email")
    run_tag = uuid.uuid4().hex[:6]
    members = [Member(f"email-{i:06d}", f"b{i:06d}-{run_tag}@bench.example") for i in range(EMAILS)]
    await copy_recipients(stack.database_url, tenant_id, members)
    first = len(catcher.kept)
    run = await measured_broadcast(stack, api, "email", EMAILS)
    cpu, rss = run["cpu"], run["rss"]
    arrived = catcher.kept[first:]
    addresses = Counter(a for (_, rcpts, _), _ in arrived for a in rcpts)
    if set(addresses) != {m.email for m in members} or set(addresses.values()) != {1}:
        raise RuntimeError(f"{len(addresses)} addresses got {len(arrived)} emails, not one each")
    herald_seconds = max(at for _, at in arrived) - run["posted"]
    sending_seconds = max(at for _, at in arrived) - min(at for _, at in arrived)

    raw_first = len(catcher.kept)
    raw_seconds, raw_cpu_seconds = await raw_smtp([mail for mail, _ in arrived], stack.smtp_port)
    raw_cpu_ms = 1000 * raw_cpu_seconds / EMAILS
    if len(catcher.kept) - raw_first != EMAILS:
        raise RuntimeError(f"the raw sends delivered {len(catcher.kept) - raw_first} of {EMAILS}")
    herald_rate, raw_rate = EMAILS / herald_seconds, EMAILS / raw_seconds
    return {
        **provenance(),
        "emails": EMAILS,
        "concurrency": CONCURRENCY,
        "herald": {
            "seconds_to_last_arrival": round(herald_seconds, 2),
            "emails_per_second": round(herald_rate, 1),
            "first_to_last_arrival_seconds": round(sending_seconds, 2),
            "seconds_to_completed": round(run["seconds"], 2),
            "progress": run["progress"],
        },
        "raw_aiosmtplib": {
            "seconds": round(raw_seconds, 2),
            "emails_per_second": round(raw_rate, 1),
            "cpu_ms_per_email": round(raw_cpu_ms, 3),
        },
        "ratio": round(herald_rate / raw_rate, 3),
        # The same work in CPU (the sender's process against every process of the stack).
        "cpu_ratio": round(raw_cpu_ms / sum(cpu.values()), 3),
        "load_average": os.getloadavg(),
        "worker_rss": rss.figures(),
        "temporal_actions": run["actions"],
        "cpu_ms_per_email": cpu,
        "goals": {"ratio": GOALS["email_ratio"]},
        "met": {"ratio": herald_rate / raw_rate >= GOALS["email_ratio"]},
    }


async def raw_smtp(mails: list[Mail], port: int) -> tuple[float, float]:
    """Sends the mails from a process of its own (`raw-smtp` below); the seconds it took, and
    the CPU seconds that process spent."""
    with tempfile.NamedTemporaryFile(suffix=".pickle") as file:
        pickle.dump(mails, file)
        file.flush()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.broadcast", "raw-smtp", file.name, str(port),
            str(CONCURRENCY), stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"the raw sender exited with {process.returncode}")
    answer = json.loads(out)
    return float(answer["seconds"]), float(answer["cpu_seconds"])


async def send_each(mails: list[Mail], port: int, concurrency: int) -> float:
    """The baseline's sender: `concurrency` SMTP connections, each sending the next mail as
    soon as its previous one is accepted; the seconds from the first connection to the last
    acceptance."""
    remaining = iter(mails)

    async def connection() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
        await smtp.connect()
        for sender, recipients, content in remaining:
            await smtp.sendmail(sender, recipients, content)
        await smtp.quit()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started


async def main() -> None:
    catcher = KeepingCatcher()
    async with herald_stack(catcher, bare_worker=False) as stack:
        in_app = await in_app_part(stack)
        email = await email_part(stack, catcher)
    for name, figures in (("broadcast_inapp", in_app), ("broadcast_email", email)):
        path = result_path(RESULTS, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2, default=str) + "\n")
    report(in_app, email)


def report(in_app: dict[str, Any], email: dict[str, Any]) -> None:
    print(
        f"in-app broadcast of {in_app['recipients']:,}: "
        f"{in_app['herald']['recipients_per_second']:,.0f}/s vs raw COPY "
        f"{in_app['raw_copy']['recipients_per_second']:,.0f}/s: ratio {in_app['ratio']} "
        f"(goal >= {GOALS['inapp_ratio']}), in CPU {in_app['cpu_ratio']}; "
        f"worker peak RSS {in_app['worker_rss']['peak_mb']} MB "
        f"(goal < {GOALS['worker_peak_rss_mb']}); Temporal actions per recipient "
        f"{in_app['temporal_actions']['per_recipient']}, history events per recipient "
        f"{in_app['workflow_history']['events_per_recipient']}"
    )
    print(
        f"email broadcast of {email['emails']:,}: {email['herald']['emails_per_second']:,.0f}/s "
        f"vs raw aiosmtplib {email['raw_aiosmtplib']['emails_per_second']:,.0f}/s at "
        f"concurrency {email['concurrency']}: ratio {email['ratio']} "
        f"(goal >= {GOALS['email_ratio']}), in CPU {email['cpu_ratio']}; "
        f"worker peak RSS {email['worker_rss']['peak_mb']} MB"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["raw-smtp"]:
        path, port, concurrency = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        mails = pickle.loads(Path(path).read_bytes())
        cpu = time.process_time()
        seconds = asyncio.run(send_each(mails, port, concurrency))
        print(json.dumps({"seconds": seconds, "cpu_seconds": time.process_time() - cpu}))
    else:
        asyncio.run(main())
