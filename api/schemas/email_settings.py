"""Body of GET/PUT /v1/settings/email: the tenant's sender."""

from pydantic import Field

from api.schemas.common import InputModel
from domain.email_headers import MAX_ADDRESS_LENGTH, MAX_DISPLAY_NAME_LENGTH


class EmailSettings(InputModel):
    """Who the tenant's emails come from. A field left out or null is Herald's default
    (EMAIL_FROM's name or address; no Reply-To). PUT replaces all three."""

    from_name: str | None = Field(
        default=None,
        max_length=MAX_DISPLAY_NAME_LENGTH,
        description="The From display name; bidirectional controls are removed.",
        examples=["Acme Bookings"],
    )
    from_address: str | None = Field(
        default=None,
        max_length=MAX_ADDRESS_LENGTH,
        description="The From address; its domain must be one of ALLOWED_FROM_DOMAINS.",
        examples=["bookings@acme.example"],
    )
    reply_to: str | None = Field(
        default=None,
        max_length=MAX_ADDRESS_LENGTH,
        description="Where replies go: any valid address.",
        examples=["support@acme.example"],
    )
