"""Template previews and test sends (api/schemas/templates.py)."""

from typing import Any

from pydantic import Field

from herald_client.models.base import Input, Output


class PreviewRequest(Input):
    context: dict[str, Any] = Field(default_factory=dict)  # over the event's sample data


class TestSendRequest(Input):
    __test__ = False  # a body, not a test class for pytest to collect

    email: str | None = None
    phone: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class SmsPreview(Output):
    encoding: str  # GSM-7 or UCS-2
    segments: int
    characters: int


class PreviewResult(Output):
    channel: str
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    action_url: str | None = None
    icon: str | None = None
    sms: SmsPreview | None = None
    warnings: list[str]
