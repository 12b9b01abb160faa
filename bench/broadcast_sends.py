"""send_broadcast_batch alone against raw aiosmtplib sends of the same messages, in one run.

A page of BENCH_SENDS_EMAILS (2,000) pending email deliveries is written as plan_broadcast_page
leaves it (tests/e2e/broadcast_factory.py), then one process of its own runs
BroadcastSends.send_batch over it (claim, render, send to the SMTP server in this process,
record: what the activity does, without Temporal around it), and another sends the very
messages the server received with aiosmtplib over BROADCAST_SEND_CONCURRENCY (20)
connections, each one message after another (bench/broadcast.py's baseline). Emails per second
of each and their ratio, and the CPU each process used per email (robust to a busy host, where
wall time is not); BENCH_SENDS_ROUNDS (3) rounds, alternating, the medians reported.
bench/broadcast.py measures the whole broadcast (API, workflow, pages) the same way. With
BENCH_PROFILE set, py-spy samples the batch's process (bench/profiles/broadcast-sends-batch.txt).

    python -m bench.broadcast_sends
"""

import asyncio
import json
import os
import pickle
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pgserver
import psycopg
from pydantic import SecretStr

from activities.broadcast_sends import BroadcastSends
from bench.broadcast import CONCURRENCY, KeepingCatcher, send_each
from bench.run import start_profilers, stop_profilers
from bench.stats import provenance
from config.providers import build_providers
from config.settings import Settings
from db.migrate import upgrade
from db.session import create_engine, session_factory
from db.tenants import create_tenant
from devtools.mailcatcher import start_mailcatcher
from domain.broadcasts import SendBatchInput
from tests.e2e.broadcast_factory import pending_page

EMAILS = int(os.environ.get("BENCH_SENDS_EMAILS", 2_000))
ROUNDS = int(os.environ.get("BENCH_SENDS_ROUNDS", 3))
RESULTS = Path(__file__).parent / "results"


async def in_own_process(*arguments: str) -> dict[str, Any]:
    """`python -m bench.broadcast_sends <arguments>` (a process of its own, as a worker is):
    what it printed, with the CPU seconds it used."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.broadcast_sends", *arguments, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"{arguments[0]} exited with {process.returncode}")
    return dict(json.loads(out))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_batch(database_url: str, page: dict[str, str], port: int) -> dict[str, Any]:
    settings = Settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        secret_key=SecretStr("bench-secret-key-not-for-production"),
        broadcast_send_concurrency=CONCURRENCY,
    )
    engine = create_engine(database_url)
    providers = build_providers(settings)
    sends = BroadcastSends(session_factory(engine), providers, settings)
    batch = SendBatchInput(
        uuid.UUID(page["broadcast_id"]), uuid.UUID(page["tenant_id"]), "email", None, None, ["smtp"]
    )
    samplers = start_profilers({"broadcast-sends-batch": os.getpid()})  # with BENCH_PROFILE
    cpu, started = cpu_seconds(), time.perf_counter()
    result = await sends.send_batch(batch)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    stop_profilers(samplers)
    await providers.close()
    await engine.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "sent": result.sent}


async def run_raw(path: str, port: int) -> dict[str, Any]:
    mails = pickle.loads(Path(path).read_bytes())
    cpu = cpu_seconds()
    seconds = await send_each(mails, port, CONCURRENCY)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds() - cpu}


async def main() -> None:
    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="herald-bench-sends-")))
    head, _, query = server.get_uri().partition("?")
    database_url = head.rsplit("/", 1)[0] + "/herald_bench_sends" + (f"?{query}" if query else "")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS herald_bench_sends")
        conn.execute("CREATE DATABASE herald_bench_sends")
    upgrade(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        tenant, _ = await create_tenant(session, "bench sends")
    catcher = KeepingCatcher()
    port = 20_000 + os.getpid() % 10_000
    controller = start_mailcatcher(catcher, port=port)
    rounds = []
    try:
        for _ in range(ROUNDS):
            page = await pending_page(sessions, tenant.id, EMAILS)
            first = len(catcher.kept)
            page_ids = {"broadcast_id": str(page.broadcast_id), "tenant_id": str(tenant.id)}
            herald = await in_own_process("batch", database_url, json.dumps(page_ids), str(port))
            arrived = [mail for mail, _ in catcher.kept[first:]]
            if herald["sent"] != EMAILS or len(arrived) != EMAILS:
                raise RuntimeError(f"sent {herald['sent']}, arrived {len(arrived)} of {EMAILS}")
            with tempfile.NamedTemporaryFile(suffix=".pickle") as file:
                pickle.dump(arrived, file)
                file.flush()
                raw = await in_own_process("raw", file.name, str(port))
            herald_rate, raw_rate = EMAILS / herald["seconds"], EMAILS / raw["seconds"]
            rounds.append(
                {
                    "herald_emails_per_second": round(herald_rate, 1),
                    "raw_emails_per_second": round(raw_rate, 1),
                    "ratio": round(herald_rate / raw_rate, 3),
                    "herald_cpu_ms_per_email": round(1000 * herald["cpu_seconds"] / EMAILS, 3),
                    "raw_cpu_ms_per_email": round(1000 * raw["cpu_seconds"] / EMAILS, 3),
                    "cpu_ratio": round(raw["cpu_seconds"] / herald["cpu_seconds"], 3),
                }
            )
            print(rounds[-1], flush=True)
    finally:
        controller.stop()
        await engine.dispose()
    figures = {
        **provenance(),
        "emails": EMAILS,
        "concurrency": CONCURRENCY,
        "rounds": rounds,
        "median_ratio": statistics.median(r["ratio"] for r in rounds),
        "median_cpu_ratio": statistics.median(r["cpu_ratio"] for r in rounds),
        "load_average": os.getloadavg(),
        "goal": 0.7,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "broadcast_sends.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(
        f"median ratio {figures['median_ratio']} (CPU per email: {figures['median_cpu_ratio']})"
        f" over {ROUNDS} rounds of {EMAILS} emails"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["batch"]:
        url, page, port = sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(asyncio.run(run_batch(url, page, port))))
    elif sys.argv[1:2] == ["raw"]:
        print(json.dumps(asyncio.run(run_raw(sys.argv[2], int(sys.argv[3])))))
    else:
        asyncio.run(main())
