"""What a notification's overall status is, given its channels' statuses."""

from collections.abc import Collection, Iterable

from domain.types import FAILED_DELIVERY_STATUSES
from domain.types import DeliveryStatus as D
from domain.types import NotificationStatus as N

SENT_STATUSES = frozenset({D.SENT, D.DELIVERED, D.OPENED, D.CLICKED})
# Ends the workflow decides for a channel, which the record_outcome step writes to its row.
DECIDED_ENDS = frozenset({D.FAILED, D.CANCELLED})


def overall_status(channel_statuses: Iterable[str], cancelled: bool = False) -> N:
    statuses = set(channel_statuses)
    sent = bool(statuses & SENT_STATUSES)
    failed = bool(statuses & FAILED_DELIVERY_STATUSES)
    if sent and failed:
        return N.PARTIALLY_FAILED
    if failed:
        return N.FAILED
    if sent:
        return N.SENT
    if cancelled or D.CANCELLED in statuses:
        return N.CANCELLED
    if D.DIGESTED in statuses:
        return N.DIGESTED
    return N.SUPPRESSED


def status_if_sent(pending: int, others: Collection[str], fallback: bool) -> N | None:
    """When one send is all that is left to do (`pending` sends, every other channel settled as
    suppressed, no fallback rule to wait on), the notification's status should that send
    succeed: the send records it with its own result, sparing the record_outcome step. None
    otherwise."""
    if pending != 1 or fallback or any(s != D.SUPPRESSED for s in others):
        return None
    return overall_status([*others, D.SENT])
