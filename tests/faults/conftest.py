"""The fault tests' servers, one PostgreSQL and one Temporal for the session, and a Herald (API and
worker processes on a task queue and tenant of their own) per scenario; each scenario's figures
go into one report, written at the end of the session (FAULTS_REPORT, default
.data/faults/results.md, with a .json beside it) and printed."""

import json
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from db.migrate import upgrade
from db.session import create_engine, session_factory
from db.tenants import create_tenant
from temporal_clients.setup import register_search_attributes
from tests.faults.harness import ROOT, FaultSmtp, Herald, Postgres, Temporal, herald_env

RESULTS: list[dict[str, Any]] = []  # one row per scenario that reached its figures
OUTCOMES: dict[str, str] = {}  # test name -> passed / failed


@pytest.fixture(scope="session")
def work() -> Path:
    return Path(tempfile.mkdtemp(prefix="herald-faults-"))


@pytest.fixture(scope="session")
def postgres(work: Path) -> Iterator[Postgres]:
    server = Postgres(work / "pg")
    upgrade(server.url)
    yield server
    server.close()


@pytest.fixture(scope="session")
async def temporal(work: Path) -> AsyncIterator[Temporal]:
    server = Temporal(work)
    server.start()
    await register_search_attributes(await server.client())
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def temporal_client(temporal: Temporal) -> Client:
    return await temporal.client()


@pytest.fixture
def smtp() -> Iterator[FaultSmtp]:
    server = FaultSmtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make_herald(
    postgres: Postgres, temporal: Temporal, work: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Starts Herald's processes with the settings given (on top of its defaults); stops them at
    the end of the test. Yields (herald, its tenant's API key, the tenant's id)."""
    started: list[Herald] = []

    @asynccontextmanager
    async def build(**overrides: str) -> AsyncIterator[tuple[Herald, str, uuid.UUID]]:
        engine = create_engine(postgres.url, pool_size=1)
        async with session_factory(engine).begin() as session:
            tenant, key = await create_tenant(session, request.node.name)
        await engine.dispose()
        directory = work / request.node.name
        directory.mkdir(exist_ok=True)
        env = herald_env(
            postgres.url, temporal.address, f"faults-{uuid.uuid4().hex[:8]}", directory,
            **overrides,
        )  # fmt: skip
        herald = Herald(directory, env)
        started.append(herald)
        await herald.start()
        yield herald, key, tenant.id

    yield build
    for herald in started:
        herald.stop()
        print(f"\n{request.node.name}: Herald's logs in {herald.work}")


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], None]:
    """Keeps a scenario's figures for the report, and prints them at once."""

    def keep(row: dict[str, Any]) -> None:
        row = {"test": request.node.name, **row}
        RESULTS.append(row)
        print(f"\n{json.dumps(row, indent=1, default=str)}")

    return keep


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, Any]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        OUTCOMES[item.name] = report.outcome


_STARTED = time.monotonic()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not RESULTS:
        return
    minutes = (time.monotonic() - _STARTED) / 60
    path = Path(os.environ.get("FAULTS_REPORT", ROOT / ".data" / "faults" / "results.md"))
    path.parent.mkdir(parents=True, exist_ok=True)
    for row in RESULTS:
        row["result"] = OUTCOMES.get(row["test"], "?")
    path.with_suffix(".json").write_text(json.dumps(RESULTS, indent=2, default=str) + "\n")
    path.write_text(markdown(RESULTS, minutes))
    print(f"\n\n{path.read_text()}\n(written to {path})")


def markdown(rows: list[dict[str, Any]], minutes: float) -> str:
    lines = [
        f"Fault tests, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"whole run {minutes:.1f} min\n",
        "| scenario | sent | arrived | dup. addresses | dup. Message-IDs | new Message-ID on a "
        "dup. | lost | drain | HTTP while broken | result |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        drain = "-" if r.get("drain_seconds") is None else f"{r['drain_seconds']} s"
        codes = ", ".join(f"{k}: {v}" for k, v in r.get("codes_while_broken", {}).items()) or "-"
        lines.append(
            f"| {r['scenario']} | {r['sent']} | {r['arrived']} | {r['duplicate_addresses']} | "
            f"{r['duplicate_message_ids']} | {r['duplicates_with_new_message_id']} | "
            f"{r['lost']} | {drain} | {codes} | {r['result']} |"
        )
    return "\n".join(lines) + "\n"
