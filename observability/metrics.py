"""Prometheus metrics. The API serves them at /metrics; a worker on METRICS_PORT."""

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "herald_http_requests_total",
    "API requests by route and status code",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram("herald_http_request_seconds", "API request latency", ["method", "route"])
NOTIFICATIONS_ACCEPTED = Counter(
    "herald_notifications_accepted_total",
    "Notifications accepted by the API",
    ["event_key", "priority"],
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
