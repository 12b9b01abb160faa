"""CSS inlining for mail clients that ignore <style> blocks.

Inlining is done once per template version on the Jinja source (see
jinja_markers.py), so rendering a message needs none. Only templates whose
Jinja tags sit where placeholders cannot go are inlined per render instead.
"""

import re

import css_inline
from jinja2 import Environment
from jinja2.exceptions import TemplateSyntaxError

from domain.templating.jinja_markers import ProtectedSource, html_contexts, split_jinja

# At-rules (@media, @font-face) cannot be inlined: keep them in a <style> block so
# responsive layouts still work. Never fetch <link> stylesheets: rendering does no I/O.
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
_DOCUMENT = "<html><head></head><body>{}</body></html>"
_START_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)>")
_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style", re.IGNORECASE | re.DOTALL)
_DECLARATIONS = re.compile(r"\{[^{}]*\}")
_SELECTOR_PART = re.compile(r"[^\s,>+~{}]+")
_VOID_ELEMENTS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
})  # fmt: skip
# The inliner (native code, holding the interpreter while it runs) matches every selector part
# against every element, walking up ancestors for descendant selectors: up to about 50 ns per
# unit of parts x elements x depth/8 (measured), so this bound keeps one inlining under ~50 ms.
# Herald's default email costs about 1,200; past the bound, the <style> block is sent as is.
MAX_INLINING_COST = 1_000_000
_TBODY_TAG = re.compile(r"</?tbody>")
# Elements the HTML parser adds or moves by itself, or the inliner rewrites.
_IMPLIED_ELEMENTS = frozenset({"html", "head", "body", "tbody", "style", "link"})


def has_style_block(html: str) -> bool:
    return "<style" in html.lower()


def inlining_cost(html: str) -> int:
    """An estimate of the inliner's work on `html` (see MAX_INLINING_COST)."""
    css = " ".join(_STYLE_BLOCK.findall(html))
    parts = len(_SELECTOR_PART.findall(_DECLARATIONS.sub(",", css)))
    elements = depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(html):
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing and name.lower() not in _VOID_ELEMENTS:
            elements += 1
            depth += 1
            deepest = max(deepest, depth)
        else:
            elements += 1
    return parts * elements * max(1, deepest // 8)


def inline_css(html: str) -> str:
    """Move the rules of `html`'s <style> blocks into style attributes (when not too costly)."""
    if not has_style_block(html) or inlining_cost(html) > MAX_INLINING_COST:
        return html
    try:
        return _INLINER.inline(html)
    except css_inline.InlineError:
        return html  # unparsable CSS: an unstyled email beats no email


def inline_css_in_template(environment: Environment, source: str) -> str | None:
    """Inline the CSS of a Jinja HTML template; None if it cannot be done safely on the source."""
    if not has_style_block(source):
        return source
    segments = split_jinja(environment, source)
    contexts = html_contexts(segments)
    protected = ProtectedSource.create(segments, contexts) if contexts is not None else None
    if protected is None:
        return None
    html = protected.text
    if inlining_cost(html) > MAX_INLINING_COST:
        return source  # sent with its <style> block, as most mail clients read it
    if "<html" not in html.lower():
        # A fragment: give it the document shell ourselves, or the parser would put
        # it around the first element, after any leading `{% if %}`.
        html = _DOCUMENT.format(html)
    try:
        inlined = _INLINER.inline(html)
    except css_inline.InlineError:
        return None
    if "<tbody" not in html.lower():
        # The parser adds <tbody> at the first <tr>, which may be inside a `{% for %}`.
        inlined = _TBODY_TAG.sub("", inlined)
    if _elements(inlined) != _elements(html):
        return None  # the parser restructured the markup (e.g. closed a <p> early)
    restored = protected.restore(inlined)
    if restored is None or _tag_tokens(environment, restored) != _tag_tokens(environment, source):
        return None
    return restored


def _elements(html: str) -> list[str]:
    names = (name.lower() for name in _START_TAG.findall(html))
    return [name for name in names if name not in _IMPLIED_ELEMENTS]


def _tag_tokens(environment: Environment, source: str) -> list[tuple[str, str]] | None:
    """The template's Jinja tokens without its literal data: equal lists mean equal logic."""
    try:
        return [(kind, value) for _, kind, value in environment.lex(source) if kind != "data"]
    except TemplateSyntaxError:
        return None
