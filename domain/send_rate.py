"""A provider's send rate, as its account allows it: a token bucket per provider (pure; the
clock is the caller's)."""

from dataclasses import dataclass


@dataclass
class SendRate:
    """At most `per_second` sends a second on average, bursts of up to `burst`."""

    per_second: float
    burst: float
    _tokens: float | None = None  # full at the first take; below 0: slots reserved ahead
    _at: float = 0.0

    def wait_for_slot(self, now: float) -> float:
        """Take a slot: 0 when one is free now, else how many seconds until it is (the slot is
        reserved for then, so callers waiting in turn get successive slots)."""
        tokens = self.burst if self._tokens is None else self._tokens
        tokens = min(self.burst, tokens + (now - self._at) * self.per_second) - 1
        self._tokens, self._at = tokens, now
        return 0.0 if tokens >= 0 else -tokens / self.per_second


def parse_send_rates(text: str) -> dict[str, SendRate]:
    """`sendgrid=100,twilio=10` (sends a second per worker process) -> a SendRate each, with a
    burst of one second's worth."""
    rates = {}
    for entry in (e.strip() for e in text.split(",") if e.strip()):
        provider, sep, value = entry.partition("=")
        try:
            per_second = float(value)
        except ValueError:
            per_second = 0.0
        if not sep or not provider.strip() or per_second <= 0:
            raise ValueError(f"PROVIDER_RATE_LIMITS: {entry!r} is not provider=sends-per-second")
        rates[provider.strip()] = SendRate(per_second, burst=max(per_second, 1.0))
    return rates
