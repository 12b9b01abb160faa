"""Whatever is stored, a recipient's effective preferences are valid: each stored setting at
fault gives way (an override to the tenant's default, a default to Herald's own), and the
others, above all an opt-out, still hold."""

from datetime import time

import pytest
from pydantic import ValidationError

from domain.preferences import (
    Preferences,
    check_overrides,
    defaults_document,
    effective_preferences,
    resolve_preferences,
)
from domain.types import Channel
from tests.utils.bad_preferences import BAD_STORED_STATE, OPTED_OUT

HERALD = Preferences()


@pytest.mark.parametrize("case", BAD_STORED_STATE, ids=str)
def test_a_bad_stored_override_gives_way_and_the_rest_holds(case):
    defaults, overrides, ignored = BAD_STORED_STATE[case]
    resolved = resolve_preferences(defaults, overrides)
    assert ignored in resolved.ignored
    # The opt-out stored beside the bad setting is kept.
    assert resolved.preferences.rules["booking"][Channel.EMAIL] is False
    # A whole setting at fault takes the tenant's default (Herald's, without one).
    field = ignored.removeprefix("overrides.")
    if field in Preferences.model_fields:
        expected = Preferences.model_validate(defaults)
        assert getattr(resolved.preferences, field) == getattr(expected, field)


def test_only_the_bad_part_of_a_list_or_a_map_goes():
    resolved = resolve_preferences(
        {},
        {
            "channels": {"fax": False, "sms": False},
            "muted_event_keys": ["Not A Key", "marketing.promo"],
            "reminder_minutes_before": [1440, -5],
            "weekend_days": [5, 9],
        },
    )
    prefs = resolved.preferences
    assert prefs.channels[Channel.SMS] is False
    assert prefs.muted_event_keys == ["marketing.promo"]
    assert prefs.reminder_minutes_before == [1440]
    assert prefs.weekend_days == [5]


def test_a_bad_override_falls_back_to_the_tenants_default_not_heralds():
    defaults = {"max_reminders_per_day": 3, "dnd": {"enabled": True, "start": "21:00"}}
    resolved = resolve_preferences(defaults, {"max_reminders_per_day": 99, "dnd": {"end": "21:00"}})
    assert resolved.preferences.max_reminders_per_day == 3
    assert resolved.preferences.dnd.start == time(21, 0)
    assert resolved.preferences.dnd.end == time(7, 0)
    assert resolved.preferences.dnd.enabled is True


def test_bad_stored_defaults_give_way_to_heralds_own():
    defaults = {"max_reminders_per_day": 0, "timezone": "Nowhere/City", "preferred_method": "sms"}
    resolved = resolve_preferences(defaults, {})
    assert resolved.preferences.max_reminders_per_day == HERALD.max_reminders_per_day
    assert resolved.preferences.timezone is None
    assert resolved.preferences.preferred_method == "sms"
    assert set(resolved.ignored) == {"defaults.max_reminders_per_day", "defaults.timezone"}


@pytest.mark.parametrize("stored", [None, [], ["email"], "off", 42, True])
def test_documents_that_are_not_objects_hold_no_settings(stored):
    assert effective_preferences(stored, stored) == HERALD
    assert effective_preferences({"preferred_method": "sms"}, stored).preferred_method == "sms"


def test_valid_stored_preferences_are_read_as_stored():
    defaults = {"dnd": {"enabled": True, "start": "22:00", "end": "07:00"}}
    overrides = {"dnd": {"start": "23:00"}, "rate_limit": None, **OPTED_OUT}
    resolved = resolve_preferences(defaults, overrides)
    assert resolved.ignored == ()
    assert resolved.preferences.dnd.start == time(23, 0)
    assert resolved.preferences.dnd.enabled is True


def test_many_faults_at_once_still_settle():
    overrides: dict[str, object] = {name: "garbage" for name in Preferences.model_fields}
    overrides["rules"] = {f"bad key {i}": {"fax": 1} for i in range(50)}
    assert effective_preferences({"dnd": []}, overrides) == HERALD


def test_checking_new_overrides_names_the_field_and_ignores_bad_defaults():
    # The tenant's stored defaults are bad (an older version): a valid change still passes.
    bad_defaults = defaults_document({"max_reminders_per_day": 0})
    assert check_overrides(bad_defaults, {"preferred_method": "sms"}).preferred_method == "sms"
    with pytest.raises(ValidationError) as refused:
        check_overrides(defaults_document({"dnd": {"start": "22:00"}}), {"dnd": {"end": "22:00"}})
    assert refused.value.errors()[0]["loc"] == ("dnd",)


def test_reading_never_raises_on_any_stored_state_at_all():
    """Every case's defaults and overrides, swapped and crossed: always valid preferences."""
    documents = [
        d for defaults, overrides, _ in BAD_STORED_STATE.values() for d in (defaults, overrides)
    ]
    for defaults in documents:
        for overrides in documents:
            assert isinstance(effective_preferences(overrides, defaults), Preferences)
            assert isinstance(effective_preferences(defaults, overrides), Preferences)
