"""Herald's shipped default templates, used when a tenant has none for an event and channel."""

import json
from collections.abc import Mapping
from functools import lru_cache
from hashlib import sha256
from typing import Any

from domain.templating.compiled import is_blank
from domain.templating.default_booking_templates import BOOKING_TEMPLATES
from domain.templating.default_layout import DEFAULT_EMAIL_LAYOUT
from domain.templating.default_operator_templates import OPERATOR_TEMPLATES
from domain.templating.default_other_templates import (
    AGENDA_TEMPLATES,
    GENERIC_FALLBACKS,
    GENERIC_TEMPLATE,
    OWN_WORDING_TEMPLATE,
    PAYMENT_TEMPLATES,
)
from domain.templating.model import TemplateSource
from domain.types import EVENT_KEY_PATTERN, Channel

DEFAULT_LOCALE = "en"
DEFAULT_TEMPLATES = BOOKING_TEMPLATES | PAYMENT_TEMPLATES | AGENDA_TEMPLATES | OPERATOR_TEMPLATES
# Channels whose shipped templates are another channel's wording: short texts with a link.
_WORDING_OF = {Channel.PUSH: Channel.IN_APP, Channel.CHAT: Channel.IN_APP,
               Channel.WEBHOOK: Channel.IN_APP}  # fmt: skip

__all__ = ["DEFAULT_EMAIL_LAYOUT", "DEFAULT_TEMPLATES", "default_template", "shipped_template"]


def shipped_template(
    event_key: str, channel: Channel | str, context: Mapping[str, Any]
) -> TemplateSource | None:
    """What Herald sends when the tenant has no template for this event and channel.

    A context that brings its own `message` (with a `subject` or `title`) is sent as
    written, even for an event Herald has a default for: the sender chose the wording.
    Otherwise the event's default template. None for an invalid event key or channel.
    """
    if is_blank(context.get("message")):
        return default_template(event_key, channel)
    return _own_wording_template(event_key, channel)


@lru_cache(maxsize=1024)  # sends call this for every delivery without a tenant template
def default_template(event_key: str, channel: Channel | str) -> TemplateSource | None:
    """The shipped template for this event and channel.

    Unknown (custom) event keys get the generic template, which shows the
    context's `title` and `message`. Push, chat and webhook reuse the in-app wording
    (title, text and link; no icon). None for an invalid event key or channel.
    """
    try:
        channel = Channel(channel)
    except ValueError:
        return None
    if not EVENT_KEY_PATTERN.match(event_key):
        return None
    if event_key in DEFAULT_TEMPLATES:
        return _shipped(event_key, channel, DEFAULT_TEMPLATES[event_key], {}, "default")
    return _shipped(event_key, channel, GENERIC_TEMPLATE, GENERIC_FALLBACKS, "default")


@lru_cache(maxsize=1024)
def _own_wording_template(event_key: str, channel: Channel | str) -> TemplateSource | None:
    default = default_template(event_key, channel)
    if default is None:
        return None
    title = event_key.replace(".", " ").replace("_", " ").capitalize()
    fallbacks = {"title": title, "message": ""}
    return _shipped(event_key, default.channel, OWN_WORDING_TEMPLATE, fallbacks, "own wording")


def _shipped(
    event_key: str,
    channel: Channel,
    by_channel: Mapping[str, Mapping[str, str]],
    fallbacks: dict[str, str],
    kind: str,
) -> TemplateSource:
    # Any: the shipped fields are strings, spread over TemplateSource's keyword fields.
    fields: dict[str, Any] = dict(by_channel[_WORDING_OF.get(channel, channel).value])
    return TemplateSource(
        version_id=_version_id(event_key, channel, fields, fallbacks),
        name=f"Herald {kind}: {event_key} ({channel})",
        event_key=event_key,
        channel=channel,
        locale=DEFAULT_LOCALE,
        fallbacks=fallbacks,
        **fields,
    )


def _version_id(
    event_key: str, channel: Channel, fields: dict[str, str], fallbacks: dict[str, str]
) -> str:
    # Derived from the content, so a Herald release that changes a default
    # template gets a new version id and never renders a stale compiled copy.
    content = json.dumps([event_key, channel, fields, fallbacks], sort_keys=True)
    return f"herald-default:{event_key}:{channel}:{sha256(content.encode()).hexdigest()[:16]}"
