"""Building a Herald worker: its workflows and activities on the task queue.

Both `worker.py` (a worker process) and the API process (an embedded worker, so the
notifications it starts begin in-process: eager workflow start) build theirs here."""

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.delivery import DeliveryActivities
from activities.digest import DigestActivities
from activities.planning import PlanningActivities
from channels.registry import build_providers
from herald.scheduling_wiring import SCHEDULING_WORKFLOWS, scheduling_activities
from herald.settings import Settings
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
        workflow_runner=workflow_runner(settings),
        activities=[planning.prepare_notification, planning.record_outcome, planning.record_failover,
                    delivery.deliver,
                    digests.enqueue_digest, digests.send_digest,
                    *scheduling_activities(sessions, settings)],
        **options,
    )


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """Temporal's sandbox refuses non-deterministic calls (clock, randomness, I/O) in workflow
    code, at a cost of ~3 ms of CPU per notification (make bench). The test suite runs every
    workflow in it, so such a call fails CI; by default production runs without it."""
    if not settings.workflow_sandbox:
        return UnsandboxedWorkflowRunner()
    # Workflow modules import only deterministic code (domain/, temporalio), so the sandbox may
    # share already-imported modules instead of re-importing them for every workflow run: that
    # re-import was ~40% of the worker's CPU under load (py-spy, make bench).
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())


def temporal_runtime(settings: Settings) -> Runtime | None:
    """Temporal SDK metrics (task latencies, slots, polls) in Prometheus format, if asked."""
    if not settings.temporal_metrics_bind:
        return None
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=settings.temporal_metrics_bind)))
