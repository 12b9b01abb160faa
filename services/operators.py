"""A tenant's team: its operators and their roles. Only owners manage the team (the dashboard's
team page, web/routes/team.py); `herald user create` makes an account from the command line.
A team always keeps an owner. Invitations and password resets: services/operator_links.py."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import audit as audit_log
from db import operator_links as links
from db import operators as store
from domain.operators import Operator, Role
from services import audit
from services.errors import Conflict, Forbidden, NotFound
from services.passwords import hash_password


@dataclass(frozen=True)
class NewOperator:
    tenant_id: uuid.UUID
    email: str  # normalized (api.schemas.operators checks it)
    name: str
    role: Role
    password: str  # checked against domain.operators.password_problem


async def create_operator(
    sessions: async_sessionmaker[AsyncSession], new: NewOperator, actor: str
) -> Operator:
    """An account made outside the dashboard (`herald user create`, `make run`'s development
    owner); `actor` says by what, in the audit log."""
    hashed = await hash_password(new.password)
    async with sessions.begin() as session:
        operator = await store.insert_operator(
            session, new.tenant_id, new.email, new.name, new.role, hashed
        )
        if operator is None:
            raise _already_a_member(new.email)
        await audit_log.insert_entry(
            session,
            new.tenant_id,
            None,
            actor,
            "operator.create",
            new.email,
            {"role": new.role.value, "name": new.name},
        )
    return operator


def _already_a_member(email: str) -> Conflict:
    return Conflict(f"email: {email} is already a member of this team", "email")


async def has_operators(sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID) -> bool:
    async with sessions() as session:
        return await store.tenant_has_operators(session, tenant_id)


@dataclass(frozen=True)
class Member:
    id: uuid.UUID
    email: str
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class PendingInvitation:
    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Team:
    members: list[Member]
    invitations: list[PendingInvitation]


async def team(sessions: async_sessionmaker[AsyncSession], operator: Operator) -> Team:
    """The operator's team and its open invitations (every operator may see who is on it)."""
    async with sessions() as session:
        members = await store.tenant_operators(session, operator.tenant_id)
        invitations = await links.pending_invitations(session, operator.tenant_id)
    return Team(
        [Member(m.id, m.email, m.name, Role(m.role), m.created_at) for m in members],
        [
            PendingInvitation(i.id, i.email, Role(i.role), i.created_at, i.expires_at)
            for i in invitations
        ],
    )


def refuse_unless_owner(operator: Operator) -> None:
    if operator.role != Role.OWNER:
        raise Forbidden("only an owner manages the team")


async def change_role(
    sessions: async_sessionmaker[AsyncSession],
    owner: Operator,
    operator_id: uuid.UUID,
    role: Role,
) -> Operator:
    """Gives a member another role; the team's last owner keeps theirs."""
    refuse_unless_owner(owner)
    async with sessions.begin() as session:
        member = await _member(session, owner, operator_id)
        if member.role == Role.OWNER and role != Role.OWNER:
            await _keep_an_owner(session, owner, "role", "a team keeps at least one owner")
        await store.set_role(session, owner.tenant_id, operator_id, role)
        await audit.record(
            session,
            owner,
            "operator.change_role",
            member.email,
            {"from": member.role.value, "to": role.value},
        )
    return Operator(member.id, member.tenant_id, member.email, member.name, role)


async def remove(
    sessions: async_sessionmaker[AsyncSession], owner: Operator, operator_id: uuid.UUID
) -> Operator:
    """Removes a member from the team; their sessions end with their account."""
    refuse_unless_owner(owner)
    async with sessions.begin() as session:
        member = await _member(session, owner, operator_id)
        if member.role == Role.OWNER:
            await _keep_an_owner(session, owner, "operator", "the team's last owner stays")
        await store.delete_operator(session, owner.tenant_id, operator_id)
        await audit.record(
            session, owner, "operator.remove", member.email, {"role": member.role.value}
        )
    return member


async def _member(session: AsyncSession, owner: Operator, operator_id: uuid.UUID) -> Operator:
    member = await store.get_operator(session, owner.tenant_id, operator_id)
    if member is None:  # another tenant's operator is as unknown as one that never existed
        raise NotFound(f"operator {operator_id} not found", "operator")
    return member


async def _keep_an_owner(session: AsyncSession, owner: Operator, field: str, why: str) -> None:
    owners = await store.lock_owners(session, owner.tenant_id)
    if len(owners) <= 1:
        raise Conflict(f"{field}: {why}: make another member owner first", field)
