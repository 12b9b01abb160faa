"""Push to every active device of a recipient: each device through the provider of its kind
(Web Push, FCM, APNs), at once.

The outcome says, per device, whether it took the message, is gone (deactivated by the
caller, never retried), or failed. The caller (activities/channel_sends.py) decides what that
makes of the delivery: sent if any device took it; otherwise retried when a failure may pass,
so a retry never reaches a device twice (none took it)."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from channels.base import (
    DeviceGoneError,
    PermanentSendError,
    PushDevice,
    PushMessage,
    PushProvider,
    SendError,
    SendResult,
)

MAX_DEVICES_AT_ONCE = 10


@dataclass
class PushOutcome:
    sent: dict[str, SendResult] = field(default_factory=dict)  # device id -> result
    gone: dict[str, str] = field(default_factory=dict)  # device id -> why
    failed: dict[str, SendError] = field(default_factory=dict)  # device id -> error


class PushFanout:
    """The push channel's one provider, "push": it hands each device to its kind's provider."""

    name = "push"

    def __init__(self, providers: Sequence[PushProvider]):
        self._by_kind: Mapping[str, PushProvider] = {
            kind: provider for provider in providers for kind in provider.kinds
        }

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._by_kind)

    async def send_to_devices(
        self,
        devices: Sequence[PushDevice],
        message: PushMessage,
        wait_for_slot: Callable[[str], Awaitable[None]] | None = None,
    ) -> PushOutcome:
        """`message` (its `device` replaced) to each device, up to MAX_DEVICES_AT_ONCE at once;
        `wait_for_slot(provider name)` before each (the provider's send rate)."""
        outcome = PushOutcome()
        limit = asyncio.Semaphore(MAX_DEVICES_AT_ONCE)

        async def one(device: PushDevice) -> None:
            provider = self._by_kind.get(device.kind)
            if provider is None:
                outcome.failed[device.id] = PermanentSendError(
                    f"no push provider for {device.kind} devices is configured",
                    provider_fault=True,
                )
                return
            async with limit:
                if wait_for_slot is not None:
                    await wait_for_slot(provider.name)
                try:
                    outcome.sent[device.id] = await provider.send_push(
                        replace(message, device=device)
                    )
                except DeviceGoneError as gone:
                    outcome.gone[device.id] = gone.message
                except SendError as err:
                    outcome.failed[device.id] = err

        await asyncio.gather(*(one(device) for device in devices))
        return outcome

    async def close(self) -> None:
        for provider in set(self._by_kind.values()):
            close = getattr(provider, "close", None)
            if close is not None:
                await close()
