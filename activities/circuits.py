"""This worker's circuit breakers, one per provider; transitions are written to the database
so health can show them (several workers each keep their own, and the last change wins)."""

from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.exceptions import ApplicationError

from domain.circuit import CircuitBreaker, CircuitState
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

    async def check(self, provider: str) -> None:
        """Raise ProviderUnavailable (fail over at once) while the provider's circuit is open."""
        breaker = self._breaker(provider)
        before = breaker.state
        allowed = breaker.allows(_now())
        if breaker.state != before:
            await self._record(provider, breaker)
        if not allowed:
            raise ApplicationError(
                f"{provider} circuit is open after repeated failures (last: "
                f"{self._last_failure.get(provider, 'unknown')}); retrying it from {breaker.retry_at():%H:%M:%S} UTC",
                type="ProviderUnavailable",
                non_retryable=True,
            )

    async def success(self, provider: str) -> None:
        breaker = self._breaker(provider)
        if breaker.state != CircuitState.CLOSED or breaker.failures:
            was = breaker.state
            breaker.record_success()
            if was != CircuitState.CLOSED:
                await self._record(provider, breaker)

    async def failure(self, provider: str, message: str) -> None:
        self._last_failure[provider] = message
        breaker = self._breaker(provider)
        was = breaker.state
        if breaker.record_failure(_now()) != was:
            await self._record(provider, breaker)

    async def _record(self, provider: str, breaker: CircuitBreaker) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                _RECORD, {"provider": provider, "state": breaker.state, "opened_at": breaker.opened_at}
            )


def _now() -> datetime:
    return datetime.now(timezone.utc)
