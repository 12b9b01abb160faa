"""Channel fallback: if one channel has not reached a status within a time, use another.

For example: an email not delivered within 30 minutes (or bounced) -> send the SMS; an
in-app message not opened within 4 hours -> send the email.
"""

from dataclasses import dataclass

from domain.types import DeliveryStatus

_PROGRESS = (
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.OPENED,
    DeliveryStatus.CLICKED,
)
_FAILED = frozenset({DeliveryStatus.FAILED, DeliveryStatus.BOUNCED})


@dataclass(frozen=True)
class FallbackRule:
    from_channel: str
    to_channel: str
    unless: str  # the status (delivered, opened, clicked) that makes the fallback unnecessary
    within_minutes: float


def fallback_verdict(status: str, rule: FallbackRule) -> bool | None:
    """True: fall back now; False: never needed; None: not known yet, keep waiting."""
    if status in _FAILED:
        return True
    if status in _PROGRESS and _PROGRESS.index(status) >= _PROGRESS.index(rule.unless):
        return False
    if status in _PROGRESS:
        return None
    return False  # never attempted (suppressed, cancelled, digested): nothing to fall back from
