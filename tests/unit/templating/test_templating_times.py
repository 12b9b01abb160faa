from datetime import UTC, datetime, timedelta

import pytest

from domain.templating import booking_time_variables, sample_context

START = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)


def test_organizer_and_invitee_times_are_in_their_own_zones():
    times = booking_time_variables(
        START, START + timedelta(minutes=30), "America/New_York", "Europe/Berlin", "en"
    )

    assert times["start_time"] == "Monday, June 2, 2025, 10:00 AM EDT"
    assert times["end_time"] == "Monday, June 2, 2025, 10:30 AM EDT"
    assert times["start_time_invitee"] == "Monday, June 2, 2025, 4:00 PM +0200"
    assert times["start_time"] != times["start_time_invitee"]
    assert times["duration"] == "30 minutes"


def test_portuguese_locale_uses_portuguese_names():
    times = booking_time_variables(
        START, START + timedelta(minutes=90), "America/New_York", "America/Sao_Paulo", "pt-BR"
    )

    assert "junho" in times["start_time"]
    assert "segunda-feira" in times["start_time_invitee"]
    assert times["start_time_invitee"].endswith("11:00 BRT")
    assert times["duration"] == "1 hora 30 minutos"


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (15, "15 minutes"),
        (60, "1 hour"),
        (90, "1 hour 30 minutes"),
        (120, "2 hours"),
        (0, "0 minutes"),
    ],
)
def test_duration(minutes, expected):
    times = booking_time_variables(START, START + timedelta(minutes=minutes), "UTC", "UTC", "en")
    assert times["duration"] == expected


def test_day_changes_with_the_zone():
    times = booking_time_variables(START, START + timedelta(hours=9), "UTC", "Asia/Tokyo", "en")
    assert times["end_time"] == "Monday, June 2, 2025, 11:00 PM UTC"
    assert times["end_time_invitee"] == "Tuesday, June 3, 2025, 8:00 AM +0900"


def test_times_use_plain_spaces_so_sms_stays_gsm():
    times = booking_time_variables(START, START, "America/New_York", "Europe/Berlin", "en")
    assert all("\u202f" not in value and "\xa0" not in value for value in times.values())


def test_naive_datetimes_are_utc():
    naive = booking_time_variables(START.replace(tzinfo=None), START, "UTC", "UTC", "en")
    assert naive["start_time"] == "Monday, June 2, 2025, 2:00 PM UTC"


def test_unknown_locale_falls_back_to_english():
    times = booking_time_variables(START, START, "UTC", "UTC", "xx-YY")
    assert times["start_time"].startswith("Monday")


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="unknown time zone"):
        booking_time_variables(START, START, "Mars/Olympus", "UTC", "en")


def test_sample_context_times_are_what_the_formatter_produces():
    times = booking_time_variables(
        START, START + timedelta(minutes=30), "America/New_York", "Europe/Berlin", "en"
    )
    sample = sample_context("booking.confirmation")
    assert {key: sample[key] for key in times} == times
