"""The composition root: the one place that builds Herald's collaborators from Settings.

A worker's workflows and activities, one Worker per lane (task queue) it serves (for
`worker.py` and for the API process's embedded worker, which lets the notifications it starts
begin in-process: eager workflow start),
the Temporal client and runtime, and the database engine."""

import asyncio
import gc
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    PollerBehaviorSimpleMaximum,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.agenda import AgendaActivities
from activities.booking import BookingActivities
from activities.broadcasts import BroadcastActivities
from activities.delivery import DeliveryActivities
from activities.digest import DigestActivities
from activities.immediate import ImmediateActivities
from activities.inbox import InboxActivities
from activities.maintenance import MaintenanceActivities
from activities.notices import NoticeActivities
from activities.outcomes import OutcomeActivities
from activities.planning import PlanningActivities
from activities.status_webhooks import StatusWebhookActivities
from channels.registry import Providers
from config.production import ProductionConfigError, production_problems
from config.providers import build_providers, platforms
from config.settings import Settings
from db.session import create_engine, session_factory
from observability.tracing import tracing_interceptors
from services import vapid
from services.status_webhook_dispatcher import StatusWebhookDispatcher
from temporal_clients.payload_codec import data_converter
from workflows.agenda import DailyAgendaWorkflow
from workflows.booking import BookingWorkflow
from workflows.broadcast import BroadcastWorkflow
from workflows.digest import DigestWorkflow
from workflows.inbox_snooze import InboxSnoozeWorkflow
from workflows.maintenance import (
    FailureRateMonitorWorkflow,
    PurgeLogsWorkflow,
    RefreshDailyStatsWorkflow,
    RestartStrandedBroadcastsWorkflow,
    RetryFailedDeliveriesWorkflow,
)
from workflows.notification import NotificationWorkflow
from workflows.status_webhook import StatusWebhookWorkflow

log = logging.getLogger("herald.worker")

WORKFLOWS = [
    NotificationWorkflow,
    DigestWorkflow,
    BookingWorkflow,
    DailyAgendaWorkflow,
    PurgeLogsWorkflow,
    RetryFailedDeliveriesWorkflow,
    FailureRateMonitorWorkflow,
    RefreshDailyStatsWorkflow,
    RestartStrandedBroadcastsWorkflow,
    InboxSnoozeWorkflow,
    StatusWebhookWorkflow,
]
# The broadcast lane's (broadcast_worker_parts), on settings.broadcast_queue() only.
BROADCAST_WORKFLOWS: list[type] = [BroadcastWorkflow]


def activities(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    providers: Providers,
    delivery: DeliveryActivities | None = None,
    status_webhooks: StatusWebhookActivities | None = None,
) -> list[Callable[..., Any]]:
    """Every activity a Herald worker runs, bound to its collaborators (`delivery`: the
    process's one DeliveryActivities, whose rate limits and circuits every send shares;
    `status_webhooks`: the process's one, whose HTTP client build_worker closes)."""
    planning = PlanningActivities(sessions)
    outcomes = OutcomeActivities(sessions)
    delivery = delivery or DeliveryActivities(sessions, providers, settings)
    digests = DigestActivities(client, sessions, settings)
    notices = NoticeActivities(sessions, settings)
    booking = BookingActivities(sessions)
    agenda = AgendaActivities(sessions)
    maintenance = MaintenanceActivities(sessions, settings)
    inbox = InboxActivities(sessions)
    immediate = ImmediateActivities(planning, delivery)
    status_webhooks = status_webhooks or StatusWebhookActivities(sessions, settings)
    return [
        immediate.plan_and_send,
        planning.plan_notification,
        planning.replan_waiting_channels,
        planning.plan_fallback_channel,
        planning.recorded_delivery_status,
        outcomes.record_outcome,
        outcomes.record_failover,
        delivery.deliver,
        delivery.record_sent,
        digests.enqueue_digest,
        digests.send_digest,
        notices.create_notice,
        booking.load_booking_config,
        booking.record_booking,
        agenda.load_agenda,
        maintenance.purge_logs,
        maintenance.retry_failed_deliveries,
        maintenance.check_failure_rates,
        maintenance.refresh_daily_stats,
        maintenance.restart_stranded_broadcasts,
        inbox.return_snoozed_message,
        status_webhooks.attempt_status_webhook,
        status_webhooks.judge_failing_endpoint,
    ]


