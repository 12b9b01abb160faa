"""Invitations and password resets: single-use links Herald emails to an operator.

Both emails are notifications like any other: accepted by services.new_notifications.accept
(event keys domain.operators.INVITATION_EVENT and PASSWORD_RESET_EVENT, Herald's default
templates), sent by the notification workflow, and found in the tenant's history. Their context
holds the link's id, not its secret: the delivery adds the link for the address it sends to
(domain.operators.operator_link), so the history never shows a usable link."""

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from config.settings import Settings
from db import operator_links as links
from db import operator_sessions
from db import operators as store
from db.recipients import RecipientUpsert
from db.tenants import tenant_name
from domain.contacts import address_external_id
from domain.operators import (
    INVITATION_EVENT,
    INVITATION_LIFETIME,
    PASSWORD_RESET_EVENT,
    RESET_LIFETIME,
    LinkPurpose,
    Operator,
    Role,
    link_token,
    token_digest,
)
from domain.types import Channel, Priority
from services import audit
from services.errors import Conflict, Gone, NotFound, Unavailable
from services.new_notifications import NewNotification, accept, idempotency_key_digest
from services.operators import refuse_unless_owner
from services.passwords import hash_password

# Open resets one account may have at once: each forgotten-password request emails one.
MAX_OPEN_RESETS = 3


def _signing_key(settings: Settings) -> bytes:
    try:
        return settings.signing_key()
    except ValueError:
        raise Unavailable("SECRET_KEY must be set to email invitation and reset links") from None


async def invite(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    settings: Settings,
    owner: Operator,
    email: str,
    role: Role,
) -> uuid.UUID:
    """Invites `email` to the owner's team with `role` and emails the link; an earlier open
    invitation of the address is replaced. The invitation's id."""
    refuse_unless_owner(owner)
    key = _signing_key(settings)
    invitation_id = uuid.uuid4()
    token = link_token(key, LinkPurpose.INVITATION, invitation_id, email)
    async with sessions.begin() as session:
        if any(
            a.operator.tenant_id == owner.tenant_id
            for a in await store.accounts_with_email(session, email)
        ):
            raise Conflict(f"email: {email} is already a member of this team", "email")
        await links.revoke_open_invitations(session, owner.tenant_id, email)
        await links.insert_invitation(
            session, invitation_id, owner.tenant_id, email, role, token_digest(token), owner.id
        )
        await audit.record(session, owner, "operator.invite", email, {"role": role.value})
        team = await tenant_name(session, owner.tenant_id)
    context = {
        "invitation_id": str(invitation_id),
        "inviter_name": owner.name,
        "team_name": team,
        "role": role.value,
        "expires_in": f"{INVITATION_LIFETIME.days} days",
    }
    await _email(sessions, temporal, settings, owner.tenant_id, INVITATION_EVENT, email, context)
    return invitation_id


@dataclass(frozen=True)
class InvitationView:
    email: str
    role: Role
    team_name: str


async def invitation(
    sessions: async_sessionmaker[AsyncSession], token: str
) -> InvitationView | None:
    """What an invitation link offers, while it can still be accepted."""
    async with sessions() as session:
        found = await links.open_invitation(session, token_digest(token))
    if found is None:
        return None
    row = found.OperatorInvitation
    return InvitationView(row.email, Role(row.role), found.tenant_name)


async def accept_invitation(
    sessions: async_sessionmaker[AsyncSession], token: str, name: str, password: str
) -> Operator:
    """The invitee's account, with the name and password they chose. The link works once."""
    hashed = await hash_password(password)
    async with sessions.begin() as session:
        taken = await links.take_invitation(session, token_digest(token))
        if taken is None:
            raise _link_gone("invitation", "ask an owner of the team for a new one")
        operator = await store.insert_operator(
            session, taken.tenant_id, taken.email, name, Role(taken.role), hashed
        )
        if operator is None:
            raise Conflict(f"email: {taken.email} is already a member of this team", "email")
        await audit.record(session, operator, "operator.join", operator.email, {"role": taken.role})
    return operator


