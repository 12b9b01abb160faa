"""What changed between two versions of a template, field by field and line by line (difflib),
with a few unchanged lines around each change and the long unchanged stretches skipped."""

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

CONTEXT_LINES = 3


class LineChange(StrEnum):
    SAME = "same"
    REMOVED = "removed"
    ADDED = "added"
    SKIPPED = "skipped"  # unchanged lines left out; `text` says how many


@dataclass(frozen=True)
class DiffLine:
    change: LineChange
    old_number: int | None  # from 1, in the older version; None for an added line
    new_number: int | None
    text: str


@dataclass(frozen=True)
class FieldDiff:
    field: str
    lines: tuple[DiffLine, ...]


def version_diff(
    old: Mapping[str, str], new: Mapping[str, str], context: int = CONTEXT_LINES
) -> list[FieldDiff]:
    """The fields whose text differs (in `old`'s order, then fields only `new` has), each with
    its changed lines and `context` unchanged lines around them."""
    fields = [*old, *(name for name in new if name not in old)]
    diffs = []
    for field in fields:
        before, after = old.get(field, "").splitlines(), new.get(field, "").splitlines()
        if before != after:
            diffs.append(FieldDiff(field, tuple(_lines(before, after, context))))
    return diffs


def _lines(before: list[str], after: list[str], context: int) -> list[DiffLine]:
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    lines: list[DiffLine] = []
    shown_until = 0  # lines of `before` shown or skipped so far
    for group in matcher.get_grouped_opcodes(context):
        first_old = group[0][1]
        if first_old > shown_until:
            skipped = first_old - shown_until
            lines.append(DiffLine(LineChange.SKIPPED, None, None, f"{skipped} unchanged"))
        for tag, old_start, old_end, new_start, new_end in group:
            if tag == "equal":
                lines += [
                    DiffLine(
                        LineChange.SAME, old_start + i + 1, new_start + i + 1, before[i + old_start]
                    )
                    for i in range(old_end - old_start)
                ]
                continue
            lines += [
                DiffLine(LineChange.REMOVED, i + 1, None, before[i])
                for i in range(old_start, old_end)
            ]
            lines += [
                DiffLine(LineChange.ADDED, None, i + 1, after[i]) for i in range(new_start, new_end)
            ]
        shown_until = group[-1][2]
    if shown_until < len(before) and lines:
        skipped = len(before) - shown_until
        lines.append(DiffLine(LineChange.SKIPPED, None, None, f"{skipped} unchanged"))
    return lines
