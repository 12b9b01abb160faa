"""Weekend exclusion of reminders and of the agenda through `decide`."""

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from domain.policy import Action, Decision, ReasonCode, TenantSettings
from domain.preferences import Preferences
from domain.types import Channel, Priority

DecideAt = Callable[..., Decision]  # the `decide_at` fixture

NEW_YORK = ZoneInfo("America/New_York")
RIYADH = ZoneInfo("Asia/Riyadh")
REMINDER = "booking.reminder"
MOVE = {"exclude_weekends_reminders": True, "weekend_reminder_action": "move"}
DROP = {"exclude_weekends_reminders": True, "weekend_reminder_action": "drop"}
SATURDAY_10 = datetime(2025, 3, 8, 10, tzinfo=NEW_YORK)  # the day before spring forward
FRIDAY_10 = datetime(2025, 3, 7, 10, tzinfo=NEW_YORK)


def email_of(decision: Decision):
    return decision.for_channel(Channel.EMAIL)


class TestReminders:
    def test_move_goes_to_monday_same_local_time(self, decide_at: DecideAt) -> None:
        email = email_of(decide_at(SATURDAY_10, REMINDER, prefs=MOVE, timezone="America/New_York"))
        assert (email.action, email.code) == (Action.DEFER, ReasonCode.WEEKEND)
        assert email.reason == (
            "Saturday is a weekend day for the recipient; reminders move to the next weekday"
        )
        # Monday 10:00 is EDT, Saturday 10:00 was EST: 47 real hours, not 48.
        assert email.until.astimezone(NEW_YORK) == datetime(2025, 3, 10, 10, tzinfo=NEW_YORK)
        assert email.until == datetime(2025, 3, 10, 14, tzinfo=UTC)

    def test_drop(self, decide_at: DecideAt) -> None:
        email = email_of(decide_at(SATURDAY_10, REMINDER, prefs=DROP, timezone="America/New_York"))
        assert (email.action, email.code) == (Action.SUPPRESSED, ReasonCode.WEEKEND_DROP)
        assert email.reason == (
            "Saturday is a weekend day for the recipient, whose weekend reminders are dropped"
        )

    def test_weekday_sends(self, decide_at: DecideAt) -> None:
        decision = decide_at(FRIDAY_10, REMINDER, prefs=MOVE, timezone="America/New_York")
        assert decision.send_now() == [Channel.EMAIL]

    def test_exclusion_off_by_default(self, decide_at: DecideAt) -> None:
        decision = decide_at(SATURDAY_10, REMINDER, timezone="America/New_York")
        assert decision.send_now() == [Channel.EMAIL]

    def test_only_reminders_are_excluded(self, decide_at: DecideAt) -> None:
        decision = decide_at(
            SATURDAY_10, "booking.created", prefs=MOVE, timezone="America/New_York"
        )
        assert decision.send_now() == [Channel.EMAIL]

    def test_tenant_decides_which_keys_are_reminders(self, decide_at: DecideAt) -> None:
        tenant = TenantSettings(reminder_event_keys={"class.reminder"})
        moved = decide_at(SATURDAY_10, "class.reminder", prefs=MOVE, tenant=tenant)
        assert email_of(moved).code == ReasonCode.WEEKEND
        not_a_reminder = decide_at(SATURDAY_10, REMINDER, prefs=MOVE, tenant=tenant)
        assert not_a_reminder.send_now() == [Channel.EMAIL]

    def test_weekend_is_judged_in_the_recipient_zone(self, decide_at: DecideAt) -> None:
        # Friday 22:00 in New York is already Saturday in UTC.
        friday_night = datetime(2025, 3, 7, 22, tzinfo=NEW_YORK)
        assert decide_at(friday_night, REMINDER, prefs=MOVE, timezone="America/New_York").send_now()
        assert email_of(decide_at(friday_night, REMINDER, prefs=MOVE)).code == ReasonCode.WEEKEND

    def test_urgent_bypasses_the_weekend(self, decide_at: DecideAt) -> None:
        decision = decide_at(SATURDAY_10, REMINDER, prefs=DROP, priority=Priority.URGENT)
        assert decision.send_now() == [Channel.EMAIL]

    def test_every_day_a_weekend_day_is_refused_by_validation(self) -> None:
        # With no weekday left, a moved reminder would have nowhere to go.
        with pytest.raises(ValidationError, match="every day a weekend day"):
            Preferences.model_validate({**MOVE, "weekend_days": [0, 1, 2, 3, 4, 5, 6]})


