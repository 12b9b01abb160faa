"""Schemas of GET /v1/stats, and of the dashboard's Analytics filters."""

from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, StringConstraints

from api.schemas.common import InputModel
from domain.delivery_stats import DeliveryFigures
from domain.types import Channel

GroupBy = Literal["day", "channel", "event_key", "template", "provider"]
# A provider's name as deliveries record it (sendgrid, smtp, twilio, outbox, database).
ProviderName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
]
PERIOD_DAYS = (7, 30, 90)


class StatsFigures(BaseModel):
    sent: int
    delivered: int
    opened: int
    clicked: int
    failed: int
    bounced: int
    attempted: int
    delivery_rate: float | None
    bounce_rate: float | None
    open_rate: float | None
    click_rate: float | None

    @classmethod
    def of(cls, figures: DeliveryFigures, **extra) -> Self:
        return cls(
            sent=figures.sent,
            delivered=figures.delivered,
            opened=figures.opened,
            clicked=figures.clicked,
            failed=figures.failed,
            bounced=figures.bounced,
            attempted=figures.attempted,
            **figures.rates(),
            **extra,
        )


class StatsGroupPublic(StatsFigures):
    key: str | None = Field(
        description="The group's day (UTC), channel, event key, template id or "
        "provider; null: none (e.g. no template, no provider reached)"
    )


class StatsPublic(BaseModel):
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    group_by: str | None
    totals: StatsFigures
    groups: list[StatsGroupPublic]


class AnalyticsFilters(InputModel):
    """The dashboard's Analytics: the last `days` UTC days (today included), of one channel
    and one provider or all (empty)."""

    days: Literal[7, 30, 90] = 30
    channel: Channel | None = None
    provider: ProviderName | None = None
