"""The Herald worker process: connects, ensures the maintenance Schedules, polls until stopped."""

import asyncio
import logging
import os
import signal
import sys

from bootstrap import (
    build_worker,
    connect_temporal,
    refuse_unfit_production,
    serve_worker_metrics,
    tune_runtime_for_the_event_loop,
)
from config.production import ProductionConfigError
from config.settings import get_settings
from db.session import create_engine, session_factory
from temporal_clients.maintenance import ensure_maintenance_schedules


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    refuse_unfit_production(settings)
    os.nice(settings.worker_nice)  # 0: as started
    engine = create_engine(settings.database_url, pool_size=20)
    serve_worker_metrics(settings)  # Herald's own: deliveries, provider latency
    client = await connect_temporal(settings)
    await ensure_maintenance_schedules(client, settings)  # idempotent, as every worker runs it
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    log = logging.getLogger("herald.worker")
    try:
        async with build_worker(client, settings, session_factory(engine)) as workers:
            queues = ", ".join(f"{lane}: {w.task_queue!r}" for lane, w in workers.items())
            log.info("worker polling task queues (%s)", queues)
            tune_runtime_for_the_event_loop()
            await stop.wait()
            grace = settings.worker_shutdown_grace_seconds
            log.info("stopping: activities in flight get %ss to finish", grace)
        # Leaving the block shuts down gracefully: polling stops; running activities finish
        # first (cancelled only after WORKER_SHUTDOWN_GRACE_SECONDS), a send's first attempt
        # included; then the SMTP sessions are closed with QUIT.
        log.info("worker stopped")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except ProductionConfigError as exc:  # the list of what to fix, not a traceback
        sys.exit(str(exc))
