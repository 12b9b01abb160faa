"""The do-not-disturb preview's day strip (domain/dnd_preview.py): what a window blocks during one
local day, in the recipient's zone and in another, across midnight and on the days the clocks
change."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.dnd_preview import DASH, day_strip, dnd_preview
from domain.policy.windows import DailyWindow

BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
KOLKATA = ZoneInfo("Asia/Kolkata")
SUMMER_DAY = date(2025, 6, 10)
SPRING_FORWARD = date(2025, 3, 30)  # Europe: 02:00 CET -> 03:00 CEST
FALL_BACK = date(2025, 10, 26)  # Europe: 03:00 CEST -> 02:00 CET


def plain(text: str) -> str:
    """The text with a hyphen for its dashes, to compare with what is written here."""
    return text.replace(DASH, "-")


def states(strip) -> str:
    """One letter per hour: # blocked, + partly, . free."""
    return "".join({"blocked": "#", "partly": "+", "free": "."}[h.state] for h in strip.hours)


def test_a_window_across_midnight_blocks_both_ends_of_the_day():
    strip = day_strip(DailyWindow(time(22), time(7), BERLIN), SUMMER_DAY, BERLIN)
    assert plain(strip.summary()) == "Blocked 00:00-07:00 and 22:00-24:00"
    assert states(strip) == "#" * 7 + "." * 15 + "##"
    assert len(strip.hours) == 24
    assert plain(strip.hour_label(strip.hours[22])) == "22:00-23:00"
    assert plain(strip.hour_label(strip.hours[23])) == "23:00-24:00"


def test_a_window_within_the_day_and_minutes_within_an_hour():
    strip = day_strip(DailyWindow(time(12, 30), time(14, 0), BERLIN), SUMMER_DAY, BERLIN)
    assert plain(strip.summary()) == "Blocked 12:30-14:00"
    assert states(strip) == "." * 12 + "+#" + "." * 10
    assert strip.hours[12].blocked_minutes == 30


def test_seen_from_another_zone_the_same_instants_fall_on_other_hours():
    preview = dnd_preview(time(22), time(7), BERLIN, LONDON, SUMMER_DAY)
    assert plain(preview.summary()) == (
        "Blocked 22:00-07:00 Europe/Berlin (your time 21:00-06:00 Europe/London)"
    )
    assert plain(preview.operator.summary()) == "Blocked 00:00-06:00 and 21:00-24:00"
    assert states(preview.operator) == "#" * 6 + "." * 15 + "###"
    # The same real time blocked, whoever looks: the day's share differs by where it falls.
    assert preview.recipient.blocked[-1].start == datetime(2025, 6, 10, 20, tzinfo=UTC)
    assert preview.operator.blocked[-1].start == datetime(2025, 6, 10, 20, tzinfo=UTC)


def test_a_zone_far_away_sees_the_window_in_the_middle_of_its_day():
    # Tokyo 22:00-07:00 is 09:00-18:00 in New York (EDT, 13 hours behind Tokyo).
    preview = dnd_preview(time(22), time(7), TOKYO, NEW_YORK, SUMMER_DAY)
    assert plain(preview.summary()) == (
        "Blocked 22:00-07:00 Asia/Tokyo (your time 09:00-18:00 America/New_York)"
    )
    assert plain(preview.operator.summary()) == "Blocked 09:00-18:00"


def test_half_hour_offsets_give_partly_blocked_hours():
    preview = dnd_preview(time(22), time(7), ZoneInfo("UTC"), KOLKATA, SUMMER_DAY)
    # UTC 22:00-07:00 is 03:30-12:30 in India (UTC+05:30).
    assert plain(preview.operator.summary()) == "Blocked 03:30-12:30"
    assert states(preview.operator) == "..." + "+" + "#" * 8 + "+" + "." * 11


