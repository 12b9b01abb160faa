"""Shared fixtures for the delivery-policy tests."""

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import pytest

from domain.policy import Decision, Notification, Recipient, SendCounts, TenantSettings, decide
from domain.policy.inputs import DEFAULT_TENANT_SETTINGS, NOTHING_SENT
from domain.preferences import Preferences
from domain.types import Channel, Priority

EVERY_ADDRESS = frozenset(Channel)

DecideAt = Callable[..., Decision]


@pytest.fixture
def decide_at() -> DecideAt:
    """`decide` with everything but the instant defaulted: a `booking.updated` notification
    over the preferred method, to a recipient in UTC with every address."""

    def run(
        now: datetime,
        event_key: str = "booking.updated",
        *,
        prefs: dict[str, Any] | None = None,
        timezone: str = "UTC",
        locale: str | None = None,
        channels: Sequence[str] | None = None,
        priority: Priority = Priority.NORMAL,
        addresses: Collection[Channel] = EVERY_ADDRESS,
        counts: SendCounts = NOTHING_SENT,
        tenant: TenantSettings = DEFAULT_TENANT_SETTINGS,
    ) -> Decision:
        recipient = Recipient(
            preferences=Preferences.model_validate(prefs or {}),
            addresses=addresses,
            timezone=timezone,
            locale=locale,
        )
        notification = Notification(event_key, priority, channels)
        return decide(notification, recipient, now, counts, tenant)

    return run
