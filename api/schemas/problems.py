"""The body of every error the API answers with: RFC 9457 problem details."""

from pydantic import BaseModel, Field

PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    field: str = Field(
        description="The input at fault: a dotted path into the body (`recipient.email`, "
        "`channels.0`), `body` for the whole body, or a query parameter, path parameter or "
        "header by name (`cursor`, `Idempotency-Key`).",
        examples=["recipient.email"],
    )
    problem: str = Field(examples=["value is not a valid email address"])


class Problem(BaseModel):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str = Field(
        description="Identifies the kind of problem: `tag:herald,2026:problem:<code>`. "
        "An identifier, not a link.",
        examples=["tag:herald,2026:problem:validation_error"],
    )
    title: str = Field(
        description="The kind of problem in words; the same for every problem of a type.",
        examples=["Validation error"],
    )
    status: int = Field(description="The HTTP status code.", examples=[422])
    detail: str = Field(
        description="What went wrong this time, for a person to read.",
        examples=["recipient.email: value is not a valid email address"],
    )
    code: str = Field(
        description="The last part of `type`, for a program to switch on.",
        examples=["validation_error"],
    )
    errors: list[FieldProblem] = Field(
        default_factory=list, description="Each invalid input, when the request had any."
    )