def test_on_the_spring_forward_day_the_strip_has_23_hours_and_the_window_is_shorter():
    strip = day_strip(DailyWindow(time(22), time(7), BERLIN), SPRING_FORWARD, BERLIN)
    assert len(strip.hours) == 23 and strip.hours_in_day == 23
    assert plain(strip.summary()) == "Blocked 00:00-07:00 and 22:00-24:00"
    # 00:00-07:00 on this night lasts six real hours.
    assert [span.minutes for span in strip.blocked] == [6 * 60, 2 * 60]
    assert [plain(strip.hour_label(h)) for h in strip.hours[1:3]] == ["01:00-03:00", "03:00-04:00"]


def test_a_window_starting_in_the_skipped_hour_starts_when_the_clocks_jump():
    preview = dnd_preview(time(2, 30), time(6), BERLIN, BERLIN, SPRING_FORWARD)
    assert plain(preview.recipient.summary()) == "Blocked 03:00-06:00"
    assert plain(preview.summary()).startswith("Blocked 03:00-06:00 Europe/Berlin")


def test_on_the_fall_back_day_the_strip_has_25_hours_and_the_repeated_hour_is_named():
    strip = day_strip(DailyWindow(time(1, 30), time(2, 30), BERLIN), FALL_BACK, BERLIN)
    assert len(strip.hours) == 25 and strip.hours_in_day == 25
    # 02:30 happens twice: the window ends at the first (summer time), one hour after 01:30.
    assert plain(strip.summary()) == "Blocked 01:30-02:30 CEST"
    assert [span.minutes for span in strip.blocked] == [60]
    assert plain(strip.hour_label(strip.hours[2])) == "02:00 CEST-02:00 CET"
    assert plain(strip.hour_label(strip.hours[3])) == "02:00 CET-03:00"


def test_a_window_across_the_fall_back_night_is_an_hour_longer():
    strip = day_strip(DailyWindow(time(22), time(7), BERLIN), FALL_BACK, BERLIN)
    assert plain(strip.summary()) == "Blocked 00:00-07:00 and 22:00-24:00"
    assert [span.minutes for span in strip.blocked] == [8 * 60, 2 * 60]
    assert states(strip) == "#" * 8 + "." * 15 + "##"


def test_the_operators_strip_on_a_day_only_the_recipient_changes_clocks():
    # New York is on EDT all through Europe's spring-forward day: the Berlin window ends at
    # 07:00 CEST = 01:00 EDT; it began at 22:00 CET the evening before = 17:00 EDT.
    preview = dnd_preview(time(22), time(7), BERLIN, NEW_YORK, SPRING_FORWARD)
    assert plain(preview.operator.summary()) == "Blocked 00:00-01:00 and 16:00-24:00"
    assert len(preview.operator.hours) == 24


def test_equal_ends_are_no_window():
    with pytest.raises(ValueError):
        dnd_preview(time(7), time(7), BERLIN, LONDON, SUMMER_DAY)


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK, KOLKATA, ZoneInfo("Australia/Lord_Howe")])
@pytest.mark.parametrize(
    "window", [(time(22), time(7)), (time(2, 30), time(3)), (time(9), time(17))]
)
def test_every_day_of_a_year_the_hours_tile_the_day_and_agree_with_the_window(
    zone: ZoneInfo, window: tuple[time, time]
):
    recipient_window = DailyWindow(*window, BERLIN)
    day = date(2025, 1, 1)
    while day.year == 2025:
        strip = day_strip(recipient_window, day, zone)
        assert strip.hours[0].start == strip.start and strip.hours[-1].end == strip.end
        for earlier, later in zip(strip.hours, strip.hours[1:], strict=False):
            assert earlier.end == later.start
        blocked = sum(span.minutes for span in strip.blocked)
        assert sum(hour.blocked_minutes for hour in strip.hours) == blocked
        # Each hour's state says what the window does at its first minute.
        for hour in strip.hours:
            if hour.state == "blocked":
                assert recipient_window.contains(hour.start)
            if hour.state == "free":
                assert not recipient_window.contains(hour.start)
                assert not recipient_window.contains(hour.end - timedelta(minutes=1))
        day += timedelta(days=1)
