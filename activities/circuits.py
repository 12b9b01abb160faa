"""This worker's circuit breakers, one per provider; transitions are written to the database
so health can show them (several workers each keep their own, and the last change wins)."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError

from channels.base import PermanentSendError, TransientSendError
from config.settings import Settings
from db.circuits import record_circuit
from domain.circuit import CallOutcome, CircuitBreaker, CircuitState
from domain.send_failures import SendFailure

log = logging.getLogger("herald.circuits")


class ProviderCircuits:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings):
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
    async def call(self, provider: str, can_fail_over: bool = False) -> AsyncIterator[None]:
        """Wrap one call to the provider: refused while its circuit is open (see `check`);
        otherwise the call's end, however it ends, is recorded as exactly one outcome, so a
        half-open trial is never left in flight."""
        trial = await self.check(provider, can_fail_over)
        try:
            yield
        except BaseException as exc:
            outcome = _outcome(exc)
            if outcome == CallOutcome.ABANDONED and not trial:
                raise  # no verdict, and no trial of ours to release
            await self._settle(provider, outcome, getattr(exc, "message", None) or str(exc))
            raise
        await self._settle(provider, CallOutcome.ACCEPTED, None)

    async def check(self, provider: str, can_fail_over: bool = False) -> bool:
        """While the provider's circuit is open, refuse the call with ProviderUnavailable (not
        retried: fail over at once) when another provider can take it. The last provider of a
        channel is never refused: there is nothing to skip to, its outage must delay mail, not
        fail it, and each send's own retries (exponential backoff up to
        DELIVERY_RETRY_MAX_INTERVAL_SECONDS) pace the calls. Gating it behind a single
        half-open trial every cool-down let one request through per 30 s when failures were
        intermittent. Its outcomes still count: a success closes the circuit.

        Returns whether this call is the half-open trial. A call it lets through must end in
        `_settle` (use `call()`)."""
        if not can_fail_over:
            return False
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
            retry_at = breaker.retry_at() or _now()
            raise ApplicationError(
                f"{provider} circuit is open after repeated failures (last: "
                f"{self._last_failure.get(provider, 'unknown')}); "
                f"retrying it from {retry_at:%H:%M:%S} UTC",
                type=SendFailure.PROVIDER_UNAVAILABLE,
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
        """Show the new state to health. Best effort: the breaker itself lives in this worker,
        and failing a send whose message the provider already took (its ACCEPTED outcome is
        recorded after the call) would make Temporal retry it, and the recipient get it twice."""
        try:
            async with self._sessions.begin() as session:
                await record_circuit(session, provider, breaker.state, breaker.opened_at)
        except Exception as exc:  # the database is down or slow: the next transition writes again
            log.warning("circuit state of %s not recorded (%s): %s", provider, breaker.state, exc)


def _now() -> datetime:
    return datetime.now(UTC)


def _outcome(exc: BaseException) -> CallOutcome:
    """What an exception out of a send says about the provider (see domain.circuit)."""
    if isinstance(exc, TransientSendError):
        # An answer about this one message (429, greylisting) says the provider is up.
        return CallOutcome.FAILED if exc.provider_down else CallOutcome.RECIPIENT_REFUSED
    if isinstance(exc, PermanentSendError):
        return CallOutcome.PROVIDER_REFUSED if exc.provider_fault else CallOutcome.RECIPIENT_REFUSED
    return CallOutcome.ABANDONED  # cancelled, or failed before the provider answered
