"""Signing operators in and out: the dashboard's sessions.

A session is a row (db/operator_sessions.py) found by the digest of a random token; the browser
holds the token, signed, in a cookie (web/auth.py). Sign-in attempts are recorded in the
database and limited per email and per client address (domain/operators.py), so the limit holds
across every API process."""

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import operator_sessions as store
from db import operators
from db.session import autocommit
from domain.operators import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    MAX_PASSWORD_LENGTH,
    Operator,
    normalize_email,
    retry_after,
    token_digest,
)
from services import audit
from services.errors import TooManyAttempts, invalid_field
from services.passwords import (
    hash_password,
    needs_rehash,
    password_matches,
    spend_a_verification,
)


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    ip_address: str
    user_agent: str | None = None
    tenant_id: uuid.UUID | None = None  # the tenant chosen, when the email has several


@dataclass(frozen=True)
class SignedIn:
    operator: Operator
    token: str  # the new session's token: the cookie carries it (signed)


@dataclass(frozen=True)
class ChooseTenant:
    """The password fits accounts in several tenants: the person says which one."""

    tenants: list[tuple[uuid.UUID, str]]


async def sign_in(
    sessions: async_sessionmaker[AsyncSession], attempt: SignIn
) -> SignedIn | ChooseTenant:
    """A new session for the account the email and password fit. Refused (422 on `password`)
    when none does, and (TooManyAttempts) after too many failures for the email or from the
    address within domain.operators.LOGIN_WINDOW."""
    email = normalize_email(attempt.email)
    if not email:
        raise invalid_field("email", "is required")
    if not attempt.password:
        raise invalid_field("password", "is required")
    if len(attempt.password) > MAX_PASSWORD_LENGTH:
        raise invalid_field("password", "the email or password is not right")
    async with sessions.begin() as session:
        await store.lock_sign_in(session, email)
        await _refuse_when_limited(session, email, attempt.ip_address)
        accounts = [
            account
            for account in await operators.accounts_with_email(session, email)
            if attempt.tenant_id in (None, account.operator.tenant_id)
        ]
        fitting = [a for a in accounts if await password_matches(a.password_hash, attempt.password)]
        if not accounts:
            await spend_a_verification(attempt.password)
        await store.record_attempt(session, email, attempt.ip_address, bool(fitting))
        if len(fitting) > 1:
            return ChooseTenant([(a.operator.tenant_id, a.tenant_name) for a in fitting])
        if fitting:
            account = fitting[0]
            if needs_rehash(account.password_hash):
                hashed = await hash_password(attempt.password)
                await operators.set_password_hash(session, account.operator.id, hashed)
            token = await _new_session(session, account.operator, attempt)
            return SignedIn(account.operator, token)
    # Outside the transaction: the failure it recorded stays recorded.
    raise invalid_field("password", "the email or password is not right")


async def _refuse_when_limited(session: AsyncSession, email: str, ip_address: str) -> None:
    failures = await store.recent_failures(session, email, ip_address)
    waits = [
        wait
        for wait in (
            retry_after(failures.by_email, MAX_FAILURES_PER_ACCOUNT, failures.now),
            retry_after(failures.by_address, MAX_FAILURES_PER_ADDRESS, failures.now),
        )
        if wait is not None
    ]
    if waits:
        seconds = int(max(waits).total_seconds() + 0.999)
        raise TooManyAttempts(
            f"password: too many failed attempts; try again in {_minutes(seconds)}",
            seconds,
            "password",
        )


def _minutes(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def _new_session(session: AsyncSession, operator: Operator, attempt: SignIn) -> str:
    token = secrets.token_urlsafe(32)
    await store.insert_session(
        session, operator.id, token_digest(token), attempt.user_agent, attempt.ip_address
    )
    return token


async def session_operator(
    sessions: async_sessionmaker[AsyncSession], token: str
) -> Operator | None:
    """The operator signed in with this session token, while the session lasts."""
    async with autocommit(sessions) as session:
        return await store.live_session_operator(session, token_digest(token))


async def sign_out(sessions: async_sessionmaker[AsyncSession], token: str) -> None:
    async with autocommit(sessions) as session:
        await store.revoke_session(session, token_digest(token))


async def sign_out_everywhere(
    sessions: async_sessionmaker[AsyncSession], operator: Operator
) -> int:
    """Ends every session of the operator, this one included; how many were ended."""
    async with sessions.begin() as session:
        ended = await store.revoke_sessions(session, operator.id)
        await audit.record(session, operator, "operator.sign_out_everywhere", operator.email)
    return ended
