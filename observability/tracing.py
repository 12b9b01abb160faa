"""OpenTelemetry tracing across API -> workflow -> activities, off unless configured.

Set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://collector:4318) and the Temporal client of the
API and of the worker carry temporalio's TracingInterceptor: a request's span is the parent
of the workflow's and its activities' spans.
"""

from temporalio.contrib.opentelemetry import TracingInterceptor

from config.settings import Settings

_configured = False


def tracing_interceptors(settings: Settings) -> list:
    global _configured
    if not settings.otel_exporter_otlp_endpoint:
        return []
    if not _configured:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        provider = TracerProvider(
            resource=Resource.create({"service.name": settings.otel_service_name})
        )
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
        _configured = True
    return [TracingInterceptor()]
