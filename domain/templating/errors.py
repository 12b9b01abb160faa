"""Errors raised by the template engine.

Every error here is permanent: retrying the same template with the same
context fails the same way, so callers must not retry them.
"""

import re
from dataclasses import dataclass

# `<built-in method upper of str object at 0x7f...>`, `<Foo object at 0x...>`: innermost first.
_REPR_WITH_ADDRESS = re.compile(r"<[^<>]*\bat 0x[0-9a-fA-F]+>")
_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")


def public_message(message: str) -> str:
    """`message` without Python object reprs or memory addresses, fit to show a tenant."""
    previous = None
    while previous != message:
        previous, message = message, _REPR_WITH_ADDRESS.sub("<object>", message)
    return _ADDRESS.sub("", message)


@dataclass(frozen=True)
class TemplateIssue:
    """One problem found in a template; `field` names the template part (subject, html_body...)."""

    field: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.field}, line {self.line}" if self.line else self.field
        return f"{where}: {self.message}"


class TemplateError(Exception):
    """Base class of every template engine error."""

    retryable = False


class TemplateValidationError(TemplateError):
    """The template (or layout) is refused; `issues` says why."""

    def __init__(self, issues: list[TemplateIssue]):
        self.issues = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues))


class MissingPlaceholdersError(TemplateError):
    """Required placeholders were absent, None or empty in the render context."""

    def __init__(self, missing: list[str]):
        self.missing = sorted(missing)
        super().__init__("missing required placeholders: " + ", ".join(self.missing))


class TemplateRenderError(TemplateError):
    """Rendering failed at run time (bad data for the template, limits exceeded...)."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.detail = message
        super().__init__(f"{field}: {message}")


class TemplateSecurityError(TemplateRenderError):
    """The sandbox stopped the template from reaching something it must not."""


class TemplateLimitError(TemplateSecurityError):
    """The template went past a limit: time, number size, built size, loops or output."""
