"""Schemas of GET /v1/stats."""

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field

from domain.delivery_stats import DeliveryFigures

GroupBy = Literal["day", "channel", "event_key", "template", "provider"]


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
