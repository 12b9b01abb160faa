"""Tenant email layouts: an HTML frame with one `{{ content }}` where the email body goes."""

import re

from jinja2 import nodes

from domain.templating.errors import TemplateIssue
from domain.templating.sandbox import HTML_ENVIRONMENT
from domain.templating.static_checks import parse_and_check

LAYOUT_FIELD = "layout"
_CONTENT_TAG = re.compile(r"\{\{-?\s*content\s*-?\}\}")


def layout_issues(layout_html: str) -> list[TemplateIssue]:
    """Syntax and security issues, and a missing or repeated `{{ content }}`."""
    tree, issues = parse_and_check(HTML_ENVIRONMENT, LAYOUT_FIELD, layout_html)
    if issues or tree is None:  # no tree comes without an issue saying why
        return issues
    return _content_slot_issues(layout_html, tree)


def _content_slot_issues(layout_html: str, tree: nodes.Template) -> list[TemplateIssue]:
    uses = [n for n in tree.find_all(nodes.Name) if n.name == "content"]
    slots = _CONTENT_TAG.findall(layout_html)
    if len(uses) == 1 and len(slots) == 1:
        return []
    return [TemplateIssue(LAYOUT_FIELD, None, "the layout must contain {{ content }} exactly once")]


def wrap_in_layout(layout_html: str, body_html: str) -> str:
    """One template source: the body's source spliced into the layout's `{{ content }}`.

    Splicing sources (rather than rendering the body, then the layout around it)
    renders the email in one pass and lets CSS inlining see layout and body together.
    """
    slot = _CONTENT_TAG.search(layout_html)
    if slot is None:
        raise ValueError("the layout has no {{ content }}; validate it with layout_issues first")
    return layout_html[: slot.start()] + body_html + layout_html[slot.end() :]
