"""What every request body shares: the input base model and the validated field types."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from api.strict_input import INT64_MAX
from domain.contacts import check_locale, check_phone, check_timezone
from domain.types import EVENT_KEY_PATTERN

Phone = Annotated[str, AfterValidator(check_phone)]
TimeZone = Annotated[str, AfterValidator(check_timezone)]
Locale = Annotated[str, AfterValidator(check_locale)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s/]+$")]
EventKey = Annotated[str, StringConstraints(max_length=200, pattern=EVENT_KEY_PATTERN.pattern)]
# An integer that reaches SQL fits PostgreSQL's bigint; a larger one was a 500 (issue 11).
# Wrap it as Annotated[NonNegativeInt64, Query(...)] for a query parameter.
NonNegativeInt64 = Annotated[int, Field(ge=0, le=INT64_MAX)]


class InputModel(BaseModel):
    """The base of every request body: a field the API does not know is a 422, not dropped."""

    model_config = ConfigDict(extra="forbid")