# The API process's embedded worker: the lanes of single notifications, whose starts it makes
# eager; never broadcasts, whose pages and batches would share the API's event loop and CPU.
EMBEDDED_LANES = ("default", "urgent")


def broadcast_worker_parts(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    providers: Providers,
    delivery: DeliveryActivities | None = None,
) -> tuple[list[type], list[Callable[..., Any]]]:
    """The broadcast lane's workflows and activities (BroadcastWorkflow, BroadcastActivities'
    methods), bound to their collaborators; `delivery` as activities() takes it."""
    broadcasts = BroadcastActivities(sessions, providers, settings, client, delivery)
    return BROADCAST_WORKFLOWS, [
        broadcasts.set_broadcast_status,
        broadcasts.plan_broadcast_page,
        broadcasts.release_broadcast_deferred,
        broadcasts.send_broadcast_batch,
    ]


def lane_queue(settings: Settings, lane: str) -> str:
    """The task queue a lane (config.settings.LANES) is served on."""
    return settings.lane_queues()[lane]


@asynccontextmanager
async def build_worker(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    lanes: tuple[str, ...] | None = None,
    **options: Any,
) -> AsyncIterator[dict[str, Worker]]:
    """Herald's Workers, one per lane served (`lanes`, else WORKER_QUEUES), by lane, polling
    while the `async with` block runs. A Worker serves one task queue, with its own slots and
    pollers: a broadcast filling the broadcast lane's activity slots, or a backlog of ordinary
    notifications the default lane's, leaves the urgent lane's free. They share the client,
    the providers (one SMTP pool, one rate limit per provider) and the process's event loop.

    Leaving the block stops them all at once, gracefully: polling stops, the activities in
    flight get WORKER_SHUTDOWN_GRACE_SECONDS to finish before they are cancelled (a send
    cancelled mid-call may already be with its provider, and its retry would send it again),
    and only then are the providers' open connections (SMTP sessions) closed.

    Where the default lane is served, the status webhook dispatcher runs too
    (services/status_webhook_dispatcher.py): it starts the StatusWebhookWorkflows of the
    outbox's events, and stops before the workers do."""
    providers = await load_providers(settings, sessions)
    # One DeliveryActivities for every lane: one token bucket and one circuit per provider, so
    # broadcasts and single sends together keep to PROVIDER_RATE_LIMITS.
    delivery = DeliveryActivities(sessions, providers, settings)
    status_webhooks = StatusWebhookActivities(sessions, settings)
    bound = activities(client, settings, sessions, providers, delivery, status_webhooks)
    parts: dict[str, tuple[list[type], list[Callable[..., Any]]]] = {
        "default": (WORKFLOWS, bound),
        # A NotificationWorkflow's activities run on its own task queue: every activity is
        # registered (what it calls may change), and its slots are this lane's.
        "urgent": ([NotificationWorkflow], bound),
        "broadcast": broadcast_worker_parts(client, settings, sessions, providers, delivery),
    }
    grace = timedelta(seconds=settings.worker_shutdown_grace_seconds)
    workers = {
        lane: Worker(
            client,
            task_queue=lane_queue(settings, lane),
            workflows=parts[lane][0],
            workflow_runner=workflow_runner(settings),
            activities=parts[lane][1],
            **({"graceful_shutdown_timeout": grace} | worker_tuning(settings) | options),
        )
        for lane in (lanes or settings.worker_lanes())
        if parts[lane] != ([], [])  # nothing to serve (no broadcasts yet)
    }
    try:
        async with AsyncExitStack() as running:
            await running.enter_async_context(polling(list(workers.values())))
            if "default" in workers:  # status webhooks' workflows run there; stopped first
                await running.enter_async_context(
                    StatusWebhookDispatcher(sessions, client, settings).running()
                )
            yield workers
    finally:
        await providers.close()  # after the workers: no send is using them any more
        await status_webhooks.close()


