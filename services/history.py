"""The dashboard's History: the delivery log filtered and searched, a page at a time, and
resending what failed in it (one delivery, or every failed one the filter matches).

Fast at any size (bench/history_query.py): a time range always bounds the list (the last
DEFAULT_DAYS unless asked; at most MAX_RANGE_DAYS), and a page looks through at most SCAN_LIMIT
deliveries when a filter is not one an index serves (db/history.py)."""

import dataclasses
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import Field, StringConstraints, field_validator
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.schemas.common import DateTime, EventKey, ExternalId, InputModel
from channels.registry import ROUTED_CHANNELS, declarations
from config.settings import Settings
from db.history import HistoryRow, history_rows, ids_by_provider_message, resendable_ids
from db.recipient_search import search_recipients
from db.recipients import get_recipient
from domain.filters import HistoryFilter
from domain.operators import Operator
from domain.types import Channel, DeliveryStatus
from services import audit, resend
from services.errors import Unavailable, invalid_field
from services.pages import decode_cursor, encode_cursor, page

PAGE_SIZE = 50
SCAN_LIMIT = 5_000  # deliveries a page looks through at most, for a filter no index serves
DEFAULT_DAYS = 7
MAX_RANGE_DAYS = 93
RESEND_AT_ONCE = 1_000  # failed deliveries one "resend every failed one" resends at most
RECIPIENTS_SEARCHED = 100  # a search's recipients whose deliveries are listed, at most
# Providers a delivery can name, whether this deployment is configured with them or not: every
# declared one, and those of the routed channels (push, chat, webhook) and in-app.
KNOWN_PROVIDERS = (*declarations(), *ROUTED_CHANNELS.values(), "database")

T = TypeVar("T")
ProviderName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,30}$")]


class HistoryQuery(InputModel):
    """The History page's filter form (its query string), in the API's words when refused.
    Times without an offset are UTC, as the dashboard shows them."""

    status: DeliveryStatus | None = None
    channel: Channel | None = None
    event_key: EventKey | None = None
    recipient: ExternalId | None = Field(None, description="The recipient's external id.")
    provider: ProviderName | None = None
    since: DateTime | None = Field(None, alias="from")
    until: DateTime | None = Field(None, alias="to")
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    cursor: str | None = None

    @field_validator("since", "until")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def as_params(self, **changes: Any) -> dict[str, str]:
        """The filter as query parameters (for links to its next page, or to resend it)."""
        values = self.model_dump(by_alias=True, exclude_none=True) | changes
        return {
            name: value.isoformat() if isinstance(value, datetime) else str(value)
            for name, value in values.items()
            if value is not None
        }


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    since: datetime
    until: datetime
    next_cursor: str | None
    # The page looked through SCAN_LIMIT deliveries back to this time without filling up: the
    # next page looks further back.
    looked_back_to: datetime | None = None
    note: str | None = None  # about the search: what it matched


async def history_page(
    session: AsyncSession, tenant_id: uuid.UUID, query: HistoryQuery, now: datetime | None = None
) -> HistoryPage:
    filters, note = await history_filter(session, tenant_id, query, now)
    after = decode_cursor(query.cursor, datetime, uuid.UUID)
    found = await history_rows(
        session, tenant_id, filters, (after[0], after[1]) if after else None, PAGE_SIZE + 1,
        SCAN_LIMIT,
    )  # fmt: skip
    rows, next_cursor = page(found.rows, PAGE_SIZE, lambda row: (row.created_at, row.id))
    looked_back_to = None
    if next_cursor is None and found.scanned_to is not None:
        next_cursor = encode_cursor(found.scanned_to)
        looked_back_to = found.scanned_to[0]
    return HistoryPage(rows, filters.since, filters.until, next_cursor, looked_back_to, note)


async def history_filter(
    session: AsyncSession, tenant_id: uuid.UUID, query: HistoryQuery, now: datetime | None = None
) -> tuple[HistoryFilter, str | None]:
    """The query as the list's filter: its time range made bounded, its recipient and search
    resolved to ids. Also a note on what the search matched, if anything to say."""
    now = now or datetime.now(UTC)
    # Open-ended: up to a little past now, in case the database's clock runs ahead of this one.
    until = query.until or now + timedelta(hours=1)
    since = query.since or min(now, until) - timedelta(days=DEFAULT_DAYS)
    if until <= since:
        raise invalid_field("to", "must be after from")
    if until - since > timedelta(days=MAX_RANGE_DAYS):
        raise invalid_field("from", f"the range is at most {MAX_RANGE_DAYS} days; narrow it")
    ids, recipient_ids, note = await _search(session, tenant_id, query.q)
    if query.recipient is not None:
        recipient = await get_recipient(session, tenant_id, query.recipient)
        named = (recipient.id,) if recipient else ()
        recipient_ids = named if recipient_ids is None else tuple(set(named) & set(recipient_ids))
    filters = HistoryFilter(
        since=since,
        until=until,
        status=query.status,
        channel=query.channel,
        event_key=query.event_key,
        provider=query.provider,
        recipient_ids=recipient_ids,
        ids=ids,
    )
    return filters, note


