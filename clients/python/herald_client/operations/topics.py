"""/v1/topics: subscribe and unsubscribe recipients, list topics and subscribers."""

from collections.abc import Sequence

from herald_client import calls
from herald_client.calls import Call
from herald_client.models import (
    SubscriberPage,
    SubscribersAdded,
    SubscribersChange,
    SubscribersRemoved,
    SubscriptionPage,
    TopicPage,
)

SUBSCRIBERS = "/v1/topics/{key}/subscribers"


def subscribe(topic: str, recipients: Sequence[str]) -> Call[SubscribersAdded]:
    """Subscribe up to 1,000 recipients (external ids) at once, creating the topic if new."""
    body = calls.model(SubscribersChange, recipients=list(recipients))
    return calls.send("PUT", SUBSCRIBERS, SubscribersAdded, body, key=topic)


def unsubscribe(topic: str, recipients: Sequence[str]) -> Call[SubscribersRemoved]:
    body = calls.model(SubscribersChange, recipients=list(recipients))
    return calls.send("DELETE", SUBSCRIBERS, SubscribersRemoved, body, key=topic)


def list_topics(*, limit: int | None = None, cursor: str | None = None) -> Call[TopicPage]:
    return calls.get("/v1/topics", TopicPage, params={"limit": limit, "cursor": cursor})


def list_topic_subscribers(
    topic: str, *, limit: int | None = None, cursor: str | None = None
) -> Call[SubscriberPage]:
    return calls.get(
        SUBSCRIBERS, SubscriberPage, params={"limit": limit, "cursor": cursor}, key=topic
    )


def list_recipient_topics(
    external_id: str, *, limit: int | None = None, cursor: str | None = None
) -> Call[SubscriptionPage]:
    return calls.get(
        "/v1/recipients/{external_id}/topics",
        SubscriptionPage,
        params={"limit": limit, "cursor": cursor},
        external_id=external_id,
    )


def delete_topic(topic: str) -> Call[None]:
    """Delete the topic and its subscriptions (the recipients stay)."""
    return calls.delete("/v1/topics/{key}", key=topic)
