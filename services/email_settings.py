"""A tenant's sender: From name, From address and Reply-To (GET/PUT /v1/settings/email)."""

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.email_settings import EmailSettings
from db.email_identity import load_email_identity, save_email_identity
from domain.email_headers import EmailIdentity, identity_problem, without_bidi_controls
from domain.operators import Operator
from domain.tenants import TenantIdentity
from services import audit
from services.errors import invalid_field


async def email_settings(session: AsyncSession, tenant: TenantIdentity) -> EmailSettings:
    return _as_settings(await load_email_identity(session, tenant.id))


async def save_email_settings(
    session: AsyncSession,
    tenant: TenantIdentity,
    body: EmailSettings,
    allowed_from_domains: Sequence[str],
    by: Operator | None = None,
) -> EmailSettings:
    """Refuses (422 naming the field, nothing written) an address that is not valid, a From
    address on a domain not allowed, or a name with control characters; bidirectional
    controls in the name are removed. An operator's change (`by`) is audited with it."""
    identity = EmailIdentity(
        from_name=without_bidi_controls(body.from_name) if body.from_name is not None else None,
        from_address=body.from_address,
        reply_to=body.reply_to,
    )
    problem = identity_problem(identity, allowed_from_domains)
    if problem is not None:
        raise invalid_field(*problem)
    saved = _as_settings(identity)
    async with session.begin():
        await save_email_identity(session, tenant.id, identity)
        if by is not None:
            await audit.record(session, by, "settings.email", "sender", saved.model_dump())
    return saved


def _as_settings(identity: EmailIdentity) -> EmailSettings:
    return EmailSettings(
        from_name=identity.from_name,
        from_address=identity.from_address,
        reply_to=identity.reply_to,
    )
