"""The dashboard's access forms (sign-in, invitation, accepting one, password reset, a member's
role), checked as every request body is: the same field-named messages the API gives.
`herald user create` checks its options with them too."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, StringConstraints

from domain.operators import MAX_NAME_LENGTH, Role, normalize_email, password_problem


def _new_password(value: str) -> str:
    problem = password_problem(value)
    if problem:
        raise ValueError(problem)
    return value


NewPassword = Annotated[str, AfterValidator(_new_password)]
OperatorEmail = Annotated[EmailStr, AfterValidator(normalize_email)]
OperatorName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH)
]


class FormModel(BaseModel):
    """A form: its fields are what the page sends (the CSRF token is checked before)."""

    model_config = ConfigDict(extra="ignore")


class OperatorCreate(FormModel):
    email: OperatorEmail
    name: OperatorName
    role: Role
    password: NewPassword


class InvitationCreate(FormModel):
    email: OperatorEmail
    role: Role


class InvitationAcceptance(FormModel):
    name: OperatorName
    password: NewPassword


class PasswordResetRequest(FormModel):
    email: OperatorEmail


class PasswordChoice(FormModel):
    password: NewPassword


class RoleChange(FormModel):
    role: Role
