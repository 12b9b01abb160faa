"""The template editor's form: what it submits, read into the API's request bodies
(TemplateCreate, TemplateUpdate) or into a draft to preview, and the problems shown beside each
field, each at its line when it has one (`line 3: syntax error ...`)."""

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel

from api.schemas.templates import TemplateCreate, TemplateUpdate
from domain.templating import TemplateSource
from domain.templating.fallbacks import fallbacks_as_lines, fallbacks_from_lines
from domain.templating.model import OPTIONAL_FIELDS, REQUIRED_FIELDS, TEMPLATE_FIELDS
from domain.types import Channel
from services.errors import ServiceError
from web.forms import checked

# Label and hint of each template field, by channel where the words differ.
FIELD_LABELS = {
    "subject": {"email": "Subject", "push": "Title (optional)", "in_app": "Title",
                "chat": "Title (optional)", "webhook": "Title (optional)"},
    "html_body": {"email": "HTML body"},
    "text_body": {"email": "Text body (optional: derived from the HTML when empty)"},
    "body": {"sms": "Message", "push": "Message", "in_app": "Message",
             "chat": "Message (the platform's markdown)", "webhook": "Message"},
    "action_url": {"in_app": "Link (optional)", "push": "Link (optional)",
                   "chat": "Link (optional)", "webhook": "Link (optional)"},
    "icon": {"push": "Icon URL (optional: https)"},
}  # fmt: skip
_LINE = re.compile(r"^line (\d+): (.*)$", re.DOTALL)
_NAMES = re.compile(r"[\s,]+")


def channel_fields(channel: str) -> tuple[str, ...]:
    """The template fields a channel uses, in the order the editor shows them."""
    try:
        known = Channel(channel)
    except ValueError:
        return ()
    used = REQUIRED_FIELDS[known] + OPTIONAL_FIELDS[known]
    return tuple(name for name in TEMPLATE_FIELDS if name in used)  # the title first


@dataclass(frozen=True)
class Problem:
    text: str
    line: int | None = None  # the field's line it is at, from 1


Problems = dict[str, list[Problem]]  # field -> its problems; "" for the form's own


def problem(text: str) -> Problem:
    """`line 3: unexpected '}'` as the problem at line 3."""
    found = _LINE.match(text)
    return Problem(found.group(2), int(found.group(1))) if found else Problem(text)


def refusal_problems(refused: ServiceError) -> Problems:
    """A service's refusal beside the fields it names: every one of a template's issues."""
    pairs = refused.problems or [(refused.field or "", refused.message)]
    problems: Problems = {}
    for name, text in pairs:
        prefix = f"{name}: "
        problems.setdefault(name, []).append(problem(text.removeprefix(prefix)))
    return problems


@dataclass
class TemplateForm:
    """What the editor submitted, kept as typed so that a refused form shows it again."""

    values: dict[str, str]
    required: list[str] = field(default_factory=list)  # required_placeholders
    fallbacks: dict[str, str] = field(default_factory=dict)
    problems: Problems = field(default_factory=dict)  # found reading the form itself

    @property
    def channel(self) -> str:
        return self.values.get("channel", "")

    @property
    def event_key(self) -> str:
        return self.values.get("event_key", "")

    def content(self) -> dict[str, Any]:
        """The fields a save replaces, for this channel; an empty optional field is None."""
        content: dict[str, Any] = {
            name: self.values.get(name) or None for name in channel_fields(self.channel)
        }
        return content | {
            "name": self.values.get("name", ""),
            "locale": self.values.get("locale") or "en",
            "required_placeholders": self.required,
            "fallbacks": self.fallbacks,
            "is_active": "is_active" in self.values,
            "is_default": "is_default" in self.values,
        }

    def draft(self) -> TemplateSource:
        """The content as a template to preview (a channel this form knows, checked first)."""
        content = self.content()
        return TemplateSource(
            version_id="draft",
            name=content["name"] or "draft",
            event_key=self.event_key,
            channel=Channel(self.channel),
            locale=content["locale"],
            required_placeholders=tuple(self.required),
            fallbacks=self.fallbacks,
            **{name: content[name] for name in channel_fields(self.channel)},
        )


async def read_template_form(request: Request) -> TemplateForm:
    form = await request.form()
    values = {name: value for name, value in form.items() if isinstance(value, str)}
    values.pop("csrf_token", None)
    required = [name for name in form.getlist("required_placeholders") if isinstance(name, str)]
    required += [name for name in _NAMES.split(values.get("required_other", "")) if name]
    fallbacks, lines = fallbacks_from_lines(values.get("fallbacks", ""))
    problems = {"fallbacks": [problem(text) for text in lines]} if lines else {}
    return TemplateForm(values, list(dict.fromkeys(required)), fallbacks, problems)


def form_of(template: Any) -> TemplateForm:
    """A saved template (or a version, or Herald's own wording) as the editor shows it."""
    values = {
        name: str(value)
        for name in ("name", "event_key", "channel", "locale", "owner_id", *TEMPLATE_FIELDS)
        if (value := getattr(template, name, None)) is not None
    }
    values["fallbacks"] = fallbacks_as_lines(template.fallbacks)
    for flag in ("is_active", "is_default"):
        if getattr(template, flag, flag == "is_active"):
            values[flag] = "on"
    return TemplateForm(values, list(template.required_placeholders), dict(template.fallbacks))


def as_create(form: TemplateForm) -> tuple[TemplateCreate | None, Problems]:
    body = form.content() | {
        "event_key": form.event_key,
        "channel": form.channel,
        "owner_id": form.values.get("owner_id") or None,
    }
    return _checked(TemplateCreate, body, form)


def as_update(form: TemplateForm) -> tuple[TemplateUpdate | None, Problems]:
    return _checked(TemplateUpdate, form.content(), form)


Body = TypeVar("Body", bound=BaseModel)


def _checked(
    model: type[Body], body: dict[str, Any], form: TemplateForm
) -> tuple[Body | None, Problems]:
    parsed, errors = checked(model, body)
    problems: Problems = {}
    for name, text in errors.items():
        # `required_placeholders.0: ...` beside required_placeholders, naming the item.
        top, _, item = name.partition(".")
        problems.setdefault(top, []).append(problem(f"{item}: {text}" if item else text))
    for name, found in form.problems.items():
        problems.setdefault(name, []).extend(found)
    if problems:
        return None, problems
    return parsed, {}
