"""domain.merge_patch.patch_between: the merge patch from one document to another holds only
what differs, and applying it gives the other document."""

import pytest

from domain.merge_patch import merge_patch, patch_between

BEFORE = {
    "dnd": {"enabled": False, "start": "22:00:00", "end": "07:00:00"},
    "rules": {"booking": {"email": True}, "marketing": {"sms": False}},
    "reminder_minutes_before": [1440, 60],
    "timezone": None,
}


def test_nothing_changed_is_an_empty_patch():
    assert patch_between(BEFORE, BEFORE) == {}


def test_only_what_differs_and_removed_keys_as_null():
    after = {
        "dnd": {"enabled": True, "start": "22:00:00", "end": "07:00:00"},
        "rules": {"booking": {"email": True}},
        "reminder_minutes_before": [60],
        "timezone": None,
        "muted_event_keys": ["booking.follow_up"],
    }
    assert patch_between(BEFORE, after) == {
        "dnd": {"enabled": True},
        "rules": {"marketing": None},
        "reminder_minutes_before": [60],
        "muted_event_keys": ["booking.follow_up"],
    }


@pytest.mark.parametrize(
    "after",
    [
        {**BEFORE, "rules": {}},
        {**BEFORE, "dnd": {"enabled": True, "start": "21:00:00", "end": "06:00:00"}},
        {**BEFORE, "timezone": "Berlin", "rules": {"booking": {"email": False, "sms": True}}},
    ],
)
def test_applied_it_gives_the_other_document(after):
    assert merge_patch(BEFORE, patch_between(BEFORE, after)) == after
