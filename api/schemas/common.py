"""What every request body shares: the input base model and the validated field types."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from domain.contacts import check_locale, check_phone, check_timezone
from domain.types import EVENT_KEY_PATTERN

Phone = Annotated[str, AfterValidator(check_phone)]
TimeZone = Annotated[str, AfterValidator(check_timezone)]
Locale = Annotated[str, AfterValidator(check_locale)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s/]+$")]
EventKey = Annotated[str, StringConstraints(max_length=200, pattern=EVENT_KEY_PATTERN.pattern)]


class InputModel(BaseModel):
    """The base of every request body: a field the API does not know is a 422, not dropped."""

    model_config = ConfigDict(extra="forbid")
