"""Herald's shipped default templates, used when a tenant has none for an event and channel."""

import json
from hashlib import sha256

from domain.templating.default_booking_templates import BOOKING_TEMPLATES
from domain.templating.default_layout import DEFAULT_EMAIL_LAYOUT
from domain.templating.default_other_templates import (
    AGENDA_TEMPLATES,
    GENERIC_FALLBACKS,
    GENERIC_TEMPLATE,
    PAYMENT_TEMPLATES,
)
from domain.templating.model import TemplateSource
from domain.types import EVENT_KEY_PATTERN, Channel

DEFAULT_LOCALE = "en"
DEFAULT_TEMPLATES = BOOKING_TEMPLATES | PAYMENT_TEMPLATES | AGENDA_TEMPLATES

__all__ = ["DEFAULT_EMAIL_LAYOUT", "DEFAULT_TEMPLATES", "default_template"]


def default_template(event_key: str, channel: Channel | str) -> TemplateSource | None:
    """The shipped template for this event and channel.

    Unknown (custom) event keys get the generic template, which shows the
    context's `title` and `message`. Push reuses the in-app wording. None for
    an invalid event key or channel.
    """
    try:
        channel = Channel(channel)
    except ValueError:
        return None
    if not EVENT_KEY_PATTERN.match(event_key):
        return None
    known = event_key in DEFAULT_TEMPLATES
    by_channel = DEFAULT_TEMPLATES[event_key] if known else GENERIC_TEMPLATE
    fields = dict(by_channel["in_app" if channel == Channel.PUSH else channel.value])
    if channel == Channel.PUSH:
        fields.pop("action_url", None)
    fallbacks = {} if known else GENERIC_FALLBACKS
    return TemplateSource(
        version_id=_version_id(event_key, channel, fields, fallbacks),
        name=f"Herald default: {event_key} ({channel})",
        event_key=event_key,
        channel=channel,
        locale=DEFAULT_LOCALE,
        fallbacks=fallbacks,
        **fields,
    )


def _version_id(event_key: str, channel: Channel, fields: dict, fallbacks: dict) -> str:
    # Derived from the content, so a Herald release that changes a default
    # template gets a new version id and never renders a stale compiled copy.
    content = json.dumps([event_key, channel, fields, fallbacks], sort_keys=True)
    return f"herald-default:{event_key}:{channel}:{sha256(content.encode()).hexdigest()[:16]}"
