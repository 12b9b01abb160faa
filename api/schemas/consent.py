"""A recipient's consent history (GET /v1/recipients/{external_id}/consents)."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.pages import Page
from domain.consent import ConsentAction, ConsentSource


class ConsentEventPublic(BaseModel):
    """One opt-in or opt-out of the recipient."""

    action: ConsentAction
    channel: str | None = Field(description="The channel; null: every channel.")
    scope: str | None = Field(
        description="The category (`booking`) or event key (`booking.reminder`); null: all."
    )
    source: ConsentSource = Field(
        description="Where it came from: `api` (the preferences API), `inbox` (the recipient's "
        "inbox), `dashboard` (an operator), `unsubscribe_link` (an email's one-click link), "
        "`spam_report` (a provider's complaint report), `provider_unsubscribe` (the "
        "provider's own unsubscribe)."
    )
    details: dict[str, Any] = Field(
        description="What else is known: a provider's report gives `provider`, `event` and "
        "`delivery_id`; the dashboard `operator_id`; the others nothing."
    )
    at: datetime


ConsentPage = Page[ConsentEventPublic]
