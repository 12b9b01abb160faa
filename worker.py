"""The Herald worker: wiring only (clients, providers, workflows, activities)."""

import asyncio
import logging
import signal

from prometheus_client import start_http_server
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.delivery import DeliveryActivities
from activities.digest import DigestActivities
from activities.planning import PlanningActivities
from channels.registry import build_providers
from db.session import create_engine, session_factory
from herald.schedules import ensure_maintenance_schedules
from herald.scheduling_wiring import SCHEDULING_WORKFLOWS, scheduling_activities
from herald.settings import Settings, get_settings
from herald.telemetry import tracing_interceptors
from workflows.digest import DigestWorkflow
from workflows.notification import NotificationWorkflow

WORKFLOWS = [NotificationWorkflow, DigestWorkflow, *SCHEDULING_WORKFLOWS]


def build_worker(client: Client, settings: Settings, sessions, **options) -> Worker:
    planning = PlanningActivities(sessions)
    delivery = DeliveryActivities(sessions, build_providers(settings), settings)
    digests = DigestActivities(client, sessions, settings)
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=WORKFLOWS,
        # Workflow modules import only deterministic code (domain/, temporalio), so the sandbox
        # may share already-imported modules instead of re-importing them for every workflow
        # run: that re-import was ~40% of the worker's CPU under load (py-spy, make bench).
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
        ),
        activities=[planning.prepare_notification, planning.record_outcome, planning.record_failover,
                    delivery.deliver,
                    digests.enqueue_digest, digests.send_digest,
                    *scheduling_activities(sessions, settings)],
        **options,
    )


def temporal_runtime(settings: Settings) -> Runtime | None:
    """Temporal SDK metrics (task latencies, slots, polls) in Prometheus format, if asked."""
    if not settings.temporal_metrics_bind:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.temporal_metrics_bind)))


async def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    engine = create_engine(settings.database_url, pool_size=20)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)  # Herald's own: deliveries, provider latency
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        interceptors=tracing_interceptors(settings),
        runtime=temporal_runtime(settings),
    )
    await ensure_maintenance_schedules(client, settings)  # idempotent, as every worker runs it
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    try:
        async with build_worker(client, settings, session_factory(engine)):
            logging.getLogger("herald.worker").info("worker polling task queue %r", settings.task_queue)
            await stop.wait()
        # Leaving the block shuts down gracefully: running activities finish first.
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
