"""The delivery policy (PUT /v1/settings/delivery-policy's body) as the Settings page's form,
and back.

A form sends text; the policy holds a list, two objects keyed by event keys, numbers and
booleans. `submitted` reads the form's rows; `checked_policy` types only what is unambiguous
(a number's digits, the select's yes or no) and passes anything else on as written, so that
what refuses it is the API's own model, in the API's words. Each refusal is placed beside the
control it is about: the API names a field by its path in the body (`fallbacks.<key>.
within_minutes`), the form numbers its rows (`fallback-0-within_minutes`), since an event key
holds dots itself.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.schemas.settings import DeliveryPolicySettings
from domain.types import Channel
from services.errors import field_and_problem
from web.forms import FieldErrors

CHANNELS = [(channel.value, channel.value) for channel in Channel]
UNLESS = [("delivered", "delivered"), ("opened", "opened"), ("clicked", "clicked")]
BYPASS = [("yes", "bypasses quiet hours, digests and limits"), ("no", "waits like any other")]
FALLBACK_FIELDS = ("from_channel", "to_channel", "unless", "within_minutes")
BLANK_ROWS = 2  # empty rows the form offers for new entries

_ROW = re.compile(r"^(urgent|fallback)-(\d+)-(\w+)$")
_NUMBER = re.compile(r"^[+-]?(\d{1,12}(\.\d*)?|\.\d+)$")

Row = dict[str, str]  # a row's controls (event_key and the rest) -> their text


@dataclass
class PolicyForm:
    reminder_event_keys: str = ""  # one a line
    urgent: list[Row] = field(default_factory=list)
    fallbacks: list[Row] = field(default_factory=list)
    retry_window_minutes: str = ""

    def with_blank_rows(self) -> "PolicyForm":
        self.urgent += [{"event_key": "", "bypass": "yes"} for _ in range(BLANK_ROWS)]
        self.fallbacks += [
            {"event_key": "", "from_channel": "email", "to_channel": "sms", "unless": "delivered",
             "within_minutes": ""}
            for _ in range(BLANK_ROWS)
        ]  # fmt: skip
        return self


def form_of(policy: DeliveryPolicySettings) -> PolicyForm:
    """The saved policy as the form shows it, with blank rows to add to it."""
    return PolicyForm(
        reminder_event_keys="\n".join(policy.reminder_event_keys),
        urgent=[
            {"event_key": key, "bypass": "yes" if bypass else "no"}
            for key, bypass in sorted(policy.urgent_bypass.items())
        ],
        fallbacks=[
            {"event_key": key, **{name: _text(getattr(rule, name)) for name in FALLBACK_FIELDS}}
            for key, rule in sorted(policy.fallbacks.items())
        ],
        retry_window_minutes=_text(policy.retry_window_minutes),
    ).with_blank_rows()


def submitted(values: dict[str, str]) -> PolicyForm:
    """The form as it was sent, rows in their order (blank ones too: shown again as they were)."""
    rows: dict[tuple[str, int], Row] = {}
    for name, value in values.items():
        found = _ROW.match(name)
        if found:
            kind, number, control = found.group(1), int(found.group(2)), found.group(3)
            rows.setdefault((kind, number), {})[control] = value.strip()
    ordered = sorted(rows.items())
    return PolicyForm(
        reminder_event_keys=values.get("reminder_event_keys", ""),
        urgent=[row for (kind, _), row in ordered if kind == "urgent"],
        fallbacks=[row for (kind, _), row in ordered if kind == "fallback"],
        retry_window_minutes=values.get("retry_window_minutes", "").strip(),
    )


def checked_policy(form: PolicyForm) -> tuple[DeliveryPolicySettings | None, FieldErrors]:
    """The form as the API's body, checked by the API's model; or None and each problem by the
    control it is about."""
    urgent = _keyed(form.urgent, "urgent")
    fallbacks = _keyed(form.fallbacks, "fallback")
    errors = {**urgent.duplicates, **fallbacks.duplicates}
    body: dict[str, Any] = {
        "reminder_event_keys": _listed(form.reminder_event_keys),
        "urgent_bypass": {
            key: {"yes": True, "no": False}.get(row.get("bypass", ""), row.get("bypass"))
            for key, row in urgent.rows.items()
        },
        "fallbacks": {
            key: {
                name: _number(row[name]) if name == "within_minutes" else row[name]
                for name in FALLBACK_FIELDS
                if row.get(name)  # left empty: missing, as the API would say
            }
            for key, row in fallbacks.rows.items()
        },
        "retry_window_minutes": (
            _number(form.retry_window_minutes) if form.retry_window_minutes else None
        ),
    }
    try:
        policy = DeliveryPolicySettings.model_validate(body)
    except ValidationError as invalid:
        for error in invalid.errors():
            place, problem = _placed(error, body, urgent, fallbacks)
            errors.setdefault(place, problem)
        return None, errors
    return (policy, {}) if not errors else (None, errors)


@dataclass
class _Keyed:
    rows: dict[str, Row]  # event key -> its row
    numbers: dict[str, int]  # event key -> the row's number in the form
    duplicates: FieldErrors


def _keyed(rows: list[Row], kind: str) -> _Keyed:
    """The rows with an event key (an empty one: no row), and any key given twice."""
    keyed = _Keyed({}, {}, {})
    for number, row in enumerate(rows):
        key = row.get("event_key", "")
        if not key:
            continue
        if key in keyed.rows:
            keyed.duplicates[f"{kind}-{number}-event_key"] = "is listed twice"
        else:
            keyed.rows[key], keyed.numbers[key] = row, number
    return keyed


def _placed(error: Any, body: dict[str, Any], urgent: _Keyed, fallbacks: _Keyed) -> tuple[str, str]:
    """Which control a refusal goes beside, and what it says: the API's problem (with the
    API's field name when no one control holds it)."""
    name, problem = field_and_problem(error)
    location = error["loc"]
    top = location[0]
    if top == "reminder_event_keys" and len(location) > 1:
        return top, f"“{body[top][location[1]]}”: {problem}"
    if top in ("urgent_bypass", "fallbacks") and len(location) > 1:
        kind, keyed = ("urgent", urgent) if top == "urgent_bypass" else ("fallback", fallbacks)
        row = f"{kind}-{keyed.numbers[location[1]]}"
        if "[key]" in location:  # the event key itself
            return f"{row}-event_key", problem
        if len(location) > 2:
            return f"{row}-{location[2]}", problem
        # the row as a whole: urgent's yes or no, or a fallback's two channels
        return f"{row}-{'bypass' if kind == 'urgent' else 'to_channel'}", problem
    if top in ("reminder_event_keys", "retry_window_minutes"):
        return top, problem
    return "", f"{name}: {problem}"


def _listed(text: str) -> list[str]:
    return [key for key in re.split(r"[\s,]+", text) if key]


def _number(text: str) -> Any:
    """A number's digits as the number; anything else as written (the model names what is
    wrong with it)."""
    if not _NUMBER.match(text):
        return text
    return float(text) if "." in text else int(text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
