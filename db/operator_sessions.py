"""Operators' sessions and sign-in attempts. Of a session's token only its digest is stored
(domain.operators.token_digest); times are the database's clock, the one every API process
shares, so a session's expiry and the sign-in limits hold in every process alike."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.operator_models import LoginAttempt, OperatorRow, OperatorSession
from db.operators import OPERATOR_COLUMNS, operator_of
from domain.operators import LOGIN_WINDOW, SESSION_IDLE, SESSION_LIFETIME, TOUCH_INTERVAL, Operator


async def insert_session(
    session: AsyncSession,
    operator_id: uuid.UUID,
    digest: bytes,
    user_agent: str | None,
    ip_address: str | None,
) -> None:
    await session.execute(
        insert(OperatorSession).values(
            id=uuid.uuid4(),
            token_digest=digest,
            operator_id=operator_id,
            user_agent=(user_agent or "")[:300] or None,
            ip_address=ip_address,
        )
    )


async def live_session_operator(session: AsyncSession, digest: bytes) -> Operator | None:
    """The operator of a session that is neither revoked, idle past SESSION_IDLE nor older
    than SESSION_LIFETIME; its last use is stamped (at most once per TOUCH_INTERVAL, so a page
    with many requests writes once)."""
    live = (
        (OperatorSession.token_digest == digest)
        & OperatorSession.revoked_at.is_(None)
        & (OperatorSession.last_seen_at > func.now() - SESSION_IDLE)
        & (OperatorSession.created_at > func.now() - SESSION_LIFETIME)
    )
    row = (
        await session.execute(
            select(
                *OPERATOR_COLUMNS,
                OperatorSession.id.label("session_id"),
                OperatorSession.last_seen_at,
            )
            .join(OperatorRow, OperatorRow.id == OperatorSession.operator_id)
            .where(live)
        )
    ).one_or_none()
    if row is None:
        return None
    await session.execute(
        update(OperatorSession)
        .where(
            OperatorSession.id == row.session_id,
            OperatorSession.last_seen_at < func.now() - TOUCH_INTERVAL,
        )
        .values(last_seen_at=func.now())
    )
    return operator_of(row)


async def revoke_session(session: AsyncSession, digest: bytes) -> None:
    await session.execute(
        update(OperatorSession)
        .where(OperatorSession.token_digest == digest, OperatorSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_sessions(session: AsyncSession, operator_id: uuid.UUID) -> int:
    """Ends every live session of the operator; how many there were."""
    result = await session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator_id, OperatorSession.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(OperatorSession.id)
    )
    return len(result.all())


async def lock_sign_in(session: AsyncSession, email: str) -> None:
    """Serializes sign-ins to one email across every API process (until the transaction ends),
    so concurrent guesses cannot all pass the limit before any failure is recorded."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 14))"),
        {"key": f"operator-sign-in:{email}"},
    )


@dataclass(frozen=True)
class RecentFailures:
    """Failed sign-ins within LOGIN_WINDOW, oldest first, and the database's time."""

    by_email: list[datetime]
    by_address: list[datetime]
    now: datetime


async def recent_failures(session: AsyncSession, email: str, ip_address: str) -> RecentFailures:
    """An email's failures count since its last success (signing in clears them); an address's
    all count, whoever they were for."""
    since = func.now() - LOGIN_WINDOW
    last_success = (
        select(func.max(LoginAttempt.at))
        .where(LoginAttempt.email == email, LoginAttempt.succeeded)
        .scalar_subquery()
    )
    by_email = await session.scalars(
        select(LoginAttempt.at)
        .where(
            LoginAttempt.email == email,
            ~LoginAttempt.succeeded,
            LoginAttempt.at > since,
            LoginAttempt.at > func.coalesce(last_success, since),
        )
        .order_by(LoginAttempt.at)
    )
    by_address = await session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.ip_address == ip_address, ~LoginAttempt.succeeded)
        .where(LoginAttempt.at > since)
        .order_by(LoginAttempt.at)
    )
    now = await session.scalar(select(func.now()))
    assert now is not None
    return RecentFailures(list(by_email), list(by_address), now)


async def record_attempt(
    session: AsyncSession, email: str, ip_address: str, succeeded: bool
) -> None:
    await session.execute(
        insert(LoginAttempt).values(email=email, ip_address=ip_address, succeeded=succeeded)
    )
