"""PUT/GET/PATCH /v1/recipients/{external_id} and its preferences; its inbox token."""

from collections.abc import Mapping
from typing import Any

from herald_client import calls
from herald_client.calls import MERGE_PATCH, Call
from herald_client.models import (
    PreferencesUpdate,
    RecipientFields,
    RecipientPreferences,
    RecipientPublic,
    RecipientToken,
    RecipientTokenRequest,
)

RECIPIENT = "/v1/recipients/{external_id}"
PREFERENCES = "/v1/recipients/{external_id}/preferences"


def put_recipient(external_id: str, recipient: RecipientFields) -> Call[RecipientPublic]:
    """Create the recipient, or replace its contact details whole."""
    return calls.send("PUT", RECIPIENT, RecipientPublic, recipient, external_id=external_id)


def get_recipient(external_id: str) -> Call[RecipientPublic]:
    return calls.get(RECIPIENT, RecipientPublic, external_id=external_id)


def patch_recipient(external_id: str, patch: Mapping[str, Any]) -> Call[RecipientPublic]:
    """Change some contact details (a JSON merge patch: None removes a field)."""
    return calls.send(
        "PATCH",
        RECIPIENT,
        RecipientPublic,
        patch,
        content_type=MERGE_PATCH,
        external_id=external_id,
    )


def get_preferences(external_id: str) -> Call[RecipientPreferences]:
    """The effective preferences (the tenant's defaults overlaid with the recipient's own)."""
    return calls.get(PREFERENCES, RecipientPreferences, external_id=external_id)


def put_preferences(external_id: str, preferences: PreferencesUpdate) -> Call[RecipientPreferences]:
    """Replace the recipient's own settings; what is left out follows the tenant's default."""
    return calls.send(
        "PUT", PREFERENCES, RecipientPreferences, preferences, external_id=external_id
    )


def patch_preferences(external_id: str, patch: Mapping[str, Any]) -> Call[RecipientPreferences]:
    """Change some of the recipient's own settings (a JSON merge patch: None removes one)."""
    return calls.send(
        "PATCH",
        PREFERENCES,
        RecipientPreferences,
        patch,
        content_type=MERGE_PATCH,
        external_id=external_id,
    )


def create_recipient_token(
    external_id: str, *, ttl_seconds: int | None = None
) -> Call[RecipientToken]:
    """A short-lived token for the recipient's inbox (the /v1/inbox routes, the widget)."""
    return calls.send(
        "POST",
        "/v1/recipients/{external_id}/token",
        RecipientToken,
        calls.model(RecipientTokenRequest, ttl_seconds=ttl_seconds),
        external_id=external_id,
    )
