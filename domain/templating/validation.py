"""Checks run when a template or layout is saved, so that bad ones never reach a render."""

from domain.templating.compiled import CompiledTemplate, template_issues
from domain.templating.errors import TemplateError, TemplateIssue, TemplateValidationError
from domain.templating.layout import layout_issues
from domain.templating.model import EmailLayout, TemplateSource
from domain.templating.sms import sms_segments
from domain.templating.variables import sample_context
from domain.types import Channel

DEFAULT_MAX_SMS_SEGMENTS = 3


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
    issues = _unused_placeholder_issues(source)
    if source.channel == Channel.SMS:
        issues += _sms_length_issues(source, max_sms_segments)
    return issues


def validate_layout(layout: EmailLayout) -> list[TemplateIssue]:
    return layout_issues(layout.html)


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


def _unused_placeholder_issues(source: TemplateSource) -> list[TemplateIssue]:
    # Requiring a variable the template never shows would fail sends for nothing.
    if not source.required_placeholders:
        return []
    used = set(CompiledTemplate(source).variable_names)
    unused = [name for name in source.required_placeholders if name not in used]
    if not unused:
        return []
    return [TemplateIssue("required_placeholders", None, "not used by the template: "
                          + ", ".join(unused))]  # fmt: skip


def _sms_length_issues(source: TemplateSource, max_segments: int) -> list[TemplateIssue]:
    # Measured on the sample data of the event: real messages vary, but a template
    # that is too long with typical values will be too long in production.
    context = sample_context(source.event_key)
    try:
        fields = CompiledTemplate(source).render_fields(context, check_required=False)
    except TemplateError as error:
        return [TemplateIssue("body", None, f"does not render with sample data: {error}")]
    info = sms_segments(fields["body"].strip())
    if info.segments <= max_segments:
        return []
    message = f"SMS body is {info.segments} segments ({info.encoding}); the limit is {max_segments}"
    return [TemplateIssue("body", None, message)]
