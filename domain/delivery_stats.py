"""Delivery statistics: which statuses each count includes, and the rates derived from them.

`sent`, `failed` and `bounced` split the attempted deliveries (those Herald handed, or tried
to hand, to a provider) by their outcome; `delivered`, `opened` and `clicked` are nested
stages of `sent`, each counting the deliveries that reached it *or a later stage* (a click
proves the open even when the recipient's mail client blocked the tracking pixel).
Deliveries never attempted (pending, deferred, suppressed, cancelled, digested) count nowhere.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from domain.types import DeliveryStatus as S

COUNTED_STATUSES = {
    "sent": (S.SENT, S.DELIVERED, S.OPENED, S.CLICKED),
    "delivered": (S.DELIVERED, S.OPENED, S.CLICKED),
    "opened": (S.OPENED, S.CLICKED),
    "clicked": (S.CLICKED,),
    "failed": (S.FAILED,),
    "bounced": (S.BOUNCED,),
}
ATTEMPTED_STATUSES = COUNTED_STATUSES["sent"] + (S.FAILED, S.BOUNCED)


@dataclass(frozen=True)
class DeliveryFigures:
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    failed: int = 0
    bounced: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.failed + self.bounced

    def rates(self) -> dict[str, float | None]:
        """delivery = delivered / attempted, bounce = bounced / attempted,
        open = opened / delivered, click = clicked / delivered; None with nothing to divide by."""
        return {
            "delivery_rate": _ratio(self.delivered, self.attempted),
            "bounce_rate": _ratio(self.bounced, self.attempted),
            "open_rate": _ratio(self.opened, self.delivered),
            "click_rate": _ratio(self.clicked, self.delivered),
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures_of(counts: Mapping[str, int]) -> DeliveryFigures:
    """The figures of deliveries counted per status (a status not in `counts`: none)."""
    return DeliveryFigures(
        **{
            name: sum(counts.get(status, 0) for status in statuses)
            for name, statuses in COUNTED_STATUSES.items()
        }
    )
