"""What every request body shares: the input base model and the validated field types."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
)

from domain.contacts import check_locale, check_not_erased, check_phone, check_timezone
from domain.types import EVENT_KEY_PATTERN

Phone = Annotated[str, AfterValidator(check_phone)]
TimeZone = Annotated[str, AfterValidator(check_timezone)]
Locale = Annotated[str, AfterValidator(check_locale)]
ExternalId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s/]+$"),
    AfterValidator(check_not_erased),
]
EventKey = Annotated[str, StringConstraints(max_length=200, pattern=EVENT_KEY_PATTERN.pattern)]
# An integer that reaches SQL fits PostgreSQL's bigint; a larger one was a 500 (issue 11).
# api/strict_input.py refuses any other in a JSON body; query parameters carry their own bounds.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_DATE_AND_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _date_and_time_text(value: Any) -> Any:
    """A date-time is written as one (RFC 3339), as the schema documents: pydantic alone would
    also take a number of seconds since 1970 (`to=0.5`) or a bare date."""
    if isinstance(value, datetime) or (isinstance(value, str) and _DATE_AND_TIME.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date and time, e.g. 2026-05-01T09:00:00Z")


DateTime = Annotated[datetime, BeforeValidator(_date_and_time_text)]
AwareDateTime = Annotated[AwareDatetime, BeforeValidator(_date_and_time_text)]


class InputModel(BaseModel):
    """The base of every request body: a field the API does not know is a 422, not dropped."""

    model_config = ConfigDict(extra="forbid")
