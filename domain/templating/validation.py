"""Checks run when a template or layout is saved, so that bad ones never reach a render.

Every field is parsed and checked (static_checks.py), compiled (with the layout, for email),
and rendered once with the event's sample data within the render budget: a template that
cannot compile, or that goes past a limit with typical data, is refused with its field named.
"""

from typing import Any

from jinja2 import meta

from domain.templating.compiled import CompiledTemplate, environment_for, template_issues
from domain.templating.errors import (
    TemplateError,
    TemplateIssue,
    TemplateRenderError,
    TemplateSecurityError,
    TemplateValidationError,
)
from domain.templating.icons import ICON_FIELD, icon_problem
from domain.templating.layout import LAYOUT_FIELD, layout_issues
from domain.templating.model import EmailLayout, TemplateSource
from domain.templating.sms import sms_segments
from domain.templating.variables import sample_context
from domain.types import Channel

DEFAULT_MAX_SMS_SEGMENTS = 3
# What a layout is checked with: a body that adds nothing of its own.
_LAYOUT_PROBE = TemplateSource(
    "layout-probe", "layout", "booking.confirmation", Channel.EMAIL, subject="-", html_body="-"
)


def validate_template(
    source: TemplateSource,
    layout: EmailLayout | None = None,
    *,
    max_sms_segments: int = DEFAULT_MAX_SMS_SEGMENTS,
) -> list[TemplateIssue]:
    """Every issue that would make Herald refuse `source`; empty when it is fine."""
    issues = template_issues(source, layout)
    if issues:
        return issues
    try:
        compiled = CompiledTemplate(source, layout)
    except TemplateValidationError as error:
        return error.issues
    return validate_compiled(compiled, max_sms_segments=max_sms_segments)


def validate_compiled(
    compiled: CompiledTemplate, *, max_sms_segments: int = DEFAULT_MAX_SMS_SEGMENTS
) -> list[TemplateIssue]:
    """What `validate_template` checks once the template has compiled (compiling checked its
    shape and syntax): for a caller that keeps the compiled template to render it."""
    source = compiled.source
    issues = _unused_placeholder_issues(source)
    sample = sample_context(source.event_key)
    try:
        # Measured on the sample data of the event: real messages vary, but a template
        # that is too long or too costly with typical values will be so in production.
        fields = compiled.render_fields(sample, check_required=False)
    except TemplateSecurityError as error:  # a limit (time, size, loops) or an unsafe access
        return [*issues, render_issue(error)]
    except TemplateRenderError as error:
        # Other failures depend on the data (a real context may well have what the sample
        # lacks); an SMS body is measured on the sample, so it must render with it.
        if source.channel == Channel.SMS:
            return [*issues, render_issue(error)]
        return issues
    if source.channel == Channel.SMS:
        issues += _sms_length_issues(fields["body"], max_sms_segments)
    if ICON_FIELD in fields:
        issues += _icon_issues(source, fields[ICON_FIELD], sample)
    return issues


def validate_layout(layout: EmailLayout) -> list[TemplateIssue]:
    """Syntax, security, the `{{ content }}` slot, and that it compiles and renders in budget."""
    issues = layout_issues(layout.html)
    if issues:
        return issues
    try:
        CompiledTemplate(_LAYOUT_PROBE, layout).render_fields(
            sample_context(_LAYOUT_PROBE.event_key), check_required=False
        )
    except TemplateValidationError as error:
        return [TemplateIssue(LAYOUT_FIELD, issue.line, issue.message) for issue in error.issues]
    except TemplateSecurityError as error:
        return [TemplateIssue(LAYOUT_FIELD, None, render_issue(error).message)]
    except TemplateError:
        pass  # depends on the data, as for templates
    return []


def require_valid_template(
    source: TemplateSource, layout: EmailLayout | None = None, **limits: int
) -> None:
    issues = validate_template(source, layout, **limits)
    if issues:
        raise TemplateValidationError(issues)


def require_valid_layout(layout: EmailLayout) -> None:
    issues = validate_layout(layout)
    if issues:
        raise TemplateValidationError(issues)


def render_issue(error: TemplateRenderError) -> TemplateIssue:
    """A render that failed with the event's sample data, as an issue of its field."""
    return TemplateIssue(error.field, None, f"does not render with sample data: {error.detail}")


def _unused_placeholder_issues(source: TemplateSource) -> list[TemplateIssue]:
    # Requiring a variable the template never shows would fail sends for nothing.
    if not source.required_placeholders:
        return []
    used: set[str] = set()
    for field, text in source.field_sources().items():
        used |= meta.find_undeclared_variables(environment_for(field).parse(text))
    unused = [name for name in source.required_placeholders if name not in used]
    if not unused:
        return []
    return [TemplateIssue("required_placeholders", None, "not used by the template: "
                          + ", ".join(unused))]  # fmt: skip


def _icon_issues(source: TemplateSource, icon: str, sample: dict[str, Any]) -> list[TemplateIssue]:
    # Judged on the sample only when the sample gives every variable the icon reads: one it
    # lacks renders as its fallback (`N/A`), which says nothing of real sends (checked then).
    environment = environment_for(ICON_FIELD)
    read = meta.find_undeclared_variables(environment.parse(source.icon or ""))
    problem = icon_problem(icon.strip())
    if problem is None or not read <= sample.keys() | environment.globals.keys():
        return []
    return [TemplateIssue(ICON_FIELD, None, problem)]


def _sms_length_issues(body: str, max_segments: int) -> list[TemplateIssue]:
    info = sms_segments(body.strip())
    if info.segments <= max_segments:
        return []
    message = f"SMS body is {info.segments} segments ({info.encoding}); the limit is {max_segments}"
    return [TemplateIssue("body", None, message)]
