"""What HERALD_ENV=production refuses to start with: development secrets, and the encryption
a deployment on real networks needs. Every problem is listed at once, so one restart fixes
them all."""

from urllib.parse import urlparse

from config.settings import Settings

# Secrets that ship in this repository (tests, examples): never a production secret.
DEVELOPMENT_MARKERS = ("not-for-production", "changeme", "change-me", "example", "secret-key")
MIN_SECRET_KEY_LENGTH = 32
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


class ProductionConfigError(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "HERALD_ENV=production refuses to start:\n" + "\n".join(f"- {p}" for p in problems)
        )
        self.problems = problems


def production_problems(settings: Settings, temporal_encrypted: bool) -> list[str]:
    """Why `settings` are not fit for production (empty when they are, or in development).
    `temporal_encrypted`: the Temporal connection uses TLS (a certificate or an API key)."""
    if settings.herald_env != "production":
        return []
    problems = []
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    if len(secret) < MIN_SECRET_KEY_LENGTH or _is_development_value(secret):
        problems.append(
            f"SECRET_KEY must be {MIN_SECRET_KEY_LENGTH}+ random characters, not a development "
            "value (e.g. `openssl rand -hex 32`)"
        )
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if token and _is_development_value(token):
        problems.append("METRICS_TOKEN is a development value")
    if not settings.payload_encryption_keys:
        problems.append(
            "PAYLOAD_ENCRYPTION_KEYS is not set: addresses and messages would be stored in "
            "Temporal's history in the clear"
        )
    if urlparse(settings.public_base_url).scheme != "https":
        problems.append("PUBLIC_BASE_URL must be https: unsubscribe links carry signed tokens")
    if not temporal_encrypted and not settings.allow_plaintext_temporal:
        problems.append(
            "the Temporal connection has no TLS: set TEMPORAL_TLS=true (with "
            "TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH for mTLS, or TEMPORAL_API_KEY), or "
            "ALLOW_PLAINTEXT_TEMPORAL=true for a cluster reached only over a private network"
        )
    smtp_used = "smtp" in settings.provider_order("email")
    if (
        smtp_used
        and settings.smtp_host not in LOOPBACK_HOSTS
        and not (settings.smtp_use_tls or settings.smtp_start_tls)
    ):
        problems.append(
            f"SMTP to {settings.smtp_host} without TLS: set SMTP_START_TLS=true (port 587) or "
            "SMTP_USE_TLS=true (port 465)"
        )
    if settings.sms_provider == "outbox" or "outbox" in settings.sms_providers.split(","):
        problems.append("SMS_PROVIDER=outbox writes SMS to a file: development only")
    return problems


def _is_development_value(value: str) -> bool:
    lowered = value.lower()
    return any(marker in lowered for marker in DEVELOPMENT_MARKERS) or len(set(value)) < 8
