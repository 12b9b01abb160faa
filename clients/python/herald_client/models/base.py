"""The two kinds of model: what the client sends, and what it reads."""

from pydantic import BaseModel, ConfigDict


class Input(BaseModel):
    """A request body: a misspelt field is an error at once, not dropped."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """An answer: fields a newer Herald adds are ignored, so an older client keeps working."""

    model_config = ConfigDict(extra="ignore")
