"""Bodies of /v1/settings/webhook-channel: where the tenant's webhook channel POSTs, and its
signing secret (shown once)."""

from datetime import datetime

from pydantic import BaseModel, Field, StrictBool

from api.schemas.common import InputModel

MAX_URL_LENGTH = 2048


class WebhookChannelPut(InputModel):
    """The whole channel: a field left out takes its default."""

    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="Where notifications on channel `webhook` are POSTed: an https URL whose "
        "host resolves to public addresses only (http, and private addresses, only when "
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on). Checked now and again at every send.",
        examples=["https://hooks.acme.example/herald"],
    )
    enabled: StrictBool = Field(
        default=True,
        description="Off: notifications on channel `webhook` are suppressed (`no_address`).",
    )


class WebhookChannelPublic(BaseModel):
    url: str
    enabled: bool
    secret_hint: str | None = Field(
        description="The signing secret's last characters, to tell which one a receiver has; "
        "null when it does not open with this SECRET_KEY (rotate it)."
    )
    created_at: datetime
    updated_at: datetime


class WebhookChannelSaved(WebhookChannelPublic):
    secret: str | None = Field(
        default=None,
        description="The signing secret (`whsec_...`, Standard Webhooks): only in the answer "
        "that created it (the first PUT, or rotate-secret), never again.",
    )
