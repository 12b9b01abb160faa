"""Hide Jinja tags behind placeholders so HTML tools can process a template's source.

CSS inlining and HTML-to-text conversion run once per template version on the
Jinja source rather than on every rendered message. HTML parsers would mangle
`{% for %}` between table rows (foster parenting) or drop tags inside
attributes, so each Jinja tag is swapped for a placeholder the parser keeps in
place: an HTML comment where text is expected, a plain word inside attribute
values and raw-text elements. Anything riskier is reported as unsupported and
the caller falls back to processing the rendered output instead.
"""

import re
from collections import Counter
from dataclasses import dataclass

from jinja2 import Environment

PREFIX = "hrldjinja"
_PLACEHOLDER = re.compile(rf"<!--{PREFIX}(\d+)c-->|{PREFIX}(\d+)w")
_MARKUP_START = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)|<!")
_RAW_TEXT_ELEMENTS = ("style", "script", "title", "textarea")
_TAG_SENTINEL = "\x00"

TEXT, ATTRIBUTE, RAW_TEXT, COMMENT = "text", "attribute", "raw_text", "comment"


@dataclass(frozen=True)
class Segment:
    text: str
    is_tag: bool  # a whole `{{ }}`, `{% %}`, `{# #}` or `{% raw %}...{% endraw %}`


def split_jinja(environment: Environment, source: str) -> list[Segment]:
    """Split `source` into literal data and Jinja tags, in order."""
    segments, tag_parts, in_tag = [], [], False
    for _, token, value in environment.lexer.tokeniter(source, None):
        if token == "data" and not in_tag:
            segments.append(Segment(value, is_tag=False))
            continue
        tag_parts.append(value)
        if token.endswith("_begin"):
            in_tag = True
        elif token.endswith("_end"):
            segments.append(Segment("".join(tag_parts), is_tag=True))
            tag_parts, in_tag = [], False
    return segments


def html_contexts(segments: list[Segment]) -> list[str] | None:
    """Where each Jinja tag sits in the HTML (TEXT, ATTRIBUTE...); None if one sits elsewhere."""
    skeleton = "".join(_TAG_SENTINEL if s.is_tag else s.text for s in segments)
    if skeleton.count(_TAG_SENTINEL) != sum(s.is_tag for s in segments):
        return None  # the source itself contains the sentinel
    contexts: list[str] = []
    position, length = 0, len(skeleton)
    while position < length:
        char = skeleton[position]
        if char == _TAG_SENTINEL:
            contexts.append(TEXT)
            position += 1
        elif char != "<":
            position += 1
        elif skeleton.startswith("<!--", position):
            end = _find(skeleton, "-->", position + 4)
            contexts += [COMMENT] * skeleton.count(_TAG_SENTINEL, position, end)
            position = end + 3
        else:
            position = _scan_markup(skeleton, position, contexts)
            if position < 0:
                return None
    return contexts


def _find(text: str, needle: str, start: int) -> int:
    found = text.find(needle, start)
    return len(text) if found < 0 else found


def _scan_markup(skeleton: str, start: int, contexts: list[str]) -> int:
    """Scan the markup starting at `start` ('<'); where scanning resumes, -1 if unsupported."""
    match = _MARKUP_START.match(skeleton, start)
    if not match:
        return -1 if skeleton.startswith(_TAG_SENTINEL, start + 1) else start + 1
    position, quote = match.end(), None
    while position < len(skeleton):
        char = skeleton[position]
        if quote:
            if char == _TAG_SENTINEL:
                contexts.append(ATTRIBUTE)
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == _TAG_SENTINEL:
            return -1  # between attributes or in an unquoted value: cannot keep it in place
        elif char == ">":
            break
        position += 1
    position += 1
    name = (match.group(1) or "").lower()
    if name in _RAW_TEXT_ELEMENTS and not match.group(0).startswith("</"):
        end = _find(skeleton.lower(), f"</{name}", position)
        contexts += [RAW_TEXT] * skeleton.count(_TAG_SENTINEL, position, end)
        position = end
    return position


class ProtectedSource:
    """`source` with every Jinja tag replaced by a placeholder; `restore` puts them back."""

    def __init__(self, segments: list[Segment], contexts: list[str] | None = None):
        self._tags: list[str] = []
        index_of: dict[str, int] = {}
        parts, tag_number = [], 0
        for segment in segments:
            if not segment.is_tag:
                parts.append(segment.text)
                continue
            index = index_of.setdefault(segment.text, len(self._tags))
            if index == len(self._tags):
                self._tags.append(segment.text)
            in_text = contexts is not None and contexts[tag_number] == TEXT
            parts.append(f"<!--{PREFIX}{index}c-->" if in_text else f"{PREFIX}{index}w")
            tag_number += 1
        self.text = "".join(parts)
        self._expected = Counter(_placeholder_indexes(self.text))

    @classmethod
    def create(
        cls, segments: list[Segment], contexts: list[str] | None = None
    ) -> "ProtectedSource | None":
        """None when the source already contains text that looks like a placeholder."""
        if any(PREFIX in s.text for s in segments if not s.is_tag):
            return None
        return cls(segments, contexts)

    def word_placeholders(self, tag_pattern: re.Pattern[str]) -> list[str]:
        """The word placeholders of the tags that match `tag_pattern`."""
        return [f"{PREFIX}{i}w" for i, tag in enumerate(self._tags) if tag_pattern.match(tag)]

    def restore(self, processed: str, *, allow_dropped_output: bool = False) -> str | None:
        """Put the tags back into `processed`; None if a placeholder was lost or duplicated.

        With `allow_dropped_output`, `{{ }}` and `{# #}` tags may be lost (they have no
        effect on the rest of the template); `{% %}` tags still must all survive.
        """
        found = Counter(_placeholder_indexes(processed))
        for index, expected in self._expected.items():
            count = found.pop(index, 0)
            droppable = allow_dropped_output and self._tags[index].startswith(("{{", "{#"))
            if count != expected and not (droppable and count < expected):
                return None
        if found:
            return None
        return _PLACEHOLDER.sub(lambda m: self._tags[int(m.group(1) or m.group(2))], processed)


def _placeholder_indexes(text: str) -> list[int]:
    return [int(m.group(1) or m.group(2)) for m in _PLACEHOLDER.finditer(text)]
