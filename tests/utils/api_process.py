"""Herald's API as its own OS process (`uvicorn api.main:app`), as deployed: for tests that need
two API processes on one database, or to stop one with SIGTERM and start it again."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


class ApiProcess:
    def __init__(self, env: dict[str, str], log: Path):
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    async def start(self, timeout: float = 60) -> None:
        """Started, and answering GET /v1/health (a process that died fails at once, with its
        log)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", "api.main:app", "--port", str(self.port),
                    "--log-level", "warning", "--no-access-log",
                ],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # a signal to the test runner does not reach it
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient() as probe:
            while True:
                try:
                    await probe.get(f"{self.url}/v1/health")
                    return
                except httpx.TransportError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the API did not start:\n{self.output()}") from None
                    await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 30) -> float:
        """SIGTERM, as a platform stops it; the seconds it took to exit (killed, and an
        AssertionError, past `timeout`)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        while self.process.poll() is None:
            if time.monotonic() - started > timeout:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"the API did not stop within {timeout} s:\n{self.output()}")
            await asyncio.sleep(0.05)
        return time.monotonic() - started

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]