async def load_providers(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Providers:
    """The configured providers, Web Push's with Herald's VAPID key pair, which is kept in the
    database (made there first when there is none), not in settings."""
    if "webpush" not in platforms(settings, "push"):
        return build_providers(settings)
    async with sessions() as session:
        vapid_keys = await vapid.provider_values(session, settings)
    return build_providers(settings, extra=vapid_keys)


# How long past its graceful_shutdown_timeout (WORKER_SHUTDOWN_GRACE_SECONDS) a stopping Worker
# is waited for (see `polling`); the Helm chart's terminationGracePeriodSeconds leaves 15 s more.
SHUTDOWN_OVERRUN = timedelta(seconds=10)
# What `polling` gave up on, kept referenced: the event loop itself holds tasks only weakly.
_LEFT_BEHIND: set[asyncio.Future[Any]] = set()


@asynccontextmanager
async def polling(
    workers: list[Worker], overrun: timedelta = SHUTDOWN_OVERRUN
) -> AsyncIterator[None]:
    """`workers` polling while the block runs. As with `async with worker`, a Worker failing
    fatally cancels the block, and its error is raised when the block is left (unless the
    block was also cancelled from outside: that cancel goes on, and the error is logged).

    Leaving the block shuts every Worker down at once, so they share one grace (their
    graceful_shutdown_timeout), and waits for them at most that grace + overrun. Temporal's
    Core can drop a local activity's cancel while a Worker shuts down and then wait for it
    forever (temporalio/sdk-python#1837); a Worker stuck that way is logged and left behind,
    so the process still closes its providers and exits. Nothing is lost by it: the server
    gives the stuck workflow task to another worker when its timeout passes, and a send's
    claim keeps it from going out twice."""
    block = asyncio.current_task()
    leaving = False
    cancelled_by_a_failure = False

    def on_stopped(run: asyncio.Task[None]) -> None:
        nonlocal cancelled_by_a_failure
        if block and not leaving and not run.cancelled() and run.exception():
            cancelled_by_a_failure = True
            block.cancel()

    runs = [asyncio.create_task(worker.run()) for worker in workers]
    for run in runs:
        run.add_done_callback(on_stopped)
    try:
        yield
    finally:
        leaving = True
        stopped = asyncio.gather(*(worker.shutdown() for worker in workers))
        stopped.add_done_callback(lambda done: done.cancelled() or done.exception())
        limit = overrun + max(
            (w.config().get("graceful_shutdown_timeout") or timedelta(0) for w in workers),
            default=timedelta(0),
        )
        try:
            await asyncio.wait_for(asyncio.shield(stopped), limit.total_seconds())
        except TimeoutError:  # they go on stopping, if they can, until the process exits
            _LEFT_BEHIND.update([stopped, *runs])
            stuck = [w.task_queue for w in workers if not w.is_shutdown]
            log.error(
                "workers on %s did not stop within %ss; left behind", stuck, limit.total_seconds()
            )
        if block and cancelled_by_a_failure:
            block.uncancel()  # the cancel was ours: the failure is raised in its place
        failures = [r.exception() for r in runs if r.done() and not r.cancelled()]
        if failure := next((f for f in failures if f), None):
            if block and block.cancelling():  # cancelled from outside as well: that goes on
                log.error("a worker failed while its process was stopping", exc_info=failure)
            else:
                raise failure from None


def worker_tuning(settings: Settings) -> dict[str, Any]:
    """The Worker options operators tune through settings (config/settings.py says which)."""
    return {
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_concurrent_local_activities": settings.worker_max_concurrent_local_activities,
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "workflow_task_poller_behavior": PollerBehaviorSimpleMaximum(
            settings.worker_workflow_task_pollers
        ),
        "activity_task_poller_behavior": PollerBehaviorSimpleMaximum(
            settings.worker_activity_task_pollers
        ),
        "max_cached_workflows": settings.worker_max_cached_workflows,
        "max_activities_per_second": settings.worker_activities_per_second,
        "max_task_queue_activities_per_second": settings.task_queue_activities_per_second,
    }


def tune_runtime_for_the_event_loop() -> None:
    """Once the process has started: keep the interpreter responsive to the event loop while
    the render thread (domain/templating/render_thread.py) is busy.

    - Collect what starting left behind, then hide the rest (modules, clients, settings: alive
      as long as the process) from the garbage collector: otherwise a full collection walks
      every one of those objects while holding the interpreter lock, hundreds of milliseconds
      in which the loop stands still, and a busy render triggers them.
    - Switch threads every millisecond rather than five: a loop waiting for the interpreter
      while a render runs gets it five times sooner (GET /v1/health, which waits for it at
      every step, answered in about 150 ms instead of 190 ms during the hostile templates
      test on a loaded two-core machine).
    """
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(0.001)


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """Temporal's sandbox refuses non-deterministic calls (clock, randomness, I/O) in workflow
    code, at a cost of ~3 ms of CPU per notification (make bench). The test suite runs every
    workflow in it, so such a call fails CI; by default production runs without it."""
    if not settings.workflow_sandbox:
        return UnsandboxedWorkflowRunner()
    # Workflow modules import only deterministic code (domain/, temporalio), so the sandbox may
    # share already-imported modules instead of re-importing them for every workflow run: that
    # re-import was ~40% of the worker's CPU under load (py-spy, make bench).
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    )


