"""A recipient's own preferences, from their inbox (GET/PATCH /v1/inbox/preferences).

The same use cases as the tenant's `/v1/recipients/{external_id}/preferences`
(services/preferences.py): the same document, the same validation and refusals, the same
effects on notifications already waiting. Only who is asking differs: the recipient token names
the recipient, so a recipient reaches their own preferences and no one else's.

Two fields are the tenant's alone: `max_reminders_per_day` and `rate_limit` are caps a tenant
puts on what it sends (its costs, its sender reputation), not a recipient's taste. A recipient
reads them but cannot change them; a patch that writes back the value it read is accepted (a
client may send the whole document it got), any other value is refused, naming the field.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.schemas.preferences import RecipientPreferences
from config.settings import Settings
from domain.consent import ConsentSource
from domain.inbox import InboxRecipient
from domain.tenants import TenantIdentity
from services import preferences
from services.errors import invalid_field

TENANT_ONLY = ("max_reminders_per_day", "rate_limit")


async def get_own_preferences(
    session: AsyncSession, recipient: InboxRecipient
) -> RecipientPreferences:
    return await preferences.get_preferences(session, _tenant(recipient), recipient.external_id)


async def patch_own_preferences(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    recipient: InboxRecipient,
    patch: dict[str, Any],
) -> RecipientPreferences:
    """RFC 7396 merge patch of the recipient's own settings, as the tenant's PATCH does it."""
    tenant_set = [name for name in TENANT_ONLY if name in patch]
    if tenant_set:
        current = (await get_own_preferences(session, recipient)).model_dump(mode="json")
        await session.rollback()  # the read's transaction; the patch opens its own
        for name in tenant_set:
            if patch[name] != current[name]:
                raise invalid_field(name, "set by the tenant; a recipient cannot change it")
        patch = {name: value for name, value in patch.items() if name not in TENANT_ONLY}
    return await preferences.patch_preferences(
        session,
        temporal,
        settings,
        _tenant(recipient),
        recipient.external_id,
        patch,
        source=ConsentSource.INBOX,
    )


def _tenant(recipient: InboxRecipient) -> TenantIdentity:
    # The preferences use cases know a tenant by its id; a recipient token carries no name.
    return TenantIdentity(recipient.tenant_id, name="")
