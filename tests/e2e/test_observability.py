"""Prometheus metrics and OpenTelemetry tracing across API -> workflow -> activities."""

import uuid

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from api.app import create_app
from bootstrap import build_worker, temporal_runtime
from config.settings import Settings
from tests.conftest import OPERATOR, free_port, new_tenant, wait_until
from tests.e2e.test_email_smtp import email_request


async def test_metrics_count_requests_notifications_and_provider_latency(stack, smtp):
    to = f"{uuid.uuid4().hex[:8]}@example.com"
    accepted = (await stack.api.post("/v1/notifications", json=email_request(to))).json()
    await stack.wait_for_status(accepted["id"], "sent")
    body = (await stack.api.get("/metrics", headers=OPERATOR)).text
    assert (
        'herald_http_requests_total{method="POST",route="/v1/notifications",status="202"}' in body
    )
    assert 'route="/v1/notifications/{notification_id}"' in body  # templates, never raw ids
    assert accepted["id"] not in body
    assert 'herald_notifications_accepted_total{priority="normal"}' in body
    assert 'herald_deliveries_total{channel="email",provider="smtp",status="sent"}' in body
    assert 'herald_provider_send_seconds_count{outcome="accepted",provider="smtp"}' in body


async def test_one_trace_spans_the_api_the_workflow_and_its_activities(
    temporal_env, make_stack, sessions, smtp
):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    traced = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        interceptors=[TracingInterceptor(tracer)],
    )
    async with make_stack(temporal_env) as base:
        app = create_app(base.settings, temporal=traced)
        _, key = await new_tenant(sessions, "Traced")
        async with (
            app.router.lifespan_context(app),
            build_worker(
                traced,
                base.settings.model_copy(update={"task_queue": f"traced-{uuid.uuid4()}"}),
                sessions,
            ) as workers,
        ):
            app.state.settings = base.settings.model_copy(
                update={"task_queue": workers["default"].task_queue}
            )
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://herald",
                headers={"Authorization": f"Bearer {key}"},
            ) as api:
                to = f"{uuid.uuid4().hex[:8]}@example.com"
                with tracer.start_as_current_span("POST /v1/notifications"):
                    response = await api.post("/v1/notifications", json=email_request(to))
                assert response.status_code == 202, response.text
                await smtp.wait_for(to)
                await wait_until(
                    lambda: any(
                        s.name.startswith("RunActivity:plan_and_send")
                        for s in exporter.get_finished_spans()
                    )
                )
    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert {
        "StartWorkflow:NotificationWorkflow",
        "RunWorkflow:NotificationWorkflow",
        "RunActivity:plan_and_send",  # a notification sent at once: planned and sent in one step
    } <= names
    assert len({s.context.trace_id for s in spans}) == 1  # one trace from the request down


async def test_the_worker_exposes_temporal_sdk_metrics_when_asked(temporal_env):
    port = free_port()
    runtime = temporal_runtime(Settings(temporal_metrics_bind=f"127.0.0.1:{port}"))
    client = await Client.connect(
        temporal_env.client.service_client.config.target_host, runtime=runtime
    )
    await client.count_workflows()
    async with httpx.AsyncClient() as http:
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    assert "temporal_request" in metrics
    assert temporal_runtime(Settings()) is None  # off unless configured
