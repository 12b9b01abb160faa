"""GET /v1/health's public answer. The detailed one (/v1/health/details) is an operator's
free-form report (README, "Health and metrics")."""

from typing import Literal

from pydantic import BaseModel, Field


class ComponentStatus(BaseModel):
    status: Literal["ok", "down"]


class HealthPublic(BaseModel):
    """Whether this process reaches the database and Temporal; nothing else (no counts, no
    names, no reasons: those are in the details)."""

    status: Literal["ok", "down"] = Field(
        description="`down` (with a 503) while the database or Temporal cannot be reached"
    )
    database: ComponentStatus
    temporal: ComponentStatus
