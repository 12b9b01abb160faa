"""What a template shows for an optional variable that the context does not provide."""

from collections.abc import Mapping
from typing import Any

from jinja2 import ChainableUndefined
from jinja2.exceptions import TemplateRuntimeError, UndefinedError
from jinja2.utils import missing

PERSON_FALLBACK = "Guest"
TIME_FALLBACK = "TBD"
GENERIC_FALLBACK = "N/A"

PERSON_NAMES = frozenset({"invitee_name", "recipient_name", "customer_name"})
TIME_NAMES = frozenset({"start_time", "end_time", "duration", "date", "time"})
TIME_SUFFIXES = ("_time", "_time_invitee", "_date", "_date_invitee")


def default_fallback(name: str) -> str:
    if name in PERSON_NAMES:
        return PERSON_FALLBACK
    if name in TIME_NAMES or name.endswith(TIME_SUFFIXES):
        return TIME_FALLBACK
    return GENERIC_FALLBACK


def fallback_text(name: str, overrides: Mapping[str, str]) -> str:
    """The template's own fallback for `name` if it set one, else Herald's default."""
    override = overrides.get(name)
    return override if override is not None else default_fallback(name)


class FallbackUndefined(ChainableUndefined):
    """A missing value: false in `{% if %}`, honoured by `|default`, printed as its fallback.

    Being an Undefined (rather than a plain fallback string put in the context)
    is what keeps `{% if meeting_link %}` false when the link is missing.
    Chainable, so `booking.missing.deeper` prints a fallback instead of failing.
    """

    __slots__ = ("_fallback_text",)
    _fallback_text: str

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
        text: str | None = None,
    ) -> None:
        super().__init__(hint=hint, obj=obj, name=name, exc=exc)
        if text is None and name is None:
            text = ""  # not a missing variable, e.g. `{{ 'x' if flag }}` with flag false
        elif text is None:
            text = default_fallback(name) if isinstance(name, str) else GENERIC_FALLBACK
        self._fallback_text = text

    def __str__(self) -> str:
        return self._fallback_text


def fallbacks_as_lines(fallbacks: Mapping[str, str]) -> str:
    """`name = text`, one a line: how the dashboard writes a template's fallbacks."""
    return "\n".join(f"{name} = {text}" for name, text in fallbacks.items())


def fallbacks_from_lines(text: str) -> tuple[dict[str, str], list[str]]:
    """What `fallbacks_as_lines` wrote (blank lines skipped), and each line that is not
    `name = text` as a problem naming it (`line 2: ...`)."""
    fallbacks: dict[str, str] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        name = name.strip()
        if not equals or not name:
            problems.append(f"line {number}: write it as name = text")
        elif name in fallbacks:
            problems.append(f"line {number}: {name} has a fallback already")
        else:
            fallbacks[name] = value.strip()
    return fallbacks, problems
