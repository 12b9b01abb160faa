"""Forms: a page's fields checked by the request body's model, every problem shown next to its
field in the same words the API uses (services.errors.field_and_problem), and a service's
refusal shown next to the field it names. Templates draw fields with web/templates/_forms.html."""

from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from services.errors import ServiceError, field_and_problem

Model = TypeVar("Model", bound=BaseModel)

FieldErrors = dict[str, str]  # field -> its problem; "" for a problem of the whole form


async def form_values(request: Request) -> dict[str, str]:
    """The submitted fields (the first value of each), files left out."""
    form = await request.form()
    return {name: value for name, value in form.items() if isinstance(value, str)}


def checked(model: type[Model], values: dict[str, Any]) -> tuple[Model | None, FieldErrors]:
    """The form as the model, or None and every field's problem."""
    try:
        return model.model_validate(values), {}
    except ValidationError as invalid:
        errors: FieldErrors = {}
        for error in invalid.errors():
            field, problem = field_and_problem(error)
            errors.setdefault(field, problem)
        return None, errors


def refusal_errors(refused: ServiceError) -> FieldErrors:
    """A service's refusal next to its field: `email: is already a member` under email."""
    field = refused.field or ""
    message = refused.message
    if field and message.startswith(f"{field}: "):
        message = message[len(field) + 2 :]
    return {field: message}
