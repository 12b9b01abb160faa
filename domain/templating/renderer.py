"""Render templates into channel messages, compiling each template version once."""

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from domain.templating.compiled import HTML_FIELD, TEXT_FIELD, CompiledTemplate
from domain.templating.errors import TemplateRenderError
from domain.templating.icons import ICON_FIELD, icon_problem
from domain.templating.model import (
    EmailLayout,
    Rendered,
    RenderedChat,
    RenderedEmail,
    RenderedInApp,
    RenderedPush,
    RenderedSms,
    RenderedWebhook,
    TemplateSource,
)
from domain.templating.sms import sms_segments
from domain.types import Channel

DEFAULT_CACHE_SIZE = 512


class TemplateRenderer:
    """Thread-safe; keep one per process so compiled templates are shared.

    Compiled templates are cached by version id (and layout version id for
    email), least recently used first out. A template edit gets a new version
    id, so stale entries simply age out; `invalidate` drops one at once.
    """

    def __init__(self, cache_size: int = DEFAULT_CACHE_SIZE):
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str | None], CompiledTemplate] = OrderedDict()
        self._lock = threading.Lock()

    def render(
        self,
        source: TemplateSource,
        context: Mapping[str, Any],
        layout: EmailLayout | None = None,
    ) -> Rendered:
        """Raises MissingPlaceholdersError, TemplateValidationError or TemplateRenderError
        (a push icon that renders to anything but an https URL or nothing, too).

        Compiling (once per version) and rendering each have a time budget (budget.py); call
        it through render_thread.in_render_thread from async code."""
        fields = self.compiled(source, layout).render_fields(context)
        return _assemble(source.channel, fields)

    def compiled(
        self, source: TemplateSource, layout: EmailLayout | None = None
    ) -> CompiledTemplate:
        layout = layout if source.channel == Channel.EMAIL else None
        key = (source.version_id, layout.version_id if layout else None)
        with self._lock:
            compiled = self._cache.get(key)
            if compiled is not None:
                self._cache.move_to_end(key)
                return compiled
        # Compile outside the lock: two threads may compile the same version at once,
        # which only wastes a little work, while one slow compile blocks nobody.
        compiled = CompiledTemplate(source, layout)
        with self._lock:
            self._cache[key] = compiled
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return compiled

    def invalidate(self, version_id: str) -> None:
        """Forget the compiled template (or layout) with this version id."""
        with self._lock:
            for key in [key for key in self._cache if version_id in key]:
                del self._cache[key]

    def is_cached(self, version_id: str) -> bool:
        with self._lock:
            return any(version_id in key for key in self._cache)


def _assemble(channel: Channel, fields: dict[str, str]) -> Rendered:
    if channel == Channel.EMAIL:
        return RenderedEmail(
            subject=_one_line(fields["subject"]),
            html=fields[HTML_FIELD],
            text=fields[TEXT_FIELD].strip(),
        )
    body = fields["body"].strip()
    if channel == Channel.SMS:
        return RenderedSms(body=body, info=sms_segments(body))
    action_url = fields.get("action_url", "").strip() or None
    if channel == Channel.IN_APP:
        return RenderedInApp(title=_one_line(fields["subject"]), body=body, action_url=action_url)
    # Push, chat and webhook: the title is optional.
    title = _one_line(fields.get("subject", "")) or None
    if channel == Channel.PUSH:
        icon = fields.get(ICON_FIELD, "").strip()
        problem = icon_problem(icon)
        if problem:
            raise TemplateRenderError(ICON_FIELD, problem)
        return RenderedPush(title=title, body=body, action_url=action_url, icon=icon or None)
    if channel == Channel.CHAT:
        return RenderedChat(title=title, text=body, action_url=action_url)
    return RenderedWebhook(title=title, body=body, action_url=action_url)


def _one_line(text: str) -> str:
    # Subjects and titles are single lines; a newline from the context must not
    # reach an email header.
    return " ".join(text.split())
