"""GET/PATCH /v1/inbox/preferences: the recipient's own preferences, through their inbox token.

The document and its validation are those of `/v1/recipients/{external_id}/preferences`; the
token decides whose they are. The use case: services/inbox_preferences.py."""

from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import InboxRecipientDep, SessionDep, SettingsDep, TemporalDep
from api.schemas.merge_patch import merge_patch_body
from api.schemas.preferences import RecipientPreferences
from services import inbox_preferences

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])

OwnSettingsPatch = Annotated[
    dict[str, Any],
    merge_patch_body(
        "the recipient's own settings",
        "it follows the tenant's default again",
        {
            "quiet hours": {"dnd": {"enabled": True, "start": "21:00", "end": "07:30"}},
            "no marketing email": {"rules": {"marketing": {"email": False}}},
            "back to the default": {"dnd": None},
        },
    ),
]


@router.get("/preferences", response_model=RecipientPreferences)
async def get_inbox_preferences(
    recipient: InboxRecipientDep, session: SessionDep
) -> RecipientPreferences:
    """The recipient's effective preferences: the tenant's defaults overlaid with their own
    changes, as GET /v1/recipients/{external_id}/preferences answers."""
    return await inbox_preferences.get_own_preferences(session, recipient)


@router.patch(
    "/preferences",
    response_model=RecipientPreferences,
    responses={
        422: {
            "description": "An invalid setting, or one only the tenant sets "
            "(`max_reminders_per_day`, `rate_limit`), named in `errors`."
        }
    },
)
async def patch_inbox_preferences(
    recipient: InboxRecipientDep,
    session: SessionDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    body: OwnSettingsPatch,
) -> RecipientPreferences:
    """Change some of the recipient's own settings (RFC 7396 merge patch), validated as the
    tenant's PATCH /v1/recipients/{external_id}/preferences is: invalid, it is a 422 naming the
    field, and nothing is written. `max_reminders_per_day` and `rate_limit` are the tenant's:
    readable here, not changeable (the value read may be sent back)."""
    return await inbox_preferences.patch_own_preferences(
        session, temporal, settings, recipient, body
    )
