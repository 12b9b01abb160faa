"""Rendering a broadcast's recipients once per distinct content, not once each.

A broadcast's notifications share their context: recipients whose values of the variables a
template reads are the same get the same email but for their own unsubscribe link. RenderMemo
renders such a group once with a placeholder for the link, and puts each recipient's link in
its place. Whether that is what rendering with the link would have written is checked on the
group's second recipient (rendered both ways): a template that does anything to the link but
write it as it is (a filter, a test of its text) is rendered for every recipient, as before.
"""

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from activities.content import RENDERER
from domain.templating import EmailLayout, Rendered, TemplateSource

LINK = "unsubscribe_url"
PLACEHOLDER = "-herald-unsubscribe-url-"
_RENDER_EACH = object()  # the group's template does not write the link as it is


_SEEN = object()  # met once: rendered as it is; a second recipient like it makes a group


class RenderMemo:
    """A stand-in for RENDERER.render (activities/content.render_read's `render`) for the
    recipients of one chunk: what it holds is dropped with it."""

    def __init__(self) -> None:
        self._rendered: dict[tuple[Any, str], Any] = {}

    def render(
        self, source: TemplateSource, variables: Mapping[str, Any], layout: EmailLayout | None
    ) -> Rendered:
        compiled = RENDERER.compiled(source, layout)
        try:
            values = json.dumps(
                [variables.get(name) for name in compiled.variable_names if name != LINK],
                sort_keys=True,
                default=str,
            )
        except (TypeError, ValueError):  # values JSON cannot hold as keys: no memo
            return RENDERER.render(source, variables, layout)
        link = variables.get(LINK)
        key = (compiled, values)
        known = self._rendered.get(key)
        if known is None or known is _RENDER_EACH:
            # A content met the first time costs what it did before: a recipient whose
            # content is their own (their name in it) is rendered once, as it is.
            self._rendered.setdefault(key, _SEEN)
            return RENDERER.render(source, variables, layout)
        if known is not _SEEN:
            return _with_link(known, link) if isinstance(link, str) and link else known
        rendered = RENDERER.render(source, variables, layout)
        if not isinstance(link, str) or not link:
            self._rendered[key] = rendered
            return rendered
        shared = RENDERER.render(source, {**variables, LINK: PLACEHOLDER}, layout)
        self._rendered[key] = shared if _with_link(shared, link) == rendered else _RENDER_EACH
        return rendered


def _with_link(rendered: Rendered, link: str) -> Rendered:
    """The rendered content with `link` in the placeholder's place, in every text it holds."""
    changes: dict[str, Any] = {
        field.name: value.replace(PLACEHOLDER, link)
        for field in dataclasses.fields(rendered)
        if isinstance(value := getattr(rendered, field.name), str)
    }
    return dataclasses.replace(rendered, **changes)
