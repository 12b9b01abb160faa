"""PUT/DELETE /v1/topics/{key}/subscribers, GET /v1/topics, GET /v1/topics/{key}/subscribers,
DELETE /v1/topics/{key}, and GET /v1/recipients/{external_id}/topics."""

from fastapi import APIRouter, Response

from api.deps import SessionDep, TenantDep
from api.paging import Cursor, Limit
from api.schemas.common import ExternalId
from api.schemas.topics import (
    SubscriberPage,
    SubscribersAdded,
    SubscribersChange,
    SubscribersRemoved,
    SubscriptionPage,
    TopicKey,
    TopicPage,
)
from services import topics

router = APIRouter(tags=["topics"])

UNKNOWN_RECIPIENTS: dict[int | str, dict] = {
    422: {
        "description": "An input is invalid (`validation_error`), or `recipients` names ids no "
        "recipient of the tenant has (the first few named); nothing is written."
    }
}


@router.put(
    "/v1/topics/{key}/subscribers", response_model=SubscribersAdded, responses=UNKNOWN_RECIPIENTS
)
async def add_topic_subscribers(
    key: TopicKey, body: SubscribersChange, tenant: TenantDep, session: SessionDep
) -> SubscribersAdded:
    """Subscribe up to 1,000 recipients at once, creating the topic if new. Recipients already
    subscribed stay as they are."""
    return await topics.add_subscribers(session, tenant, key, body.recipients)


@router.delete(
    "/v1/topics/{key}/subscribers",
    response_model=SubscribersRemoved,
    responses=UNKNOWN_RECIPIENTS,
)
async def remove_topic_subscribers(
    key: TopicKey, body: SubscribersChange, tenant: TenantDep, session: SessionDep
) -> SubscribersRemoved:
    """Unsubscribe up to 1,000 recipients at once; those not subscribed are left as they are."""
    return await topics.remove_subscribers(session, tenant, key, body.recipients)


@router.get("/v1/topics", response_model=TopicPage)
async def list_topics(
    tenant: TenantDep, session: SessionDep, limit: Limit = 50, cursor: Cursor = None
) -> TopicPage:
    """The tenant's topics, by key."""
    return await topics.list_topics(session, tenant, cursor, limit)


@router.get("/v1/topics/{key}/subscribers", response_model=SubscriberPage)
async def list_topic_subscribers(
    key: TopicKey,
    tenant: TenantDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SubscriberPage:
    """The topic's subscribers, a page at a time."""
    return await topics.list_subscribers(session, tenant, key, cursor, limit)


@router.delete("/v1/topics/{key}", status_code=204)
async def delete_topic(key: TopicKey, tenant: TenantDep, session: SessionDep) -> Response:
    """Delete the topic and its subscriptions (the recipients stay). A broadcast to it that is
    still running finds no more subscribers."""
    await topics.delete_topic(session, tenant, key)
    return Response(status_code=204)


@router.get("/v1/recipients/{external_id}/topics", response_model=SubscriptionPage)
async def list_recipient_topics(
    external_id: ExternalId,
    tenant: TenantDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SubscriptionPage:
    """The topics a recipient is subscribed to, by key."""
    return await topics.list_recipient_topics(session, tenant, external_id, cursor, limit)
