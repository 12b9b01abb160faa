"""api/strict_input.py's walk over a parsed JSON document, alone."""

import json

import pytest

from api.strict_input import MAX_JSON_DEPTH, json_problem, text_problem


def test_clean_documents_pass():
    document = {"a": [1, -(2**63), 2**63 - 1, 1.5, True, None, "ünïcödé ✓", {"b": ""}]}
    assert json_problem(document) is None
    for scalar in ("plain", True, None, 1.5, 7):  # a body may be any JSON value
        assert json_problem(scalar) is None


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ('{"a": {"b": ["x", "y\\u0000"]}}', ("a", "b", 1), "NUL"),
        ('{"a": {"k\\u0000": 1}}', ("a",), "key that contains a NUL"),
        ('{"a": "\\udfff"}', ("a",), "lone surrogate (\\udfff)"),
        ('{"a": [NaN]}', ("a", 0), "finite"),
        ('{"a": -Infinity}', ("a",), "finite"),
        ('{"a": 1e400}', ("a",), "finite"),
        ('{"a": 9223372036854775808}', ("a",), "64-bit"),
        ('{"a": -9223372036854775809}', ("a",), "64-bit"),
        ('"\\u0000"', (), "NUL"),
        ("NaN", (), "finite"),
    ],
)
def test_the_first_unstorable_value_is_located(text, location, words):
    found = json_problem(json.loads(text))
    assert found is not None
    assert found[0] == location
    assert words in found[1]


def test_nesting_is_refused_at_its_limit_without_recursion():
    document: list = []
    for _ in range(100_000):  # far deeper than Python's recursion limit
        document = [document]
    found = json_problem(document)
    assert found is not None
    assert found[0] == (0,) * MAX_JSON_DEPTH
    assert json_problem(json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)) is None


def test_a_refusal_never_echoes_the_character_it_refuses():
    # The message goes into a JSON response: a raw lone surrogate there could not be encoded.
    for text in ("\x00", "\ud800", "a\udbff"):
        problem = text_problem(text)
        assert problem is not None
        problem.encode("utf-8")  # would raise on a surrogate
        assert "\x00" not in problem
