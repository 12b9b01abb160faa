"""Build the configured providers from Settings and the providers' declarations.

Here rather than in channels/ so that the provider adapters take plain values and never
read configuration themselves (an import contract in pyproject.toml keeps it so).
- email and SMS: the providers of EMAIL_PROVIDERS / SMS_PROVIDERS, in failover order;
- push and chat: one provider each ("push", "chat") over the platforms of PUSH_PROVIDERS /
  CHAT_PROVIDERS (unset: every declared one whose required settings are present);
- the webhook channel: its one provider, "webhook".
"""

from typing import Any

from pydantic import SecretStr

from channels.chat_router import ChatRouter
from channels.declaration import ProviderConfig, ProviderDeclaration
from channels.push import PushFanout
from channels.registry import ROUTED_CHANNELS, Providers, declarations, provider_names
from config.settings import Settings
from domain.types import Channel

FAILOVER_CHANNELS = (Channel.EMAIL, Channel.SMS)


def build_providers(settings: Settings, extra: dict[str, Any] | None = None) -> Providers:
    """`extra`: values that are not settings (bootstrap adds the VAPID key pair it keeps in
    the database), offered to every provider's build beside its settings."""
    by_channel: dict[str, dict[str, Any]] = {
        channel: {
            name: build_provider(settings, name, channel, extra)
            for name in settings.provider_order(channel)
        }
        for channel in FAILOVER_CHANNELS
    }
    push = [build_provider(settings, n, Channel.PUSH, extra) for n in platforms(settings, "push")]
    chat = [build_provider(settings, n, Channel.CHAT, extra) for n in platforms(settings, "chat")]
    by_channel[Channel.PUSH] = {"push": PushFanout(push)} if push else {}
    by_channel[Channel.CHAT] = {"chat": ChatRouter(chat)} if chat else {}
    if "webhook" in declarations():
        by_channel[Channel.WEBHOOK] = {
            "webhook": build_provider(settings, "webhook", Channel.WEBHOOK, extra)
        }
    return Providers(by_channel)


def build_provider(
    settings: Settings, name: str, channel: str, extra: dict[str, Any] | None = None
) -> Any:
    declaration = declarations().get(name)
    if declaration is None or declaration.channel != channel:
        known = ", ".join(provider_names(channel))
        raise ValueError(f"unknown {channel} provider {name!r}; known: {known}")
    values = setting_values(settings, declaration) | (extra or {})
    missing = declaration.missing(values)
    if missing:
        raise ValueError(f"the {name} {channel} provider needs {', '.join(missing)}")
    return declaration.build(provider_config(settings, values))


def provider_config(settings: Settings, values: dict[str, Any]) -> ProviderConfig:
    return ProviderConfig(
        values,
        timeout=settings.provider_timeout_seconds,
        public_base_url=settings.public_base_url,
        send_concurrency=settings.broadcast_send_concurrency,
        allow_private_addresses=settings.webhook_allow_private_addresses,
    )


def setting_values(settings: Settings, declaration: ProviderDeclaration) -> dict[str, Any]:
    """The declared settings' values, secrets in the clear (for the provider only)."""
    values: dict[str, Any] = {}
    for setting in declaration.settings:
        value = getattr(settings, setting.field)
        values[setting.field] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return values


def platforms(settings: Settings, channel: str) -> list[str]:
    """The push or chat platforms to send through: PUSH_PROVIDERS / CHAT_PROVIDERS, or, unset,
    every declared one whose required settings are all present."""
    listed = {"push": settings.push_providers, "chat": settings.chat_providers}[channel]
    names = [name.strip() for name in listed.split(",") if name.strip()]
    if names:
        return names
    return [
        name
        for name in provider_names(channel)
        if not declarations()[name].missing(setting_values(settings, declarations()[name]))
    ]


def describe_providers(settings: Settings) -> dict[str, dict[str, object]]:
    """What health and the dashboard report, per channel: its providers in order (failover
    order for email and SMS), each described by its declaration; never a secret's value."""
    described: dict[str, dict[str, object]] = {}
    order = {channel: settings.provider_order(channel) for channel in FAILOVER_CHANNELS}
    order |= {Channel(c): platforms(settings, c) for c in ("push", "chat")}
    if "webhook" in declarations():
        order[Channel.WEBHOOK] = ["webhook"]
    for channel, names in order.items():
        known = [declarations()[n] for n in names if n in declarations()]
        described[str(channel)] = {
            "provider": names[0] if names else None,
            # Push and chat send through every platform at once: their circuit is the router's.
            "failover": names if channel in FAILOVER_CHANNELS else [ROUTED_CHANNELS[channel]],
            "target": _target(settings, known[0]) if known else None,
            "providers": [d.describe(setting_values(settings, d)) for d in known],
        }
    described["in_app"] = {
        "provider": "database",
        "failover": ["database"],
        "target": "in_app_messages",
        "providers": [],
    }
    return described


def _target(settings: Settings, declaration: ProviderDeclaration) -> str | None:
    return declaration.target_of(setting_values(settings, declaration))
