"""The refusals a use case can answer with. Each names the problem (and the field, when one
is at fault); the API maps each kind to its HTTP status in one place (api/errors.py)."""

from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_core import ErrorDetails


class ServiceError(Exception):
    """`field` names the input at fault; `problems` each of several, as (field, problem)
    pairs (a template refused for its subject and its body at once), when there are more."""

    code = "error"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        code: str | None = None,
        problems: Sequence[tuple[str, str]] = (),
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = tuple(problems)
        if code is not None:
            self.code = code


class Invalid(ServiceError):
    """The request is well-formed but its content cannot be accepted (422)."""

    code = "validation_error"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    """The request conflicts with what is already recorded (409)."""

    code = "conflict"


class Gone(ServiceError):
    """The thing exists but has ended; it changes no more (410)."""

    code = "gone"


class Forbidden(ServiceError):
    code = "forbidden"


class Unavailable(ServiceError):
    """A service Herald depends on is missing or unreachable; the request may be retried (503)."""

    code = "unavailable"


class TooManyAttempts(ServiceError):
    """Too many attempts in a short time (429); another may be made after `retry_after`
    seconds."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int, field: str | None = None):
        super().__init__(message, field)
        self.retry_after = retry_after


def invalid_field(field: str, message: str) -> Invalid:
    """`send_at: is in the past`: the message starts with the field it is about."""
    return Invalid(f"{field}: {message}", field)


def first_invalid_field(exc: ValidationError) -> Invalid:
    """A model's first validation error as a refusal naming its field (`dnd.start`)."""
    return invalid_field(*field_and_problem(exc.errors()[0]))


def field_and_problem(error: ErrorDetails) -> tuple[str, str]:
    """One of pydantic's errors as the field it names (pydantic's `[key]` marker, for a bad
    dictionary key, left out) and the problem, in words."""
    field = ".".join(str(part) for part in error["loc"] if part != "[key]") or "body"
    return field, str(error["msg"]).removeprefix("Value error, ")
