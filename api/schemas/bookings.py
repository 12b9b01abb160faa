"""A booking's chain as the API shows it: where it stands, what is still to come, and which
events it ignored and why."""

from datetime import datetime

from pydantic import BaseModel, Field


class ReminderPublic(BaseModel):
    offset_minutes: float
    due: datetime
    status: str
    sent_at: datetime | None = None


class BookingPublic(BaseModel):
    booking_id: str
    status: str = Field(description="pending, confirmed, rescheduled, cancelled or completed")
    start: datetime | None
    end: datetime | None
    reminders: list[ReminderPublic] = Field(description="For the current start time.")
    next_reminder: ReminderPublic | None
    follow_up_due: datetime | None
    reschedules: int
    last_event_at: datetime | None
    ignored_events: list[str] = Field(
        description="The latest events the chain ignored, as '<event id>: <why>' (a repeated "
        "id, an event older than the last one applied, an event after the end...)."
    )
    closed: bool
