"""Prometheus metrics. The API serves them at /metrics (to METRICS_TOKEN only); a worker on
WORKER_METRICS_ADDRESS:METRICS_PORT.

Every label takes a bounded set of values chosen by Herald, never by a caller: a tenant's event
keys would both grow the series without limit and show every tenant's business to whoever
reads the metrics (a tenant sees its own per event key in GET /v1/stats)."""

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "herald_http_requests_total",
    "API requests by route and status code",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram("herald_http_request_seconds", "API request latency", ["method", "route"])
NOTIFICATIONS_ACCEPTED = Counter(
    "herald_notifications_accepted_total",
    "Notifications accepted by the API, by priority",
    ["priority"],
)
DELIVERIES = Counter(
    "herald_deliveries_total",
    "Delivery attempts' outcomes by channel, provider and status",
    ["channel", "provider", "status"],
)
PROVIDER_SECONDS = Histogram(
    "herald_provider_send_seconds",
    "Time a provider took to accept (or refuse) one message",
    ["provider", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

# HTTP methods as a label: a client may send any token as a method (`FOO1`, `FOO2`...), and
# each would be a new series.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in _KNOWN_METHODS else "other"
