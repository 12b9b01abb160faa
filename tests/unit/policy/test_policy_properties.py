"""Property tests: the rules hold for any instant, window and zone, DST nights included."""

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.policy import (
    Action,
    DailyWindow,
    Decision,
    Notification,
    ReasonCode,
    Recipient,
    decide,
    digest_flush_time,
    reminder_times,
    resolve_wall_time,
)
from domain.preferences import DigestFrequency, DigestSetting, Preferences
from domain.types import Channel

# No deadline: the first lookups of a zone read tzdata and would trip it.
PROPERTY_SETTINGS = settings(deadline=None)

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",  # +05:30, no DST
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/Santiago",  # DST changes at midnight
    "Pacific/Chatham",  # +12:45 / +13:45
]

zones = st.sampled_from(ZONES).map(ZoneInfo)
# Every DST change of 2024-2026 is in range; whole seconds, like real timestamps.
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
).map(lambda instant: instant.replace(microsecond=0))
walls = st.times().map(lambda wall: wall.replace(microsecond=0))
minute_walls = st.builds(time, st.integers(0, 23), st.integers(0, 59))


def minutes_of(wall: time) -> int:
    return wall.hour * 60 + wall.minute


@st.composite
def dnd_windows(draw: st.DrawFn) -> tuple[time, time]:
    """Windows leaving at least two waking hours a day, so no DST gap can swallow them."""
    start = draw(minute_walls)
    length = draw(st.integers(1, 22 * 60))
    end_minutes = (minutes_of(start) + length) % (24 * 60)
    return start, time(end_minutes // 60, end_minutes % 60)


def dnd_recipient(zone: ZoneInfo, window: tuple[time, time]) -> Recipient:
    prefs = Preferences.model_validate(
        {"dnd": {"enabled": True, "start": window[0], "end": window[1]}}
    )
    return Recipient(prefs, addresses=set(Channel), timezone=zone.key)


@PROPERTY_SETTINGS
@given(zone=zones, window=dnd_windows(), now=instants)
def test_deferral_is_outside_dnd_and_within_a_day(
    zone: ZoneInfo, window: tuple[time, time], now: datetime
) -> None:
    recipient = dnd_recipient(zone, window)
    email = decide(Notification("booking.updated"), recipient, now).for_channel(Channel.EMAIL)
    dnd = DailyWindow(window[0], window[1], zone)
    if not dnd.contains(now):
        assert email.action == Action.SEND_NOW
        return
    assert (email.action, email.code) == (Action.DEFER, ReasonCode.DND)
    assert email.until is not None
    assert now < email.until <= now + timedelta(hours=24)
    assert not dnd.contains(email.until)
    assert dnd.contains(email.until - timedelta(seconds=1))  # the first instant out, not later
    woken = decide(Notification("booking.updated"), recipient, email.until)
    assert woken.send_now() == [Channel.EMAIL]


@PROPERTY_SETTINGS
@given(
    zone=st.sampled_from(["UTC", "Asia/Kolkata"]).map(ZoneInfo), window=dnd_windows(), now=instants
)
def test_window_matches_wall_clock_reading_where_there_is_no_dst(
    zone: ZoneInfo, window: tuple[time, time], now: datetime
) -> None:
    start, end = window
    wall = now.astimezone(zone).time()
    expected = start <= wall < end if start < end else (wall >= start or wall < end)
    assert DailyWindow(start, end, zone).contains(now) is expected


@PROPERTY_SETTINGS
@given(
    zone=zones, day=st.dates(datetime(2024, 1, 1).date(), datetime(2026, 12, 31).date()), wall=walls
)
def test_resolved_instant_shows_the_wall_time_or_ends_its_gap(zone, day, wall) -> None:
    resolved = resolve_wall_time(day, wall, zone)
    local = resolved.astimezone(zone)
    wanted = datetime.combine(day, wall)
    if local.replace(tzinfo=None) == wanted:
        return
    # Skipped wall time: `resolved` is the jump, and the wall time lies inside the gap.
    just_before = (resolved - timedelta(seconds=1)).astimezone(zone)
    offset_before, offset = just_before.utcoffset(), local.utcoffset()
    assert offset_before is not None and offset is not None  # aware, in a ZoneInfo
    assert offset_before < offset
    assert just_before.replace(tzinfo=None) < wanted < local.replace(tzinfo=None)


@PROPERTY_SETTINGS
@given(
    start=instants,
    offsets=st.lists(st.integers(1, 60 * 24 * 60), max_size=10),
    now=instants,
)
def test_reminder_times(start: datetime, offsets: list[int], now: datetime) -> None:
    result = reminder_times(start, offsets, now)
    dues = [due for _, due in result]
    assert dues == sorted(dues)
    assert all(due >= now and due.tzinfo is UTC for due in dues)
    assert [offset for offset, _ in result] == sorted(
        {offset for offset in offsets if start - timedelta(minutes=offset) >= now}, reverse=True
    )
    assert all(due == start - timedelta(minutes=offset) for offset, due in result)


@PROPERTY_SETTINGS
@given(zone=zones, now=instants, wall=minute_walls, weekday=st.integers(0, 6))
def test_digest_flush_times(zone: ZoneInfo, now: datetime, wall: time, weekday: int) -> None:
    hourly = digest_flush_time(DigestSetting(frequency=DigestFrequency.HOURLY), now, zone)
    assert now <= hourly < now + timedelta(minutes=91)
    assert hourly.astimezone(zone).minute == 0

    daily_setting = DigestSetting(frequency=DigestFrequency.DAILY, time=wall)
    daily = digest_flush_time(daily_setting, now, zone)
    assert now <= daily <= now + timedelta(hours=26)
    assert daily == resolve_wall_time(daily.astimezone(zone).date(), wall, zone) or (
        daily == resolve_wall_time(daily.astimezone(zone).date() - timedelta(days=1), wall, zone)
    )

    weekly_setting = DigestSetting(frequency=DigestFrequency.WEEKLY, time=wall, weekday=weekday)
    weekly = digest_flush_time(weekly_setting, now, zone)
    assert now <= weekly <= now + timedelta(days=7, hours=2)


@PROPERTY_SETTINGS
@given(
    zone=zones,
    now=instants,
    window=dnd_windows(),
    frequency=st.sampled_from(list(DigestFrequency)),
    exclude_weekends=st.booleans(),
    event_key=st.sampled_from(["booking.reminder", "booking.created", "daily_agenda"]),
)
def test_decisions_wait_for_the_future_and_survive_json(
    zone, now, window, frequency, exclude_weekends, event_key
) -> None:
    prefs = Preferences.model_validate(
        {
            "preferred_method": "both",
            "dnd": {"enabled": True, "start": window[0], "end": window[1]},
            "exclude_weekends_reminders": exclude_weekends,
            "digests": {"booking": {"frequency": frequency}},
        }
    )
    recipient = Recipient(prefs, addresses={Channel.EMAIL}, timezone=zone.key)
    decision = decide(Notification(event_key), recipient, now)
    assert decision.for_channel(Channel.SMS).code == ReasonCode.NO_ADDRESS
    email = decision.for_channel(Channel.EMAIL)
    if email.action == Action.DEFER:
        assert email.until > now
    if email.action == Action.DIGEST:
        assert email.until >= now
    assert Decision.from_dict(json.loads(json.dumps(decision.to_dict()))) == decision
