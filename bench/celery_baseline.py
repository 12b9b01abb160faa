"""The same email sent by Celery with a Redis broker: what the seeds' applications run today
(bench/run.py measures it beside Herald).

`redis_broker()` starts redis-server on a free port (no persistence: a broker for one run),
`celery_workers()` one Celery worker process per core with a thread pool, together as many
threads as the benchmark's concurrency; the task sends the email (bench/eager_local.email_bytes)
with smtplib over a session kept open per thread. The benchmark submits with `submit()` and
times the message's arrival at its SMTP catcher, as for Herald.
"""

import os
import shutil
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from celery import Celery

from bench.eager_local import SENDER, email_bytes

BROKER_ENV = "BENCH_CELERY_BROKER"
SMTP_PORT_ENV = "BENCH_CELERY_SMTP_PORT"
START_TIMEOUT_S = 60

app = Celery("bench", broker=os.environ.get(BROKER_ENV, "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_ignore_result=True,  # the benchmark times arrival at the SMTP server, not a result
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)
_sessions = threading.local()


@app.task(name="bench.send_email")
def send_email(address: str) -> None:
    session: smtplib.SMTP | None = getattr(_sessions, "smtp", None)
    if session is None:
        session = _sessions.smtp = smtplib.SMTP(
            "127.0.0.1", int(os.environ[SMTP_PORT_ENV]), local_hostname="bench"
        )
    try:
        session.sendmail(SENDER, [address], email_bytes(address))
    except BaseException:
        _sessions.smtp = None
        session.close()
        raise


def submit(address: str) -> None:
    """Queue one email (a Redis LPUSH; a few hundred microseconds in the caller's thread)."""
    send_email.delay(address)


def unavailable() -> str | None:
    """Why the Celery baseline cannot run here, or None."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (make bench installs it as root: apt-get)"
    return None


@contextmanager
def redis_broker(port: int, log: Path) -> Iterator[subprocess.Popen]:
    """redis-server on `port`, answering; stopped on exit. Sets the broker URL for this process
    and the workers it starts."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=output,
            stderr=output,
        )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait_for_redis(port, process)
        os.environ[BROKER_ENV] = url
        app.conf.broker_url = url
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_redis(port: int, process: subprocess.Popen) -> None:
    import redis  # Celery's Redis transport depends on it

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            redis.Redis(port=port).ping()
            return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"redis-server on port {port} did not come up")


@contextmanager
def celery_workers(
    processes: int, concurrency: int, smtp_port: int, logs: Path
) -> Iterator[list[subprocess.Popen]]:
    """`processes` Celery workers sharing `concurrency` threads, ready to take tasks."""
    threads = max(1, concurrency // processes)
    workers = []
    env = {**os.environ, SMTP_PORT_ENV: str(smtp_port)}
    for number in range(processes):
        log = logs / f"celery-{number}.log"
        with log.open("w") as output:
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "--app",
                        "bench.celery_baseline",
                        "worker",
                        "--pool",
                        "threads",
                        "--concurrency",
                        str(threads),
                        "--hostname",
                        f"bench{number}@%h",
                        "--loglevel",
                        "INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    env=env,
                    stdout=output,
                    stderr=output,
                )
            )
    try:
        for number, worker in enumerate(workers):
            _wait_for_line(logs / f"celery-{number}.log", "ready.", worker)
        yield workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _wait_for_line(log: Path, text: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        if text in log.read_text():
            return
        time.sleep(0.1)
    raise RuntimeError(f"the Celery worker did not start (see {log})")