class TestWeekendDays:
    def test_saudi_locale_weekend_is_friday_saturday(self, decide_at: DecideAt) -> None:
        friday = datetime(2025, 3, 7, 10, tzinfo=RIYADH)
        email = email_of(
            decide_at(friday, REMINDER, prefs=MOVE, timezone="Asia/Riyadh", locale="ar-SA")
        )
        assert email.reason.startswith("Friday is a weekend day")
        assert email.until == datetime(2025, 3, 9, 10, tzinfo=RIYADH)  # Sunday

    def test_sunday_is_a_working_day_in_saudi_arabia(self, decide_at: DecideAt) -> None:
        sunday = datetime(2025, 3, 9, 10, tzinfo=RIYADH)
        decision = decide_at(sunday, REMINDER, prefs=MOVE, timezone="Asia/Riyadh", locale="ar-SA")
        assert decision.send_now() == [Channel.EMAIL]

    @pytest.mark.parametrize("locale", ["en-US", None])
    def test_friday_is_a_working_day_elsewhere(
        self, decide_at: DecideAt, locale: str | None
    ) -> None:
        decision = decide_at(FRIDAY_10, REMINDER, prefs=MOVE, locale=locale)
        assert decision.send_now() == [Channel.EMAIL]

    def test_israeli_locale(self, decide_at: DecideAt) -> None:
        friday = datetime(2025, 3, 7, 10, tzinfo=ZoneInfo("Asia/Jerusalem"))
        decision = decide_at(friday, REMINDER, prefs=DROP, locale="he-IL")
        assert email_of(decision).code == ReasonCode.WEEKEND_DROP

    def test_explicit_weekend_days_override_the_locale(self, decide_at: DecideAt) -> None:
        prefs = {**MOVE, "weekend_days": [2]}  # Wednesday only
        wednesday = datetime(2025, 3, 5, 10, tzinfo=UTC)
        email = email_of(decide_at(wednesday, REMINDER, prefs=prefs, locale="ar-SA"))
        assert email.until == datetime(2025, 3, 6, 10, tzinfo=UTC)
        saturday = datetime(2025, 3, 8, 10, tzinfo=UTC)
        assert decide_at(saturday, REMINDER, prefs=prefs, locale="ar-SA").send_now()


class TestAgenda:
    def test_agenda_on_a_weekend_is_dropped(self, decide_at: DecideAt) -> None:
        email = email_of(decide_at(SATURDAY_10, "daily_agenda"))  # excluded by default
        assert (email.action, email.code) == (Action.SUPPRESSED, ReasonCode.WEEKEND_DROP)
        assert (
            email.reason
            == "Saturday is a weekend day for the recipient, who gets no agenda on weekends"
        )

    def test_agenda_on_a_weekday_sends(self, decide_at: DecideAt) -> None:
        assert decide_at(FRIDAY_10, "daily_agenda").send_now() == [Channel.EMAIL]

    def test_agenda_on_weekends_when_not_excluded(self, decide_at: DecideAt) -> None:
        decision = decide_at(SATURDAY_10, "daily_agenda", prefs={"exclude_weekends_agenda": False})
        assert decision.send_now() == [Channel.EMAIL]


NIGHT = {"dnd": {"enabled": True, "start": "22:00", "end": "07:00"}}


class TestWeekendAndDndTogether:
    def test_friday_night_waits_for_monday_morning(self, decide_at: DecideAt) -> None:
        friday_night = datetime(2025, 3, 7, 23, 30, tzinfo=NEW_YORK)
        prefs = {**MOVE, **NIGHT}
        email = email_of(
            decide_at(friday_night, REMINDER, prefs=prefs, timezone="America/New_York")
        )
        # DND ends Saturday 07:00, a weekend day, so it moves on to Monday 07:00 (EDT by then).
        assert email.code == ReasonCode.DND
        assert email.until == datetime(2025, 3, 10, 7, tzinfo=NEW_YORK)

    def test_saturday_night_moves_past_monday_dnd(self, decide_at: DecideAt) -> None:
        saturday_night = datetime(2025, 6, 14, 23, 30, tzinfo=UTC)
        email = email_of(decide_at(saturday_night, REMINDER, prefs={**MOVE, **NIGHT}))
        # Monday 23:30 is in DND too, so the first instant allowed is Tuesday 07:00.
        assert email.code == ReasonCode.WEEKEND
        assert email.until == datetime(2025, 6, 17, 7, tzinfo=UTC)

    def test_a_drop_at_now_wins_over_a_move(self, decide_at: DecideAt) -> None:
        prefs = {**MOVE, "dnd": {**NIGHT["dnd"], "action": "drop"}}
        saturday_night = datetime(2025, 6, 14, 23, 30, tzinfo=UTC)
        assert (
            email_of(decide_at(saturday_night, REMINDER, prefs=prefs)).code == ReasonCode.DND_DROP
        )

    def test_a_drop_ahead_is_left_to_the_wake_up(self, decide_at: DecideAt) -> None:
        prefs = {**DROP, **NIGHT}
        friday_night = datetime(2025, 6, 13, 23, 30, tzinfo=UTC)
        email = email_of(decide_at(friday_night, REMINDER, prefs=prefs))
        assert (email.action, email.code) == (Action.DEFER, ReasonCode.DND)
        assert email.until == datetime(2025, 6, 14, 7, tzinfo=UTC)
        on_waking = email_of(decide_at(email.until, REMINDER, prefs=prefs))
        assert on_waking.code == ReasonCode.WEEKEND_DROP