def _link_gone(what: str, next_step: str) -> Gone:
    return Gone(f"token: this {what} link was used already or has expired; {next_step}", "token")


async def revoke_invitation(
    sessions: async_sessionmaker[AsyncSession], owner: Operator, invitation_id: uuid.UUID
) -> None:
    refuse_unless_owner(owner)
    async with sessions.begin() as session:
        email = await links.revoke_invitation(session, owner.tenant_id, invitation_id)
        if email is None:  # another tenant's is as unknown as one never made
            raise NotFound(
                f"invitation: the team has no open invitation {invitation_id} (it may have "
                "been accepted, revoked or have expired)",
                "invitation",
            )
        await audit.record(session, owner, "operator.revoke_invitation", email)


async def request_password_reset(
    sessions: async_sessionmaker[AsyncSession], temporal: Client, settings: Settings, email: str
) -> None:
    """Emails a reset link to every account with this address (one per tenant). Says nothing
    of whether any exists: the page answers the same either way."""
    key = _signing_key(settings)
    sends: list[tuple[Operator, uuid.UUID, str]] = []
    async with sessions.begin() as session:
        for account in await store.accounts_with_email(session, email):
            operator = account.operator
            if await links.open_resets(session, operator.id) >= MAX_OPEN_RESETS:
                continue  # enough links are on their way; more would only flood the inbox
            reset_id = uuid.uuid4()
            token = link_token(key, LinkPurpose.PASSWORD_RESET, reset_id, operator.email)
            await links.insert_reset(session, reset_id, operator.id, token_digest(token))
            sends.append((operator, reset_id, account.tenant_name))
    for operator, reset_id, team in sends:
        context = {
            "reset_id": str(reset_id),
            "team_name": team,
            "recipient_name": operator.name,
            "expires_in": f"{int(RESET_LIFETIME.total_seconds() // 60)} minutes",
        }
        await _email(
            sessions, temporal, settings, operator.tenant_id, PASSWORD_RESET_EVENT,
            operator.email, context,
        )  # fmt: skip


async def reset_link_works(sessions: async_sessionmaker[AsyncSession], token: str) -> bool:
    async with sessions() as session:
        return await links.open_reset(session, token_digest(token)) is not None


async def reset_password(
    sessions: async_sessionmaker[AsyncSession], token: str, password: str
) -> Operator:
    """Sets the new password and signs the account out everywhere: whoever knew the old one
    is signed out too. The link works once."""
    hashed = await hash_password(password)
    async with sessions.begin() as session:
        operator_id = await links.take_reset(session, token_digest(token))
        operator = await store.operator_by_id(session, operator_id) if operator_id else None
        if operator is None:
            raise _link_gone("password reset", "ask for a new one")
        await store.set_password_hash(session, operator.id, hashed)
        await operator_sessions.revoke_sessions(session, operator.id)
        await audit.record(session, operator, "operator.reset_password", operator.email)
    return operator


async def _email(
    sessions: async_sessionmaker[AsyncSession],
    temporal: Client,
    settings: Settings,
    tenant_id: uuid.UUID,
    event_key: str,
    email: str,
    context: dict[str, str],
) -> None:
    """Sends the email as the tenant's notification: once per link (its id is in the key)."""
    link_id = context.get("invitation_id") or context["reset_id"]
    idempotency_key = f"{event_key}:{link_id}"
    async with sessions() as session:
        await accept(
            session,
            temporal,
            settings,
            NewNotification(
                tenant_id=tenant_id,
                event_key=event_key,
                idempotency_key=idempotency_key,
                request_digest=idempotency_key_digest(idempotency_key),
                contact=RecipientUpsert(
                    tenant_id, address_external_id(email, None), {"email": email}
                ),
                channels=[Channel.EMAIL.value],
                # Urgent: quiet hours and digests do not hold back a link that expires.
                priority=Priority.URGENT,
                context=context,
            ),
        )
