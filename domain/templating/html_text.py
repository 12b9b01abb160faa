"""Plain-text version of an HTML email."""

import re
from html.parser import HTMLParser

from jinja2 import Environment

from domain.templating.jinja_markers import ProtectedSource, split_jinja

_SKIPPED = frozenset({"head", "title", "style", "script", "template"})
_PARAGRAPHS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "hr"}
)
_LINES = frozenset(
    {"div", "tr", "section", "header", "footer", "article", "main", "nav", "aside", "address"}
)
_CELLS = frozenset({"td", "th"})
_SPACES = re.compile(r"\s+")
_LINE_EDGE_SPACES = re.compile(r"[ \t]*\n[ \t]*")
_CLOSING_TAG = re.compile(r"\{%[-+]?\s*(end\w*|else|elif)\b")
_CONDITIONAL_TAG = re.compile(r"\{%[-+]?\s*(if|with|filter|set)\b")
_LOOP_TAG = re.compile(r"\{%[-+]?\s*for\b")
_EDGES = re.compile(r"(\s*)(.*?)(\s*)", re.DOTALL)


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._breaks = 0  # newlines owed before the next text
        self._skip_depth = 0
        self._link: tuple[str, list[str]] | None = None  # href, text collected so far

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skip_depth += 1
        elif tag == "br":
            self._write("\n")
        elif tag == "li":
            self._request_break(1)
            self._write("- ")
        elif tag in _PARAGRAPHS:
            self._request_break(2)
        elif tag in _LINES:
            self._request_break(1)
        elif tag in _CELLS:
            self._write(" ")
        elif tag == "a":
            self._link = (dict(attrs).get("href") or "", [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/>, <hr/>: nothing to close

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip_depth = max(self._skip_depth - 1, 0)
        elif tag in _PARAGRAPHS:
            self._request_break(2)
        elif tag in _LINES or tag == "li":
            self._request_break(1)
        elif tag == "a" and self._link is not None:
            href, texts = self._link
            self._link = None
            self._write(_link_text(" ".join(texts).strip(), href))

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        text = _SPACES.sub(" ", data)
        if self._link is not None:
            self._link[1].append(text.strip())
        elif text.strip() or (self.parts and not self._breaks):
            self._write(text)

    def _request_break(self, count: int) -> None:
        if self.parts:
            self._breaks = max(self._breaks, count)

    def _write(self, text: str) -> None:
        if not text:
            return
        if self._breaks:
            self.parts.append("\n" * self._breaks)
            self._breaks = 0
            text = text.lstrip(" ")
        self.parts.append(text)


def _link_text(text: str, href: str) -> str:
    href = href.strip()
    if not href or href.startswith("#") or href == text:
        return text
    shown = href.removeprefix("mailto:")
    if not text or text == shown:
        return shown
    return f"{text} ({shown})"


def derive_text_from_html(html: str) -> str:
    """A readable plain-text rendition of `html`: links as "text (url)", lists as "- item"."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return tidy_text(_LINE_EDGE_SPACES.sub("\n", "".join(extractor.parts)))


def tidy_text(text: str) -> str:
    """Collapse runs of blank lines (left by markup or by false `{% if %}`s) into one."""
    # str.replace beats a regex several times over here, and this runs on every render.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def derive_text_template(environment: Environment, html_source: str) -> str | None:
    """A plain-text Jinja template equivalent to an HTML one; None if the HTML can't be read so.

    Rendering it gives (after tidy_text) what derive_text_from_html would give for
    the rendered HTML, without parsing HTML on every render.
    """
    protected = ProtectedSource.create(split_jinja(environment, html_source))
    if protected is None:
        return None
    text = _settle_line_breaks(derive_text_from_html(protected.text), protected)
    # Expressions in <head> or in attributes other than href are dropped, like their output.
    return protected.restore(text.replace("{", "{{ '{' }}"), allow_dropped_output=True)


def _settle_line_breaks(text: str, protected: ProtectedSource) -> str:
    """Re-place the line breaks around block tags so they add up as in the rendered HTML.

    The HTML reader emits the breaks it owes before each tag; around block tags that
    double them up (a loop would print `</li>`'s break and `<li>`'s between items).
    Instead, breaks owed before a closing tag (`endfor`, `endif`, `else`) move past
    it; before an opening tag they stay outside, and only the breaks beyond those
    go inside the block.
    """
    closers = set(protected.word_placeholders(_CLOSING_TAG))
    conditionals = set(protected.word_placeholders(_CONDITIONAL_TAG))
    loops = set(protected.word_placeholders(_LOOP_TAG))
    if not closers | conditionals | loops:
        return text
    pieces = re.split("(" + "|".join(closers | conditionals | loops) + ")", text)
    out: list[str] = []
    owed = already_printed = 0
    for number, piece in enumerate(pieces):
        if number % 2:  # a block tag
            if piece not in closers:
                out.append("\n" * owed)
                already_printed, owed = (owed if piece in conditionals else 0), 0
            out.append(piece)
            continue
        edges = _EDGES.fullmatch(piece)
        assert edges is not None  # the pattern matches any string
        lead, body, trail = edges.groups()
        owed = max(owed, lead.count("\n") - already_printed)
        already_printed = 0
        if body:
            out.append("\n" * owed if owed or "\n" in lead else lead)
            out.append(body)
            owed = 0
        owed = max(owed, trail.count("\n"))
        if body and not owed:
            out.append(trail)
    out.append("\n" * owed)
    return "".join(out)
