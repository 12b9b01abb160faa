"""This worker's circuit breakers, one per provider; transitions are written to the database
so health can show them (several workers each keep their own, and the last change wins)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.exceptions import ApplicationError

from channels.base import PermanentSendError, TransientSendError
from domain.circuit import CallOutcome, CircuitBreaker, CircuitState
from config.settings import Settings

_RECORD = text("""
    INSERT INTO provider_circuits (provider, state, opened_at, updated_at)
    VALUES (:provider, :state, :opened_at, now())
    ON CONFLICT (provider) DO UPDATE
    SET state = excluded.state, opened_at = excluded.opened_at, updated_at = now()
""")


class ProviderCircuits:
    def __init__(self, sessions: async_sessionmaker, settings: Settings):
        self._sessions = sessions
        self._settings = settings
        self._breakers: dict[str, CircuitBreaker] = {}
        self._last_failure: dict[str, str] = {}

    def _breaker(self, provider: str) -> CircuitBreaker:
        if provider not in self._breakers:
            self._breakers[provider] = CircuitBreaker(
                failure_threshold=self._settings.circuit_failure_threshold,
                window=timedelta(seconds=self._settings.circuit_window_seconds),
                cool_down=timedelta(seconds=self._settings.circuit_cool_down_seconds),
            )
        return self._breakers[provider]

    @asynccontextmanager
    async def call(self, provider: str) -> AsyncIterator[None]:
        """Wrap one call to the provider: refused with ProviderUnavailable while its circuit is
        open; otherwise the call's end, however it ends, is recorded as exactly one outcome, so
        a half-open trial is never left in flight."""
        trial = await self.check(provider)
        try:
            yield
        except BaseException as exc:
            outcome = _outcome(exc)
            if outcome == CallOutcome.ABANDONED and not trial:
                raise  # no verdict, and no trial of ours to release
            await self._settle(provider, outcome, getattr(exc, "message", None) or str(exc))
            raise
        await self._settle(provider, CallOutcome.ACCEPTED, None)

    async def check(self, provider: str) -> bool:
        """Raise ProviderUnavailable (fail over at once) while the provider's circuit is open.
        Returns whether this call is the half-open trial. A call it lets through must end in
        `_settle` (use `call()`)."""
        breaker = self._breaker(provider)
        before = breaker.state
        allowed = breaker.allows(_now())
        if breaker.state != before:
            try:
                await self._record(provider, breaker)
            except BaseException:
                if allowed:
                    breaker.release_trial()  # the trial was handed out but never made
                raise
        if not allowed:
            raise ApplicationError(
                f"{provider} circuit is open after repeated failures (last: "
                f"{self._last_failure.get(provider, 'unknown')}); retrying it from {breaker.retry_at():%H:%M:%S} UTC",
                type="ProviderUnavailable",
                non_retryable=True,
            )
        return breaker.state == CircuitState.HALF_OPEN

    async def _settle(self, provider: str, outcome: CallOutcome, message: str | None) -> None:
        breaker = self._breaker(provider)
        if outcome in (CallOutcome.FAILED, CallOutcome.PROVIDER_REFUSED):
            self._last_failure[provider] = message or outcome
        was = breaker.state
        # The state changes before anything is awaited: a cancellation of the write below
        # cannot leave the trial in flight.
        if breaker.record(outcome, _now()) != was:
            await self._record(provider, breaker)

    async def _record(self, provider: str, breaker: CircuitBreaker) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                _RECORD, {"provider": provider, "state": breaker.state, "opened_at": breaker.opened_at}
            )


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _outcome(exc: BaseException) -> CallOutcome:
    """What an exception out of a send says about the provider (see domain.circuit)."""
    if isinstance(exc, TransientSendError):
        return CallOutcome.FAILED
    if isinstance(exc, PermanentSendError):
        return CallOutcome.PROVIDER_REFUSED if exc.provider_fault else CallOutcome.RECIPIENT_REFUSED
    return CallOutcome.ABANDONED  # cancelled, or failed before the provider answered
