"""Bodies of /v1/topics: a tenant's named audiences, their subscribers added and removed many
at once."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from api.schemas.common import ExternalId, InputModel
from api.schemas.pages import Page

MAX_SUBSCRIBERS_PER_CALL = 1000
_TOPIC_KEY = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,99}$")


def _topic_key(value: str) -> str:
    if not _TOPIC_KEY.fullmatch(value):
        raise ValueError(
            "must be 1-100 characters of a-z, 0-9, '.', '_', ':' and '-', starting with a "
            "letter or digit (pattern [a-z0-9][a-z0-9._:-]*)"
        )
    return value


TopicKey = Annotated[
    str,
    AfterValidator(_topic_key),
    # Documented as the constraints they are; checked above, to say what a key may be.
    Field(
        examples=["newsletter", "plan:pro", "city.berlin"],
        json_schema_extra={"minLength": 1, "maxLength": 100, "pattern": _TOPIC_KEY.pattern},
    ),
]


class SubscribersChange(InputModel):
    recipients: list[ExternalId] = Field(
        min_length=1,
        max_length=MAX_SUBSCRIBERS_PER_CALL,
        description=f"The recipients' external ids, 1 to {MAX_SUBSCRIBERS_PER_CALL} a call; each "
        "must be a recipient of the tenant (PUT /v1/recipients/{external_id}).",
    )


class SubscribersAdded(BaseModel):
    key: str
    created: bool = Field(description="True when this call created the topic.")
    added: int = Field(description="Subscriptions this call added (those already there: not).")


class SubscribersRemoved(BaseModel):
    key: str
    removed: int = Field(description="Recipients this call unsubscribed.")


class TopicPublic(BaseModel):
    key: str
    created_at: datetime


class TopicPage(Page[TopicPublic]):
    pass


class SubscriberPublic(BaseModel):
    external_id: str
    subscribed_at: datetime


class SubscriberPage(Page[SubscriberPublic]):
    pass


class SubscriptionPublic(BaseModel):
    """One of a recipient's topics."""

    key: str
    subscribed_at: datetime


class SubscriptionPage(Page[SubscriptionPublic]):
    pass
