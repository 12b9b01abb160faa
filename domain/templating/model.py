"""The template engine's inputs (template and layout sources) and outputs (rendered messages)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from domain.templating.errors import TemplateIssue
from domain.templating.sms import SmsInfo
from domain.types import EVENT_KEY_PATTERN, Channel

# The template parts that hold Jinja source, in the order they are checked and reported.
TEMPLATE_FIELDS = ("subject", "html_body", "text_body", "body", "action_url", "icon")

# Per channel: the fields it must have, and the optional ones it also uses.
REQUIRED_FIELDS = {
    Channel.EMAIL: ("subject", "html_body"),
    Channel.SMS: ("body",),
    Channel.PUSH: ("body",),
    Channel.IN_APP: ("subject", "body"),
    Channel.CHAT: ("body",),
    Channel.WEBHOOK: ("body",),
}
OPTIONAL_FIELDS = {
    Channel.EMAIL: ("text_body",),
    Channel.SMS: (),
    Channel.PUSH: ("subject", "action_url", "icon"),
    Channel.IN_APP: ("action_url",),
    Channel.CHAT: ("subject", "action_url"),
    Channel.WEBHOOK: ("subject", "action_url"),
}


@dataclass(frozen=True)
class TemplateSource:
    """One stored version of a template.

    `version_id` identifies this exact content: an edit must produce a new id,
    because compiled templates are cached by it. `subject` is the email subject and the
    push, in-app, chat and webhook title; `body` the text of every channel but email (chat:
    in the platform's markdown); `action_url` the link of in-app, push, chat and webhook
    messages, and `icon` the push icon's URL (both templates too; an icon must render to an
    https URL or nothing).
    """

    version_id: str
    name: str
    event_key: str
    channel: Channel
    locale: str = "en"
    subject: str | None = None
    html_body: str | None = None
    text_body: str | None = None
    body: str | None = None
    action_url: str | None = None
    icon: str | None = None
    required_placeholders: tuple[str, ...] = ()
    fallbacks: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        # Accept plain strings, lists and dicts from callers but keep the instance immutable.
        object.__setattr__(self, "channel", Channel(self.channel))
        object.__setattr__(self, "required_placeholders", tuple(self.required_placeholders))
        object.__setattr__(self, "fallbacks", MappingProxyType(dict(self.fallbacks)))

    def field_sources(self) -> dict[str, str]:
        """The Jinja sources this template has, by field name."""
        return {name: text for name in TEMPLATE_FIELDS if (text := getattr(self, name)) is not None}


def structure_issues(source: TemplateSource) -> list[TemplateIssue]:
    """Problems with the template's shape: its event key, names, and fields for its channel."""
    issues = []
    if not EVENT_KEY_PATTERN.match(source.event_key):
        issues.append(TemplateIssue("event_key", None, "must be dotted lowercase words"))
    required, optional = REQUIRED_FIELDS[source.channel], OPTIONAL_FIELDS[source.channel]
    for name in TEMPLATE_FIELDS:
        text = getattr(source, name)
        if name in required and not (text and text.strip()):
            issues.append(TemplateIssue(name, None, f"required for {source.channel} templates"))
        elif text is not None and name not in required + optional:
            issues.append(TemplateIssue(name, None, f"not used by {source.channel} templates"))
    for kind, names in (("required_placeholders", source.required_placeholders),
                        ("fallbacks", source.fallbacks)):  # fmt: skip
        bad = [name for name in names if not name.isidentifier() or name.startswith("_")]
        if bad:
            issues.append(TemplateIssue(kind, None, "not variable names: " + ", ".join(bad)))
    return issues


@dataclass(frozen=True)
class EmailLayout:
    """A tenant's email frame: HTML with exactly one `{{ content }}` where the body goes."""

    version_id: str
    html: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class RenderedSms:
    body: str
    info: SmsInfo


@dataclass(frozen=True)
class RenderedPush:
    title: str | None
    body: str
    action_url: str | None = None
    icon: str | None = None  # an https URL (checked when rendered)


@dataclass(frozen=True)
class RenderedInApp:
    title: str
    body: str
    action_url: str | None


@dataclass(frozen=True)
class RenderedChat:
    """`text` in the platform's markdown; the chat providers build blocks (Slack's, a Teams
    Adaptive Card) from the title, text and link."""

    title: str | None
    text: str
    action_url: str | None


@dataclass(frozen=True)
class RenderedWebhook:
    title: str | None
    body: str
    action_url: str | None


Rendered = (
    RenderedEmail | RenderedSms | RenderedPush | RenderedInApp | RenderedChat | RenderedWebhook
)
