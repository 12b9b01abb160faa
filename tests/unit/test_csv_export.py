"""web/csv_export.py: cells a spreadsheet would run as formulas are written as text."""

import csv
import io

import pytest

from web.csv_export import csv_lines, spreadsheet_safe


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("https://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_a_formula_becomes_text(cell):
    assert spreadsheet_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["booking.confirmation", "a=b", "", 12, -3, 0.25, None])
def test_anything_else_is_unchanged(cell):
    assert spreadsheet_safe(cell) == cell


def test_rows_are_written_as_rfc_4180_lines_one_at_a_time():
    lines = list(csv_lines([["name", "count"], ['=cmd|"/C calc"!A0', 3], ["a,b", None]]))
    assert lines == ["name,count\r\n", '"\'=cmd|""/C calc""!A0",3\r\n', '"a,b",\r\n']
    assert list(csv.reader(io.StringIO("".join(lines)))) == [
        ["name", "count"],
        ['\'=cmd|"/C calc"!A0', "3"],
        ["a,b", ""],
    ]
