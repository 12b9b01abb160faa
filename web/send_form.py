"""The Send page's form, read into what the service sends (services/manual_send.ManualSend):
the API's request body (NotificationCreate, so its problems are the API's, in its words) built
from the form's fields, and each problem beside the field it is about.

Fields: event_key, template_id, recipient (an external id), channels (checkboxes), priority,
send_at (the form's UTC date and time), `context.<name>` per variable (a list or an object
typed as JSON), context_json (more context, a JSON object), idempotency_key (drawn when the
form is shown: the same form sent twice sends once)."""

import json
import re
import uuid
from typing import Any

from api.schemas.notifications import NotificationCreate
from services.errors import ServiceError
from services.manual_send import ManualSend, context_fields
from web.forms import FieldErrors, checked, refusal_errors

CONTEXT_PREFIX = "context."
_WITHOUT_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
# The API's names for what the form calls otherwise.
_FORM_FIELD = {"recipient.external_id": "recipient", "context": "context_json"}


def read_send_form(
    values: dict[str, str], channels: list[str]
) -> tuple[ManualSend | None, FieldErrors]:
    """The send the form asks for, or None and each field's problem."""
    errors: FieldErrors = {}
    event_key = values.get("event_key", "").strip()
    context = _context(values, event_key, errors)
    body: dict[str, Any] = {
        "recipient": {"external_id": values["recipient"].strip()}
        if values.get("recipient")
        else {},
        "event_key": event_key,
        "priority": values.get("priority") or "normal",
        "context": context,
    }
    if channels:
        body["channels"] = channels
    if values.get("send_at"):
        body["send_at"] = _in_utc(values["send_at"].strip())
    request, problems = checked(NotificationCreate, body)
    for field, text in problems.items():
        errors.setdefault(_form_field(field), text)
    template_id = _template_id(values, errors)
    if errors or request is None:
        return None, errors
    key = values.get("idempotency_key") or f"dashboard-{uuid.uuid4()}"
    return ManualSend(request, template_id, key), {}


def read_preview_form(
    values: dict[str, str],
) -> tuple[uuid.UUID | None, dict[str, Any], FieldErrors]:
    """What a preview needs of the form: the template and the context (no recipient yet)."""
    errors: FieldErrors = {}
    context = _context(values, values.get("event_key", "").strip(), errors)
    template_id = _template_id(values, errors)
    if template_id is None and "template_id" not in errors:
        errors["template_id"] = "choose a template to preview it"
    return template_id, context, errors


def _template_id(values: dict[str, str], errors: FieldErrors) -> uuid.UUID | None:
    if not values.get("template_id"):
        return None
    try:
        return uuid.UUID(values["template_id"])
    except ValueError:
        errors["template_id"] = "is not a template id"
        return None


def _form_field(field: str) -> str:
    """The form's name for a field the API names (`channels.0` is the channels' checkboxes)."""
    if field.startswith("channels."):
        return "channels"
    return _FORM_FIELD.get(field, field)


def _in_utc(typed: str) -> str:
    """The form's date and time, in UTC as the page says (a time with an offset as it is)."""
    if _WITHOUT_OFFSET.match(typed):
        return typed + ("Z" if typed.count(":") == 2 else ":00Z")
    return typed


def _context(values: dict[str, str], event_key: str, errors: FieldErrors) -> dict[str, Any]:
    """The context fields filled in (a JSON one parsed), with the JSON object of more."""
    as_json = {f.name for f in context_fields(event_key, None) if f.as_json} if event_key else set()
    context: dict[str, Any] = {}
    extra = values.get("context_json", "").strip()
    if extra:
        try:
            parsed = json.loads(extra)
        except ValueError as error:
            errors["context_json"] = f"is not JSON: {error}"
        else:
            if isinstance(parsed, dict):
                context |= parsed
            else:
                errors["context_json"] = "must be a JSON object ({...})"
    for name, value in values.items():
        if not name.startswith(CONTEXT_PREFIX) or not value.strip():
            continue
        variable = name[len(CONTEXT_PREFIX) :]
        if variable not in as_json:
            context[variable] = value
            continue
        try:
            context[variable] = json.loads(value)
        except ValueError as error:
            errors[name] = f"is not JSON: {error}"
    return context


def send_refusal_errors(refused: ServiceError) -> FieldErrors:
    """A refusal of the send beside its fields, in the form's names."""
    errors = dict(refused.problems) or refusal_errors(refused)
    return {_form_field(field): text for field, text in errors.items()}
