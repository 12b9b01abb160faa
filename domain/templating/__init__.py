"""Herald's template engine: pure (no I/O, no clock), sandboxed Jinja2.

Typical use: validate a template when it is saved (validate_template), then
render it for each notification with one shared TemplateRenderer.
"""

from domain.templating.context import notification_variables
from domain.templating.defaults import DEFAULT_EMAIL_LAYOUT, default_template, shipped_template
from domain.templating.errors import (
    MissingPlaceholdersError,
    TemplateError,
    TemplateIssue,
    TemplateRenderError,
    TemplateSecurityError,
    TemplateValidationError,
)
from domain.templating.html_text import derive_text_from_html
from domain.templating.locales import resolve_locale
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
from domain.templating.renderer import TemplateRenderer
from domain.templating.selection import choose_template
from domain.templating.sms import SmsInfo, sms_segments
from domain.templating.times import booking_time_variables
from domain.templating.validation import (
    require_valid_layout,
    require_valid_template,
    validate_layout,
    validate_template,
)
from domain.templating.variables import catalogue, flatten_custom_answers, sample_context

__all__ = [
    "DEFAULT_EMAIL_LAYOUT",
    "EmailLayout",
    "MissingPlaceholdersError",
    "Rendered",
    "RenderedChat",
    "RenderedEmail",
    "RenderedInApp",
    "RenderedPush",
    "RenderedSms",
    "RenderedWebhook",
    "SmsInfo",
    "TemplateError",
    "TemplateIssue",
    "TemplateRenderError",
    "TemplateRenderer",
    "TemplateSecurityError",
    "TemplateSource",
    "TemplateValidationError",
    "booking_time_variables",
    "catalogue",
    "choose_template",
    "default_template",
    "derive_text_from_html",
    "flatten_custom_answers",
    "notification_variables",
    "require_valid_layout",
    "require_valid_template",
    "resolve_locale",
    "sample_context",
    "shipped_template",
    "sms_segments",
    "validate_layout",
    "validate_template",
]
