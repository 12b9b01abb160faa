"""Herald's custom search attributes: how an operator finds a notification in the Web UI."""

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.types import NotificationStatus

TENANT = SearchAttributeKey.for_keyword("HeraldTenant")
EVENT_KEY = SearchAttributeKey.for_keyword("HeraldEventKey")
CHANNELS = SearchAttributeKey.for_keyword_list("HeraldChannels")
STATUS = SearchAttributeKey.for_keyword("HeraldStatus")
BOOKING_ID = SearchAttributeKey.for_keyword("HeraldBookingId")
ORGANIZER = SearchAttributeKey.for_keyword("HeraldOrganizer")

ALL = (TENANT, EVENT_KEY, CHANNELS, STATUS, BOOKING_ID, ORGANIZER)


def cli_flags() -> list[str]:
    """`temporal server start-dev` flags that register them at start-up."""
    types = {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList"}
    return [
        arg
        for key in ALL
        for arg in ("--search-attribute", f"{key.name}={types[key.indexed_value_type.name]}")
    ]


def for_new_notification(tenant_id: str, event_key: str) -> TypedSearchAttributes:
    """What a NotificationWorkflow starts with; it upserts channels and status as it goes."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(TENANT, tenant_id),
            SearchAttributePair(EVENT_KEY, event_key),
            SearchAttributePair(STATUS, NotificationStatus.ACCEPTED),
        ]
    )
