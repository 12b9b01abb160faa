"""POST /v1/templates/{template_id}/preview and /test."""

import uuid
from collections.abc import Mapping
from typing import Any

from herald_client import calls
from herald_client.calls import Call
from herald_client.models import (
    NotificationAccepted,
    PreviewRequest,
    PreviewResult,
    TestSendRequest,
)


def preview_template(
    template_id: uuid.UUID | str, context: Mapping[str, Any] | None = None
) -> Call[PreviewResult]:
    """Render the template with its event's sample data overlaid with `context`; nothing is
    sent."""
    return calls.send(
        "POST",
        "/v1/templates/{template_id}/preview",
        PreviewResult,
        calls.model(PreviewRequest, context=dict(context or {})),
        template_id=template_id,
    )


def send_template_test(
    template_id: uuid.UUID | str,
    *,
    email: str | None = None,
    phone: str | None = None,
    context: Mapping[str, Any] | None = None,
) -> Call[NotificationAccepted]:
    """Send the current version to `email` or `phone`, marked "[TEST]"."""
    return calls.send(
        "POST",
        "/v1/templates/{template_id}/test",
        NotificationAccepted,
        calls.model(TestSendRequest, email=email, phone=phone, context=dict(context or {})),
        idempotent=False,  # each call is one more test message
        template_id=template_id,
    )
