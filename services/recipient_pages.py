"""The dashboard's Recipients page: finding a recipient, and one recipient as an operator sees
them (contact details, effective preferences, which of those are the recipient's own, their
latest notifications). Changes go through services/recipients.py and services/preferences.py,
as the API's do."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.notifications import RecipientPublic
from api.schemas.preferences import RecipientPreferences
from config.settings import Settings
from db.recipient_pages import NotificationLine, first_recipients, recent_notifications
from db.recipient_search import RecipientMatch, search_recipients
from domain.merge_patch import patch_between
from domain.operators import Operator
from domain.preferences import as_document
from domain.tenants import TenantIdentity
from services.preferences import get_preferences, patch_preferences
from services.recipients import find_recipient

SHOWN = 20  # search results, and notifications on a recipient's page
LONGEST_QUERY = 255  # an external id's length


@dataclass(frozen=True)
class RecipientMatches:
    matches: list[RecipientMatch]
    more: bool  # more matched than are shown


async def find_recipients(
    session: AsyncSession, tenant: TenantIdentity, query: str
) -> RecipientMatches:
    """Recipients by the start of their external id, email or phone, or of a word of their
    name (db/recipient_search.py, as History and Send find them); with no query, the first
    ones by external id."""
    typed = query.strip()[:LONGEST_QUERY]
    if typed:
        found = await search_recipients(session, tenant.id, typed, SHOWN + 1)
    else:
        found = await first_recipients(session, tenant.id, SHOWN + 1)
    return RecipientMatches(found[:SHOWN], more=len(found) > SHOWN)


@dataclass(frozen=True)
class RecipientProfile:
    recipient: RecipientPublic
    preferences: RecipientPreferences  # effective: the tenant's defaults and their own
    own_settings: list[str]  # the preferences the recipient set themselves, by name
    notifications: list[NotificationLine]  # newest first, each with its deliveries


async def recipient_profile(
    session: AsyncSession, tenant: TenantIdentity, external_id: str
) -> RecipientProfile:
    recipient = await find_recipient(session, tenant, external_id)
    return RecipientProfile(
        recipient=RecipientPublic.model_validate(recipient, from_attributes=True),
        preferences=await get_preferences(session, tenant, external_id),
        own_settings=sorted(as_document(recipient.preference_overrides)),
        notifications=await recent_notifications(session, tenant.id, recipient.id, SHOWN),
    )


def preferences_document(preferences: RecipientPreferences) -> dict[str, Any]:
    """The effective preferences as the document the form edits (what they unsubscribed from
    is not a setting)."""
    return preferences.model_dump(mode="json", exclude={"unsubscribed"})


async def save_preferences_form(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant: TenantIdentity,
    external_id: str,
    submitted: dict[str, Any],
    by: Operator,
) -> RecipientPreferences:
    """The whole preferences document as the operator left it in the form. Only what differs
    from the effective preferences is saved, as the API's merge patch would save it: settings
    left untouched keep following the tenant's defaults."""
    current = await get_preferences(session, tenant, external_id)
    await session.close()  # the read's transaction; the change takes its own
    changes = patch_between(preferences_document(current), submitted)
    return await patch_preferences(session, temporal, settings, tenant, external_id, changes, by=by)
