"""Bodies of the agenda, scheduled-notification and booking-settings routes."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt

from api.schemas.common import AwareDateTime, InputModel, TimeZone
from api.schemas.pages import Page
from domain.preferences import LocalTime


class AgendaPut(InputModel):
    """Fields left out follow the organizer's preferences (daily_agenda_time,
    exclude_weekends_agenda, weekend_days, timezone)."""

    time: LocalTime | None = Field(
        default=None, description="Local time, e.g. 08:00 (seconds ignored)."
    )
    timezone: TimeZone | None = None
    skip_weekends: StrictBool | None = None
    send_empty: StrictBool = Field(
        default=False, description="Send a short 'no bookings today' on empty days."
    )
    paused: StrictBool = False


class AgendaPublic(BaseModel):
    organizer_id: str
    schedule_id: str
    time: str
    timezone: str
    weekdays: list[int] = Field(description="Days it fires on, 0 = Monday ... 6 = Sunday.")
    send_empty: bool
    paused: bool
    next_runs: list[datetime]


class ScheduledItem(BaseModel):
    id: uuid.UUID
    kind: Literal["notification", "booking_reminder"]
    due_at: datetime
    event_key: str
    recipient: str | None = None
    workflow_id: str
    booking_id: str | None = None
    offset_minutes: float | None = None


class ScheduledPage(Page[ScheduledItem]):
    pass


class Reschedule(InputModel):
    send_at: AwareDateTime = Field(description="The new due time; in the future.")


class ScheduledChange(BaseModel):
    id: uuid.UUID
    kind: Literal["notification", "booking_reminder"]
    status: str
    due_at: datetime | None = None
    replaced_by: uuid.UUID | None = Field(
        default=None, description="Rescheduling a notification cancels it and accepts this new one."
    )


class BookingSettings(InputModel):
    follow_up_enabled: StrictBool = False
    follow_up_delay_minutes: Annotated[StrictInt, Field(ge=0, le=7 * 24 * 60)] = 60