async def _search(
    session: AsyncSession, tenant_id: uuid.UUID, typed: str | None
) -> tuple[tuple[uuid.UUID, ...] | None, tuple[uuid.UUID, ...] | None, str | None]:
    """What a search names: (ids, recipient ids, note). An id (of a delivery or a
    notification) names itself; text names the deliveries with that provider message id if
    there are any, else the recipients it finds (db/recipient_search.py)."""
    if not typed:
        return None, None, None
    try:
        return (uuid.UUID(typed),), None, None
    except ValueError:
        pass
    by_message = await ids_by_provider_message(session, tenant_id, KNOWN_PROVIDERS, typed)
    if by_message:
        return tuple(by_message), None, f"“{typed}” is a provider's message id."
    matches = await search_recipients(session, tenant_id, typed, RECIPIENTS_SEARCHED + 1)
    note = None
    if len(matches) > RECIPIENTS_SEARCHED:
        note = (
            f"More than {RECIPIENTS_SEARCHED} recipients match “{typed}”: the deliveries of "
            f"the first {RECIPIENTS_SEARCHED} by external id are shown. Type more to narrow it."
        )
    return None, tuple(match.id for match in matches[:RECIPIENTS_SEARCHED]), note


def provider_names() -> list[str]:
    """The providers to filter by: any a delivery may name."""
    return sorted(set(KNOWN_PROVIDERS))


# ---------------------------------------------------------------- resending


@dataclass(frozen=True)
class ResendPlan:
    """What "resend every failed delivery matching the filter" would resend."""

    count: int  # at most RESEND_AT_ONCE + 1: more than RESEND_AT_ONCE reads "over"
    since: datetime
    until: datetime

    @property
    def over_the_limit(self) -> bool:
        return self.count > RESEND_AT_ONCE

    @property
    def to_resend(self) -> int:
        return min(self.count, RESEND_AT_ONCE)


async def resend_plan(
    session: AsyncSession, tenant_id: uuid.UUID, query: HistoryQuery, now: datetime | None = None
) -> ResendPlan:
    filters, _ = await history_filter(session, tenant_id, query, now)
    ids = await resendable_ids(session, tenant_id, filters, RESEND_AT_ONCE + 1)
    return ResendPlan(len(ids), filters.since, filters.until)


async def resend_matching(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    operator: Operator,
    query: HistoryQuery,
    now: datetime | None = None,
) -> resend.BulkResendResult:
    """Resend the failed and bounced deliveries the filter matches that were not resent yet,
    newest first, at most RESEND_AT_ONCE, through the resend service; recorded in the audit
    log (after: each resend commits on its own)."""
    async with session.begin():
        filters, _ = await history_filter(session, operator.tenant_id, query, now)
        ids = await resendable_ids(session, operator.tenant_id, filters, RESEND_AT_ONCE)
    result = await _reaching_temporal(
        resend.resend_each(session, temporal, settings, operator.tenant_id, ids)
    )
    described = {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in dataclasses.asdict(filters).items()
        if name not in ("recipient_ids", "ids") and value is not None
    }
    if query.recipient:
        described["recipient"] = query.recipient
    if query.q:
        described["search"] = query.q
    async with session.begin():
        await audit.record(
            session,
            operator,
            "delivery.resend_matching",
            "failed deliveries matching a History filter",
            {"filter": described, "resent": len(result.resent), "skipped": len(result.skipped)},
        )
    return result


async def resend_one(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    operator: Operator,
    delivery_id: uuid.UUID,
) -> resend.Resent:
    """Resend one failed or bounced delivery through the resend service; audited."""
    resent = await _reaching_temporal(
        resend.resend_delivery(session, temporal, settings, operator.tenant_id, delivery_id)
    )
    async with session.begin():
        await audit.record(
            session,
            operator,
            "delivery.resend",
            f"delivery {delivery_id}",
            {"resent_as": str(resent.id), "workflow_id": resent.workflow_id},
        )
    return resent


async def _reaching_temporal(call: Awaitable[T]) -> T:
    """Temporal unreachable is a refusal the page can show: the resend is recorded, and
    asking again starts it (services/resend.py)."""
    try:
        return await call
    except RPCError as error:
        raise Unavailable(
            f"Temporal could not be reached ({error.message}): try again in a moment"
        ) from None
