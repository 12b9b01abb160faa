"""What DELETE /v1/recipients/{external_id} answers: the record of the erasure."""

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class ErasurePublic(BaseModel):
    id: uuid.UUID
    recipient_id: uuid.UUID = Field(
        description="The anonymous recipient row kept for statistics (its external id is now "
        "`erased:<recipient_id>`)."
    )
    requested_by: str = Field(examples=["api_key:0b6f5f1e-0c4e-4f43-9a57-2f1d4c9b7a30"])
    requested_at: datetime
    completed_at: datetime | None
    removed: dict[str, int] = Field(
        description="What was removed, cancelled or deleted, counted by kind.",
        examples=[{"notifications": 12, "deliveries": 14, "in_app_messages": 3, "devices": 1}],
    )
