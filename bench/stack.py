"""Herald as deployed, started process by process for a benchmark (bench/run.py, bench/load.py).

PostgreSQL (pgserver, migrated, one tenant with an API key), a Temporal dev server, optionally
the bare baseline's worker (bench/bare.py), Herald's worker process and one API replica per core
(each with its embedded worker), sending to the caller's SMTP catcher in this process."""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pgserver
from temporalio.client import Client

from db.migrate import upgrade
from db.session import create_engine, session_factory
from db.tenants import create_tenant
from devtools.mailcatcher import MailCatcher, start_mailcatcher
from temporal_clients.setup import register_search_attributes
from tests.conftest import free_port, temporal_binary

# API replicas (each also a worker, see EMBEDDED_WORKER): one per core, as a deployment would run
# them.
API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", os.cpu_count() or 1))
START_TIMEOUT_S = 120
STOP_TIMEOUT_S = 60


@dataclass
class Stack:
    client: Client  # to the Temporal dev server
    database_url: str
    postmaster: int  # PostgreSQL's pid (its backends are its children)
    tenant_id: str
    key: str  # the tenant's API key
    temporal: subprocess.Popen
    bare_worker: subprocess.Popen | None
    worker: subprocess.Popen  # Herald's worker process
    apis: list[subprocess.Popen]
    api_urls: list[str]
    logs: Path  # the processes' output, one file each
    smtp_port: int  # the caller's SMTP catcher, where Herald sends


def cpu_groups(stack: Stack) -> dict[str, list[int] | int]:
    """The stack's processes as bench/cpu.py's groups, and this process (the load generator and
    the SMTP catcher): where a benchmark phase spent its CPU. The bare worker's group only
    when the stack started one."""
    bare = {"bare_worker": [stack.bare_worker.pid]} if stack.bare_worker is not None else {}
    return {
        "temporal": [stack.temporal.pid],
        **bare,
        "herald_worker": [stack.worker.pid],
        "api": [p.pid for p in stack.apis],
        "postgres": stack.postmaster,
        "bench_client": [os.getpid()],
    }


def start(args: list[str], env: dict, log: Path, ready: str | None = None) -> subprocess.Popen:
    """The process, its output to `log`. Never to a pipe nobody reads: once its 64 KiB are
    full, the process blocks on its next write. (Under load, Temporal's core logs a warning
    per slow workflow task, 150 KB a replica in one run; with an unread pipe, the load
    scenario once stalled with 200 notifications unsent, and the processes ignored SIGTERM.)
    With `ready`, stdout is read until that line (bench.bare prints nothing else)."""
    with log.open("w") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            args,
            env=env,
            stdout=subprocess.PIPE if ready else output,
            stderr=output,
            text=True,
        )
    if ready:
        assert process.stdout is not None  # a pipe, as asked above
        while ready not in (process.stdout.readline() or ready):
            pass
    return process


async def wait_http(url: str, process: subprocess.Popen) -> None:
    """Until `url` answers. Generous: on a shared, busy machine an API replica's imports alone
    have taken 10 s."""
    deadline = time.monotonic() + START_TIMEOUT_S
    async with httpx.AsyncClient() as probe:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                await probe.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up ({process.args!r}, exit code {process.poll()})")


@asynccontextmanager
async def herald_stack(
    catcher: MailCatcher,
    bare_worker: bool = True,
    api_env: Mapping[str, str] | None = None,
    worker_envs: Sequence[Mapping[str, str]] = ({},),
) -> AsyncIterator[Stack]:
    """Everything started, the API replicas answering; stopped again on exit. `api_env` adds to
    the API replicas' environment; one worker process per entry of `worker_envs`, each with that
    added to its environment (bench/priority.py: WORKER_QUEUES per process)."""
    work = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    logs = work / "logs"  # each process's output
    logs.mkdir()
    pg = pgserver.get_server(work / "pg")
    database_url = pg.get_uri()
    postmaster = int((work / "pg" / "postmaster.pid").read_text().split()[0])
    upgrade(database_url)
    engine = create_engine(database_url, pool_size=1)
    async with session_factory(engine).begin() as session:
        tenant, key = await create_tenant(session, "bench")
    await engine.dispose()

    temporal_port, ui_port, smtp_port = free_port(), free_port(), free_port()
    processes = [
        start(
            [
                temporal_binary(),
                "server",
                "start-dev",
                "--headless",
                "--port",
                str(temporal_port),
                "--ui-port",
                str(ui_port),
                "--log-level",
                "error",
                "--dynamic-config-value",
                "system.enableActivityEagerExecution=true",
            ],
            dict(os.environ),
            logs / "temporal.log",
        )
    ]
    address = f"127.0.0.1:{temporal_port}"
    try:
        for _ in range(100):
            try:
                client = await Client.connect(address)
                break
            except RuntimeError:
                await asyncio.sleep(0.2)
        await register_search_attributes(client)
        smtp = start_mailcatcher(catcher, port=smtp_port)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": address,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "TASK_QUEUE": "herald-bench",
            "METRICS_PORT": "0",
        }
        bare = None
        if bare_worker:
            bare = start(
                [sys.executable, "-m", "bench.bare", address], env, logs / "bare.log", "ready"
            )
            processes.append(bare)
        workers = [
            start([sys.executable, "worker.py"], env | dict(extra), logs / f"worker-{i}.log")
            for i, extra in enumerate(worker_envs)
        ]
        worker = workers[0]
        processes += workers
        api_ports = [free_port() for _ in range(API_PROCESSES)]
        apis = [
            start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    # bench.steps runs bench.step_probe:app: Herald's app, with timestamps
                    os.environ.get("BENCH_API_APP", "api.main:app"),
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                env | dict(api_env or {}),
                logs / f"api-{port}.log",
            )
            for port in api_ports
        ]
        processes += apis
        api_urls = [f"http://127.0.0.1:{port}" for port in api_ports]
        for url, api in zip(api_urls, apis, strict=True):
            await wait_http(f"{url}/v1/health", api)
        yield Stack(
            client=client,
            database_url=database_url,
            postmaster=postmaster,
            tenant_id=str(tenant.id),
            key=key,
            temporal=processes[0],
            bare_worker=bare,
            worker=worker,
            apis=apis,
            api_urls=api_urls,
            logs=logs,
            smtp_port=smtp_port,
        )
        smtp.stop()
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            stop(process)
        # The database (up to a gigabyte and more a run) goes; the logs stay for reading.
        pg.cleanup()
        shutil.rmtree(work / "pg", ignore_errors=True)


def stop(process: subprocess.Popen) -> None:
    """Waits for a terminated process; kills it after STOP_TIMEOUT_S. Herald's processes may take
    their worker's shutdown grace (WORKER_SHUTDOWN_GRACE_SECONDS, 20 s) and a little more."""
    started = time.monotonic()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    took = time.monotonic() - started
    if took > 5:
        outcome = "killed" if process.returncode == -9 else f"exit code {process.returncode}"
        print(f"{process.args!r} took {took:.0f} s to stop after SIGTERM ({outcome})", flush=True)
