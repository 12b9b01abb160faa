"""How a provider's report moves a delivery's status: only ever forward.

A sent message progresses  sent < delivered < opened < clicked  (and a delivery still
pending or deferred sits before `sent`: a webhook can beat the send's own bookkeeping).
A report of a stage at or before the current one leaves the status alone, so a late
`delivered` never overwrites `opened`; an `opened` implies the message was delivered.

`failed` and `bounced` end the lifecycle. They override a delivery that is only `sent`
(or not even recorded as sent yet), but never one the provider confirmed as delivered: a
bounce after `delivered` contradicts a report the recipient's server already made, and is
ignored. Nothing moves a delivery out of a failure, and deliveries that were never sent
(suppressed, cancelled, digested) are not changed by reports at all.

Each stage's timestamp is recorded the first time the stage is reported, even when the
status does not move (a `delivered` arriving after `opened` still dates the delivery);
an ignored report records nothing.
"""

from dataclasses import dataclass

from domain.types import DeliveryStatus

_PROGRESS = (
    DeliveryStatus.PENDING,
    DeliveryStatus.DEFERRED,
    DeliveryStatus.SENT,
    DeliveryStatus.DELIVERED,
    DeliveryStatus.OPENED,
    DeliveryStatus.CLICKED,
)
_RANK = {status: rank for rank, status in enumerate(_PROGRESS)}
_FAILURES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.BOUNCED})
_CONFIRMED = frozenset({DeliveryStatus.DELIVERED, DeliveryStatus.OPENED, DeliveryStatus.CLICKED})

# What a provider can report, and the column that dates each report (set once).
STAMP_COLUMNS = {
    DeliveryStatus.SENT: "sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.OPENED: "opened_at",
    DeliveryStatus.CLICKED: "clicked_at",
    DeliveryStatus.FAILED: "failed_at",
    DeliveryStatus.BOUNCED: "failed_at",
}


@dataclass(frozen=True)
class StatusChange:
    status: DeliveryStatus  # the delivery's status after the report
    moved: bool  # the status changed
    stamp: str | None  # the timestamp column to set if still empty; None: record nothing


def apply_report(current: str, reported: str) -> StatusChange:
    """The effect of a provider reporting `reported` on a delivery now in `current`."""
    current, reported = DeliveryStatus(current), DeliveryStatus(reported)
    if reported not in STAMP_COLUMNS:
        raise ValueError(f"a provider cannot report {reported!r}")
    if _ignored(current, reported):
        return StatusChange(current, False, None)
    stamp = STAMP_COLUMNS[reported]
    if reported in _FAILURES or _RANK[reported] > _RANK[current]:
        return StatusChange(reported, reported != current, stamp)
    return StatusChange(current, False, stamp)


def _ignored(current: DeliveryStatus, reported: DeliveryStatus) -> bool:
    if current in _FAILURES or current not in _RANK:  # ended, or never sent
        return True
    return reported in _FAILURES and current in _CONFIRMED


def report_on_each_status(reported: str) -> dict[DeliveryStatus, StatusChange]:
    """`apply_report` of one report, decided for every status a delivery can be in: the table a
    single SQL statement applies the report to many deliveries by (db/delivery_tracking.py),
    the rule stated once. The statuses it records nothing on are left out."""
    changes = {current: apply_report(current, reported) for current in DeliveryStatus}
    return {current: change for current, change in changes.items() if change.stamp is not None}
