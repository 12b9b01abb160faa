"""Configuration: one validated Settings object, read from the environment once."""

import re
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.send_rate import parse_send_rates
from domain.sns import SNS_HOST_PATTERN
from domain.status_webhooks import parse_schedule

MIN_METRICS_TOKEN_LENGTH = 16
# A worker's lanes (WORKER_QUEUES): the default task queue (TASK_QUEUE), urgent and
# high-priority notifications' (URGENT_TASK_QUEUE), broadcasts' (BROADCAST_TASK_QUEUE).
LANES = ("default", "urgent", "broadcast")


def parse_lanes(value: str) -> tuple[str, ...]:
    """WORKER_QUEUES read: "all" or a comma-separated list of LANES; ValueError otherwise."""
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    if names == ["all"]:
        return LANES
    unknown = [name for name in names if name not in LANES]
    if unknown or not names:
        problem = "all stands alone" if "all" in unknown else f"{', '.join(unknown)} unknown"
        raise ValueError(
            f"WORKER_QUEUES must be all or a comma-separated list of {', '.join(LANES)}; "
            f"got {value!r}" + (f" ({problem})" if unknown else "")
        )
    return tuple(lane for lane in LANES if lane in names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # production: refuse to start with development secrets or without the TLS and encryption a
    # deployment on real networks needs (config/production.py lists what is checked).
    herald_env: Literal["development", "production"] = "development"
    # Production only: a Temporal cluster reached without TLS (a private network, a service
    # mesh that encrypts between pods).
    allow_plaintext_temporal: bool = False
    database_url: str = Field(
        default="",
        description="postgresql+psycopg://... ; `make run` fills it with an embedded server.",
    )
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    # Temporal's Web UI as an operator's browser reaches it: the dashboard's History links each
    # delivery's workflow there. `make run`'s dev server serves it on 8233; docker-compose.yml's
    # temporal-ui on 8080.
    temporal_ui_url: str = "http://localhost:8233"
    task_queue: str = "herald"
    # The API process also works the task queue, so a notification it starts begins right
    # there (eager workflow start): no round trip through the server's task matching.
    # Worker processes still serve everything else (timers, retries, schedules) and scale out.
    embedded_worker: bool = True
    # Lanes (issue 15, README "Broadcasts"): broadcasts run on a task queue of their own, so
    # their pages and batched sends never hold up a single notification's workflow task, and
    # urgent and high-priority notifications on another, so nothing waits behind a backlog.
    # Empty: "<TASK_QUEUE>-broadcast" and "<TASK_QUEUE>-urgent".
    broadcast_task_queue: str = ""
    urgent_task_queue: str = ""
    # The lanes a worker process (`herald worker`) serves, each with its own Worker and slots:
    # "all", or a comma-separated list of default, urgent, broadcast (e.g. "broadcast" for
    # processes that only run broadcasts). The API's embedded worker serves default and urgent.
    worker_queues: str = "all"
    # A worker process's CPU niceness (0-19, Linux `nice`): a broadcast worker sharing a host's
    # cores with the API or urgent workers (Compose, one machine) at 10 yields the CPU to them.
    # Kubernetes pods have their own CPU requests instead.
    worker_nice: int = Field(default=0, ge=0, le=19)
    # Recipients a broadcast writes per page (one transaction), and the sends of one page
    # made at once per provider (PROVIDER_RATE_LIMITS still bounds their rate).
    broadcast_page_size: int = Field(default=500, ge=1, le=5000)
    # A page is written in this many parts at once, each a transaction of its own, so that
    # PostgreSQL writes one part while the worker decides the next: faster broadcasts, and less
    # CPU left for everything else on a small host while one runs (README, "Benchmark").
    broadcast_page_parts: int = Field(default=1, ge=1, le=16)
    broadcast_send_concurrency: int = Field(default=20, ge=1, le=500)
    # Temporal's workflow sandbox: a guard against non-deterministic workflow code. `make test`
    # turns it on, so CI catches such code; production saves its CPU (see herald/workers.py).
    workflow_sandbox: bool = False

    # Providers. Unset means: pick from the credentials that are present, else the
    # development defaults (the local SMTP catcher and the SMS outbox file).
    email_provider: Literal["smtp", "sendgrid", "mailgun", "ses"] | None = None
    sms_provider: Literal["twilio", "vonage", "outbox"] | None = None
    email_from: str = "Herald <notifications@herald.localhost>"
    # The domains a tenant may send from (its own From address, GET/PUT /v1/settings/email),
    # comma-separated; unset: only EMAIL_FROM's. Anything else would let a tenant send as anyone.
    allowed_from_domains: str = ""
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = False
    smtp_start_tls: bool = False
    sendgrid_api_key: SecretStr | None = None
    sendgrid_base_url: str = "https://api.sendgrid.com"
    sendgrid_webhook_public_key: str | None = None  # Signed Event Webhook key, base64 DER as shown
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_base_url: str = "https://api.twilio.com"
    twilio_secondary_from_number: str | None = None  # a second sender: provider "twilio_secondary"
    sms_outbox_path: str = ".data/sms-outbox.jsonl"
    # Mailgun (HTTP API): the sending domain's API key; webhooks are signed with the
    # account's HTTP webhook signing key.
    mailgun_api_key: SecretStr | None = None
    mailgun_domain: str | None = None
    mailgun_base_url: str = "https://api.mailgun.net"
    mailgun_webhook_signing_key: SecretStr | None = None
    # Amazon SES (v2 API). Without keys, botocore's usual chain (environment, instance role).
    ses_region: str = "us-east-1"
    ses_access_key_id: str | None = None
    ses_secret_access_key: SecretStr | None = None
    ses_endpoint_url: str | None = None  # another endpoint (a VPC endpoint, a local test server)
    ses_configuration_set: str | None = None  # whose event destination is the SNS topic below
    # SES events arrive through SNS: the topics accepted (comma-separated ARNs). Required for
    # POST /v1/webhooks/ses (503 without): SNS signs every account's topics alike.
    ses_sns_topic_arns: str = ""
    # The hosts SNS's signing certificates and subscription URLs must be on (https only); a
    # message whose SigningCertURL is elsewhere is refused. Tests point it at a local server.
    ses_sns_cert_host_pattern: str = SNS_HOST_PATTERN
    ses_sns_ca_file: str | None = None  # a CA bundle trusted instead of the system's (tests)
    # Vonage (SMS API): a second SMS provider, so SMS failover can cross providers.
    vonage_api_key: str | None = None
    vonage_api_secret: SecretStr | None = None
    vonage_from: str | None = None
    vonage_base_url: str = "https://rest.nexmo.com"
    vonage_signature_secret: SecretStr | None = None  # signs its delivery receipts
    # The signing method chosen beside that secret in Vonage's dashboard (md5hash: MD5 of the
    # parameters and the secret; the others HMACs keyed with it).
    vonage_signature_method: Literal["md5hash", "md5", "sha1", "sha256", "sha512"] = "sha256"
    # Push. PUSH_PROVIDERS: the platforms used (webpush, fcm, apns; unset: every one whose
    # settings are present). Web Push needs no account: Herald keeps its VAPID key pair.
    push_providers: str = ""
    vapid_subject: str = "mailto:notifications@herald.localhost"  # RFC 8292: who to contact
    # Another CA bundle to trust when calling push services (a local test push service).
    webpush_ca_file: str | None = None
    fcm_project_id: str | None = None
    fcm_service_account_json: SecretStr | None = None  # the service account's key file, as JSON
    fcm_base_url: str = "https://fcm.googleapis.com"
    fcm_token_url: str = "https://oauth2.googleapis.com/token"
    apns_key: SecretStr | None = None  # the .p8 signing key's PEM text
    apns_key_id: str | None = None
    apns_team_id: str | None = None
    apns_topic: str | None = None  # the app's bundle id
    apns_base_url: str = "https://api.push.apple.com"
    apns_ca_file: str | None = None  # another CA bundle to trust (a local test server)
    # Chat. CHAT_PROVIDERS: the platforms used (slack, teams, discord; unset: every one whose
    # settings are present). Teams and Discord post to the recipient's webhook URL; Slack to
    # its webhook URL or, with a bot token, to a member or channel id.
    chat_providers: str = ""
    slack_bot_token: SecretStr | None = None
    slack_base_url: str = "https://slack.com/api/"
    # The webhook channel and chat webhooks call URLs given by tenants and recipients: private,
    # loopback and link-local addresses are refused (SSRF) unless this allows them.
    webhook_allow_private_addresses: bool = False
    # Status webhooks (/v1/webhook-endpoints; domain/status_webhooks.py): the waits before
    # each attempt of a message, in seconds, comma-separated (unset: 0,5,300,1800,7200,18000,
    # 36000,36000: 8 attempts over about 28 hours; a test's "0,1,1": 3 in 2 s); each attempt's
    # timeout; how long an endpoint may fail (no message delivered since its first failed
    # attempt) before a message failing for good disables it, with an alert (0: the first).
    status_webhook_schedule_seconds: str = ""
    status_webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    status_webhook_disable_after_hours: float = Field(default=120.0, ge=0)
    # Where the development stack's mail catcher writes what it receives (`make run` sets
    # .data/mail). Set, the dashboard shows those messages (Dev mailbox); never when
    # HERALD_ENV=production.
    dev_mailbox_path: str | None = None
    # Failover order per channel, comma-separated provider names (e.g. "sendgrid,smtp"):
    # a send that exhausts its retries on one provider moves to the next. Unset: the one above.
    email_providers: str = ""
    sms_providers: str = ""
    # Circuit breaker per provider and worker: this many transient failures within the
    # window open it for the cool-down, during which sends fail over at once.
    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_window_seconds: float = Field(default=60.0, gt=0)
    circuit_cool_down_seconds: float = Field(default=30.0, gt=0)
    provider_timeout_seconds: float = Field(default=10.0, gt=0)
    # Sends a second each provider's account allows, per worker process (`sendgrid=100,
    # twilio=10`; unset: no limit): a send waits for its slot, or (over 5 s away) is retried then.
    provider_rate_limits: str = ""
    # How long a stopping worker (SIGTERM to `herald worker`; the API's embedded worker when
    # the API stops) lets its activities in flight run before cancelling them: Temporal's
    # graceful_shutdown_timeout. A send cancelled mid-call may already be with its provider,
    # and its retry would send it again, so this stays above provider_timeout_seconds, with
    # room to record the result. (Local activities, a send's first attempt among them, are not
    # cut short by it: Temporal waits for them, up to DELIVERY_ATTEMPT_TIMEOUT_SECONDS.) The
    # platform must let the process run the larger of the two and a few seconds more before it
    # kills it: Compose's stop_grace_period (10 s unless set), Kubernetes'
    # terminationGracePeriodSeconds (30 s unless set).
    worker_shutdown_grace_seconds: float = Field(default=20.0, ge=0)

    # Worker tuning (temporalio.worker.Worker): what `make bench` ran with, Temporal's
    # defaults. Slots bound what one worker process runs at once; pollers how many long polls
    # it keeps open per task kind; the cache keeps running workflows in memory (fewer
    # replays); ACTIVITIES_PER_SECOND bounds this worker's regular activities,
    # TASK_QUEUE_ACTIVITIES_PER_SECOND all workers' together (the server enforces it). Neither
    # bounds a send's first attempt (a local activity): PROVIDER_RATE_LIMITS does.
    worker_max_concurrent_activities: int = Field(default=100, ge=1)
    worker_max_concurrent_local_activities: int = Field(default=100, ge=1)
    worker_max_concurrent_workflow_tasks: int = Field(default=100, ge=2)
    worker_workflow_task_pollers: int = Field(default=5, ge=1)
    worker_activity_task_pollers: int = Field(default=5, ge=1)
    worker_max_cached_workflows: int = Field(default=1000, ge=0)
    worker_activities_per_second: float | None = Field(default=None, gt=0)
    task_queue_activities_per_second: float | None = Field(default=None, gt=0)

    # Delivery retries: exponential backoff from `initial` doubling up to `max_interval` (or
    # the provider's Retry-After, or an open circuit's cool-down), for `max_retry_seconds` in
    # all per channel and provider: an outage of an hour delays mail, it does not fail it.
    # `max_attempts` also bounds the tries when set; 0 (the default): only the time does.
    delivery_max_attempts: int = Field(default=0, ge=0, le=1000)
    delivery_retry_initial_seconds: float = Field(default=1.0, gt=0)
    delivery_retry_max_interval_seconds: float = Field(default=300.0, gt=0)
    delivery_max_retry_seconds: float = Field(default=3600.0, gt=0)
    delivery_attempt_timeout_seconds: float = Field(default=30.0, gt=0)

    # Signs unsubscribe links, operators' emailed links and sessions, and seals the inbox's
    # signing secrets (a key derived from it). Required in production;
    # `make run` creates one under .data/.
    secret_key: SecretStr | None = None

    # Observability. The API serves /metrics, and the detailed health at /v1/health/details,
    # only to `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization:` in the
    # scrape config); without a token both answer 404. They are operators' views across
    # tenants, so no tenant's API key opens them.
    metrics_token: SecretStr | None = None
    # A worker serves its metrics on WORKER_METRICS_ADDRESS:METRICS_PORT (0: off). Loopback
    # unless set: that server has no authentication, so only a deployment that keeps the port
    # on a private network (a container's) should widen it to 0.0.0.0.
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    worker_metrics_address: str = "127.0.0.1"
    # Temporal's SDK metrics, served by a worker on this host:port when set (e.g. 127.0.0.1:9465).
    temporal_metrics_bind: str | None = None
    # `herald migrate` registers Herald's search attributes on the namespace; false where the
    # cluster's operator registers them instead (Temporal Cloud: `tcld namespace
    # search-attributes add`, with the names and types in workflows/search_attributes.py).
    register_search_attributes: bool = True
    # Encrypts every payload sent to Temporal (temporal_clients/payload_codec.py):
    # `id:base64key[,id:base64key...]`, AES-256 keys; the first encrypts, all decrypt (add a
    # new key first to rotate; drop an old one once no retained history uses it). Unset: no
    # encryption (development). The API serves the Temporal Web UI's codec endpoint
    # (/v1/codec/decode) to the operator's token; CODEC_CORS_ORIGINS lists the Web UI
    # origins allowed to call it from a browser.
    payload_encryption_keys: SecretStr | None = None
    codec_cors_origins: str = ""
    # Tracing is on when an OTLP endpoint is given.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "herald"

    # An SMS template whose sample renders to more segments is refused when saved.
    sms_max_segments: int = Field(default=3, ge=1, le=10)

    max_request_bytes: int = 256 * 1024
    webhook_max_request_bytes: int = 16 * 1024 * 1024
    # How long an API process remembers a key's tenant; a revoked key works at most this long.
    api_key_cache_seconds: float = Field(default=30.0, ge=0)
    # An inbox stream (GET /v1/inbox/stream) with nothing to send writes a `: heartbeat` comment
    # this often, so proxies and load balancers do not close it as idle (many do at 30-60 s).
    inbox_stream_heartbeat_seconds: float = Field(default=15.0, gt=0, le=300)
    public_base_url: str = "http://localhost:8000"

    # Maintenance Schedules: log retention, the failure-rate alert, retries of failed deliveries.
    log_retention_days: int = Field(default=90, ge=1)
    failure_rate_threshold: float = Field(default=0.25, gt=0, le=1)
    failure_rate_min_deliveries: int = Field(default=20, ge=1)  # fewer in the hour: no alert
    failed_delivery_retries: int = Field(default=1, ge=0, le=5)  # new chains per failed delivery
    # The statistics' daily rollup (domain/daily_stats.py): each night recomputes the days 2 to
    # this many days old, so late opens, clicks and bounces of those days reach it.
    daily_stats_refresh_days: int = Field(default=14, ge=2, le=366)
    # How often the sweep starts the workflow of a broadcast stored without one (Temporal was
    # unreachable when it was submitted without an Idempotency-Key, so no retry will come).
    broadcast_sweep_minutes: int = Field(default=2, ge=1, le=60)

    # The inbox: the shortest snooze (POST /v1/inbox/messages/{id}/snooze), and what the daily
    # purge keeps. A stream resuming from an event older than the event retention is told to
    # refetch (`event: reset`); read and archived messages go after their retention; expired
    # messages (hidden from the feed at once) are deleted after the grace.
    inbox_min_snooze_seconds: int = Field(default=300, ge=1)
    inbox_event_retention_days: int = Field(default=7, ge=1)
    inbox_archived_retention_days: int = Field(default=30, ge=1)
    inbox_expired_grace_hours: int = Field(default=24, ge=0)

    @field_validator("provider_rate_limits")
    @classmethod
    def _rates_readable(cls, value: str) -> str:
        parse_send_rates(value)  # raises, naming the entry it cannot read
        return value

    @field_validator("ses_sns_cert_host_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("status_webhook_schedule_seconds")
    @classmethod
    def _schedule_readable(cls, value: str) -> str:
        parse_schedule(value)  # raises, saying what it cannot read
        return value

    @field_validator("worker_queues")
    @classmethod
    def _lanes_known(cls, value: str) -> str:
        parse_lanes(value)  # raises, naming what it cannot read
        return value

    @model_validator(mode="after")
    def _lanes_on_their_own_queues(self) -> "Settings":
        queues = [self.task_queue, self.urgent_queue(), self.broadcast_queue()]
        if len(set(queues)) < len(queues):
            raise ValueError(
                "TASK_QUEUE, URGENT_TASK_QUEUE and BROADCAST_TASK_QUEUE must be three different "
                f"task queues (got {', '.join(queues)}): each lane has a worker of its own"
            )
        return self

    def worker_lanes(self) -> tuple[str, ...]:
        """The lanes WORKER_QUEUES names, in LANES' order."""
        return parse_lanes(self.worker_queues)

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _metrics_token_set_or_long(cls, value: object) -> object:
        """Empty is unset (Compose passes `${METRICS_TOKEN:-}`); a short token could be guessed
        by trying, so the process refuses to start with one."""
        if value in ("", None):
            return None
        secret = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if len(secret) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(f"METRICS_TOKEN must be {MIN_METRICS_TOKEN_LENGTH}+ characters")
        return value

    @model_validator(mode="after")
    def _complete_provider_credentials(self) -> "Settings":
        if self.resolved_email_provider == "sendgrid" and not self.sendgrid_api_key:
            raise ValueError("EMAIL_PROVIDER=sendgrid needs SENDGRID_API_KEY")
        if self.resolved_sms_provider == "twilio" and not (
            self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number
        ):
            raise ValueError(
                "SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                "TWILIO_FROM_NUMBER"
            )
        return self

    def broadcast_queue(self) -> str:
        """The task queue broadcasts run on (BroadcastWorkflow and its activities)."""
        return self.broadcast_task_queue or f"{self.task_queue}-broadcast"

    def urgent_queue(self) -> str:
        """The task queue of urgent and high-priority notifications."""
        return self.urgent_task_queue or f"{self.task_queue}-urgent"

    def lane_queues(self) -> dict[str, str]:
        """Each lane (LANES) and the task queue it is served on, in LANES' order."""
        return {
            "default": self.task_queue,
            "urgent": self.urgent_queue(),
            "broadcast": self.broadcast_queue(),
        }

    def status_webhook_schedule(self) -> tuple[float, ...]:
        """STATUS_WEBHOOK_SCHEDULE_SECONDS read: the waits before each attempt."""
        return parse_schedule(self.status_webhook_schedule_seconds)

    def signing_key(self) -> bytes:
        if self.secret_key is None or len(self.secret_key.get_secret_value()) < 16:
            raise ValueError(
                "SECRET_KEY must be set (16+ characters): it signs unsubscribe links,"
                " operators' links and sessions, and seals inbox signing secrets"
            )
        return self.secret_key.get_secret_value().encode()

    @property
    def from_domains(self) -> list[str]:
        """The domains a tenant's own From address may be on (ALLOWED_FROM_DOMAINS)."""
        listed = [d.strip() for d in self.allowed_from_domains.split(",") if d.strip()]
        return listed or [self.email_from.rpartition("@")[2].strip(" >")]

    @property
    def resolved_email_provider(self) -> str:
        if self.email_provider:
            return self.email_provider
        return "sendgrid" if self.sendgrid_api_key else "smtp"

    def provider_order(self, channel: str) -> list[str]:
        listed = {"email": self.email_providers, "sms": self.sms_providers}.get(channel, "")
        names = [name.strip() for name in listed.split(",") if name.strip()]
        if names:
            return names
        return {"email": [self.resolved_email_provider], "sms": [self.resolved_sms_provider]}.get(
            channel, []
        )

    @property
    def resolved_sms_provider(self) -> str:
        if self.sms_provider:
            return self.sms_provider
        return "twilio" if self.twilio_account_sid else "outbox"


@lru_cache
def get_settings() -> Settings:
    return Settings()
