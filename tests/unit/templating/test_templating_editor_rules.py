"""The pure rules behind the dashboard's template editor: a diff between two versions, the
fallbacks written one a line, and how far an SMS is from its next segment."""

from domain.templating.fallbacks import fallbacks_as_lines, fallbacks_from_lines
from domain.templating.sms import sms_segments
from domain.templating.version_diff import LineChange, version_diff


def test_a_diff_shows_changed_lines_with_context_and_skips_the_rest():
    before = "\n".join(f"line {n}" for n in range(1, 21))
    after = before.replace("line 10", "line ten")
    [diff] = version_diff({"name": "A", "html_body": before}, {"name": "A", "html_body": after})
    assert diff.field == "html_body"  # the unchanged name is not listed
    changes = [(line.change, line.old_number, line.new_number, line.text) for line in diff.lines]
    assert changes[0] == (LineChange.SKIPPED, None, None, "6 unchanged")
    assert changes[1:4] == [(LineChange.SAME, n, n, f"line {n}") for n in (7, 8, 9)]
    assert changes[4:6] == [
        (LineChange.REMOVED, 10, None, "line 10"),
        (LineChange.ADDED, None, 10, "line ten"),
    ]
    assert changes[6:9] == [(LineChange.SAME, n, n, f"line {n}") for n in (11, 12, 13)]
    assert changes[9] == (LineChange.SKIPPED, None, None, "7 unchanged")


def test_a_field_only_one_version_has_is_all_added_or_all_removed():
    diffs = version_diff({"subject": "Hi"}, {"subject": "Hi", "text_body": "a\nb"})
    assert [(d.field, [(x.change, x.text) for x in d.lines]) for d in diffs] == [
        ("text_body", [(LineChange.ADDED, "a"), (LineChange.ADDED, "b")])
    ]
    [gone] = version_diff({"text_body": "a"}, {})
    assert [(x.change, x.old_number) for x in gone.lines] == [(LineChange.REMOVED, 1)]
    assert version_diff({"body": "same"}, {"body": "same"}) == []


def test_line_numbers_follow_insertions():
    [diff] = version_diff({"body": "a\nb\nc"}, {"body": "a\nnew\nb\nc"})
    assert [(x.change, x.old_number, x.new_number) for x in diff.lines] == [
        (LineChange.SAME, 1, 1),
        (LineChange.ADDED, None, 2),
        (LineChange.SAME, 2, 3),
        (LineChange.SAME, 3, 4),
    ]


def test_fallbacks_round_trip_one_a_line_and_bad_lines_are_named():
    fallbacks = {"invitee_name": "there", "meeting_link": "(link to follow)"}
    assert fallbacks_from_lines(fallbacks_as_lines(fallbacks)) == (fallbacks, [])
    assert fallbacks_from_lines("a = x = y\n\n  b=  \n") == ({"a": "x = y", "b": ""}, [])
    parsed, problems = fallbacks_from_lines("a = 1\nno equals here\n= text\na = 2")
    assert parsed == {"a": "1"}
    assert problems == [
        "line 2: write it as name = text",
        "line 3: write it as name = text",
        "line 4: a has a fallback already",
    ]


def test_an_sms_says_how_much_its_segments_hold():
    assert (sms_segments("hi").units, sms_segments("hi").capacity) == (2, 160)
    two = sms_segments("x" * 161)
    assert (two.segments, two.capacity) == (2, 2 * 153)
    unicode = sms_segments("ł" * 71)
    assert (unicode.encoding, unicode.segments, unicode.capacity) == ("UCS-2", 2, 2 * 67)
    assert sms_segments("").capacity == 160
