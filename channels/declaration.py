"""What a provider module declares about itself, so that nothing else is wired by hand.

Each provider module (channels/<name>.py) ends with a `DECLARATION`: its name and channel, the
settings it reads (and which are secret), whether it can send batches, its default send rate,
how its errors map onto Herald's three kinds of failure, and how to build it from the values
of its settings. channels/registry.py lists the declarations; config/providers.py builds the
configured providers from them; health and the dashboard describe providers from them. A new
provider is one module and one line in the registry's list.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """How a provider's error is treated (channels/base.py raises the matching SendError)."""

    PERMANENT = "permanent"  # the recipient's fault: not retried, no failover
    TRANSIENT = "transient"  # retried with backoff, then failover
    PROVIDER_REFUSED = "provider_refused"  # Herald's account or credentials: failover at once
    GONE = "gone"  # push: the device is no more; it is deactivated and never tried again


@dataclass(frozen=True)
class Setting:
    """One setting a provider reads: a field of config.settings.Settings (its environment
    variable is the upper-case name). Secret ones are never logged or shown."""

    field: str
    secret: bool = False
    required: bool = True

    @property
    def env(self) -> str:
        return self.field.upper()


@dataclass(frozen=True)
class ProviderConfig:
    """What a provider is built from: its settings' values (secrets in the clear), by field
    name, and what every provider may use."""

    values: Mapping[str, Any]
    timeout: float = 10.0  # seconds per call to the provider (PROVIDER_TIMEOUT_SECONDS)
    public_base_url: str = "http://localhost:8000"  # where providers call back (webhooks)
    send_concurrency: int = 20  # sends a broadcast makes at once per provider
    allow_private_addresses: bool = False  # webhook-style channels: SSRF guard off (tests)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        value = self.values.get(name)
        return default if value is None else value


@dataclass(frozen=True)
class ProviderDeclaration:
    name: str  # as listed in EMAIL_PROVIDERS, SMS_PROVIDERS, ... and stored on deliveries
    channel: str  # a domain.types.Channel value
    build: Callable[[ProviderConfig], Any]  # the provider, from its settings' values
    settings: tuple[Setting, ...] = ()
    # Where sends go, shown by health: a setting's name ("sendgrid_base_url"), or a format of
    # settings ("{smtp_host}:{smtp_port}").
    target: str | None = None
    batching: bool = False  # it has send_<channel>_batch (SendGrid's personalizations)
    rate_limit: float | None = None  # sends a second allowed by default; PROVIDER_RATE_LIMITS wins
    # The provider's error codes or HTTP statuses (as strings) and what each means; codes not
    # listed follow HTTP: 408, 429 and 5xx transient, 401/403 provider-refused, other 4xx
    # permanent (channels/http_status.py).
    errors: Mapping[str, ErrorKind] = field(default_factory=dict)
    summary: str = ""  # one line for people: what it is and how it sends

    def missing(self, values: Mapping[str, Any]) -> list[str]:
        """The environment variables of required settings that have no value."""
        return [s.env for s in self.settings if s.required and values.get(s.field) in (None, "")]

    def target_of(self, values: Mapping[str, Any]) -> str | None:
        if not self.target:
            return None
        if "{" in self.target:
            return self.target.format_map({k: v for k, v in values.items()})
        return str(values.get(self.target))

    def describe(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """What health and the dashboard show: never a secret's value, only whether it is set."""
        return {
            "name": self.name,
            "channel": self.channel,
            "summary": self.summary,
            "batching": self.batching,
            "rate_limit": self.rate_limit,
            "target": self.target_of(values),
            "settings": {
                s.env: ("set" if values.get(s.field) not in (None, "") else "missing")
                if s.secret
                else values.get(s.field)
                for s in self.settings
            },
            "errors": {code: str(kind) for code, kind in self.errors.items()},
        }
