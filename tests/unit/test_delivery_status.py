"""Provider reports only move a delivery forward: every (current status, report) pair."""

import pytest

from domain.delivery_status import STAMP_COLUMNS, StatusChange, apply_report
from domain.types import DeliveryStatus

REPORTS = ["sent", "delivered", "opened", "clicked", "failed", "bounced"]

# Each cell says what a report does to a delivery in the row's status:
#   >  the status becomes the reported one (and the stage's timestamp is set if empty)
#   =  the status stays, but the stage's timestamp is set if empty (a late report)
#   x  ignored altogether: nothing is written
EXPECTED = """
             sent  delivered  opened  clicked  failed  bounced
pending       >       >         >       >        >       >
deferred      >       >         >       >        >       >
sent          =       >         >       >        >       >
delivered     =       =         >       >        x       x
opened        =       =         =       >        x       x
clicked       =       =         =       =        x       x
failed        x       x         x       x        x       x
bounced       x       x         x       x        x       x
cancelled     x       x         x       x        x       x
suppressed    x       x         x       x        x       x
digested      x       x         x       x        x       x
"""


def _cases():
    header, *rows = [line.split() for line in EXPECTED.strip().splitlines()]
    assert header == REPORTS
    for current, *cells in rows:
        for reported, cell in zip(header, cells, strict=True):
            yield current, reported, cell


def test_the_table_covers_every_status_and_every_report():
    rows = {current for current, _, _ in _cases()}
    assert rows == {str(s) for s in DeliveryStatus}
    assert set(REPORTS) == {str(s) for s in STAMP_COLUMNS}


@pytest.mark.parametrize("current,reported,cell", list(_cases()))
def test_report(current, reported, cell):
    change = apply_report(current, reported)
    stamp = STAMP_COLUMNS[DeliveryStatus(reported)]
    if cell == ">":
        assert change == StatusChange(DeliveryStatus(reported), True, stamp)
    elif cell == "=":
        assert change == StatusChange(DeliveryStatus(current), False, stamp)
    else:
        assert change == StatusChange(DeliveryStatus(current), False, None)


def test_a_late_delivered_does_not_overwrite_opened_but_dates_the_delivery():
    assert apply_report("opened", "delivered") == StatusChange(
        DeliveryStatus.OPENED, False, "delivered_at"
    )


def test_a_bounce_after_delivered_is_ignored():
    assert apply_report("delivered", "bounced").stamp is None


def test_a_failure_overrides_sent():
    assert apply_report("sent", "failed") == StatusChange(DeliveryStatus.FAILED, True, "failed_at")


def test_repeating_a_report_moves_nothing():
    assert not apply_report("delivered", "delivered").moved


def test_a_status_providers_do_not_report_is_refused():
    with pytest.raises(ValueError):
        apply_report("sent", "suppressed")


@pytest.mark.parametrize(
    "path",
    [
        ["sent", "opened", "delivered", "clicked", "opened"],
        ["delivered", "sent", "bounced", "clicked"],
        ["bounced", "delivered", "opened"],
    ],
)
def test_the_status_never_moves_backwards_along_any_sequence(path):
    ranks = ["pending", "sent", "delivered", "opened", "clicked"]
    status = "pending"
    for reported in path:
        before = status
        status = str(apply_report(status, reported).status)
        if before in ranks and status in ranks:
            assert ranks.index(status) >= ranks.index(before)
        if before in ("failed", "bounced"):
            assert status == before
