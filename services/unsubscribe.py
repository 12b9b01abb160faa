"""One-click unsubscribe (RFC 8058): the signed token says who, from what, on which channel.

It follows the address, not only the recipient: every recipient of the tenant with the same
address stops getting the category on that channel (db/opt_outs.py), until one of them opts
back in through the preferences API."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from db.opt_outs import switch_off_category
from domain.consent import ConsentSource, opted_out_of
from domain.unsubscribe import InvalidToken, Unsubscribe, verify
from services.consent import record_consent
from services.errors import Forbidden


def unsubscribe_request(settings: Settings, token: str) -> Unsubscribe:
    """What the token asks for, if Herald signed it."""
    try:
        return verify(settings.signing_key(), token)
    except InvalidToken:
        raise Forbidden("token: this unsubscribe link is not valid", code="invalid_token") from None


async def apply_unsubscribe(session: AsyncSession, settings: Settings, token: str) -> Unsubscribe:
    """Switch the token's category off for its recipient on its channel, and for the
    recipient's address there."""
    request = unsubscribe_request(settings, token)
    tenant_id, recipient_id = uuid.UUID(request.tenant_id), uuid.UUID(request.recipient_id)
    async with session.begin():
        await switch_off_category(
            session, tenant_id, recipient_id, request.category, request.channel
        )
        await record_consent(
            session,
            tenant_id,
            recipient_id,
            [opted_out_of(request.category, request.channel)],
            ConsentSource.UNSUBSCRIBE_LINK,
        )
    return request