def serve_worker_metrics(settings: Settings) -> WSGIServer | None:
    """Herald's metrics of a worker process (deliveries, provider latency) on
    WORKER_METRICS_ADDRESS:METRICS_PORT, from a daemon thread; None when METRICS_PORT is 0.
    The server has no authentication, hence loopback unless the deployment widens it."""
    if not settings.metrics_port:
        return None
    server, _ = start_http_server(settings.metrics_port, addr=settings.worker_metrics_address)
    return server


def temporal_runtime(settings: Settings) -> Runtime | None:
    """Temporal SDK metrics (task latencies, slots, polls) in Prometheus format, if asked."""
    if not settings.temporal_metrics_bind:
        return None
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=settings.temporal_metrics_bind)
        )
    )


def temporal_connect_config(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> ClientConnectConfig:
    """Where and how to reach Temporal: a temporalio.envconfig profile (a TOML file named by
    TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE, and the environment's TEMPORAL_API_KEY,
    TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH... as Temporal's CLI and SDKs read them, for a
    self-hosted cluster with mTLS or Temporal Cloud), then Herald's own TEMPORAL_ADDRESS and
    TEMPORAL_NAMESPACE where they are set or the profile names none."""
    profile = ClientConfigProfile.load(
        override_env_vars=dict(os.environ if environ is None else environ)
    )
    config = profile.to_client_connect_config()
    if "temporal_address" in settings.model_fields_set or "target_host" not in config:
        config["target_host"] = settings.temporal_address
    if "temporal_namespace" in settings.model_fields_set or "namespace" not in config:
        config["namespace"] = settings.temporal_namespace
    return config


def refuse_unfit_production(settings: Settings) -> None:
    """Raises ProductionConfigError listing every problem when HERALD_ENV=production and the
    settings are not fit for it; nothing in development. Every process calls it first."""
    connection = temporal_connect_config(settings)
    encrypted = bool(connection.get("tls") or connection.get("api_key"))
    problems = production_problems(settings, temporal_encrypted=encrypted)
    if problems:
        raise ProductionConfigError(problems)


async def connect_temporal(settings: Settings, sdk_metrics: bool = True) -> Client:
    """The process's one Temporal client: its connection from temporal_connect_config, payloads
    encrypted when PAYLOAD_ENCRYPTION_KEYS is set, tracing when configured, and the SDK's
    metrics when configured and asked for: a worker process serves them on
    TEMPORAL_METRICS_BIND; an API process does not (two processes on one host cannot bind
    that address)."""
    keys = settings.payload_encryption_keys
    return await Client.connect(
        **temporal_connect_config(settings),
        data_converter=data_converter(keys.get_secret_value() if keys else None),
        interceptors=tracing_interceptors(settings),
        runtime=temporal_runtime(settings) if sdk_metrics else None,
    )


def database(
    settings: Settings, pool_size: int = 10
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """The process's engine (dispose it at exit) and the session factory every caller shares."""
    engine = create_engine(settings.database_url, pool_size=pool_size)
    return engine, session_factory(engine)
