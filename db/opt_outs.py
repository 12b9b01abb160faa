"""Opt-outs: a recipient switching a category off for a channel (the unsubscribe link, a spam
report, a provider's unsubscribe), which also puts the recipient's address on the tenant's
suppression list for it; and opting back in, which takes it off.

Addresses compare normalised: trimmed and in lower case, by the database on both sides (the
API already stores email domains in their one Unicode form, so `ada@xn--bcher-kva.de` and
`ada@BÜCHER.de` are the same address). Planning reads the list in its one query
(db/deliveries.py, with `unsubscribed_sql`)."""

import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from db.models import Recipient
from db.suppression_models import AddressSuppression
from domain.preferences import as_document, merge_overrides


def normalised(
    address: ColumnElement[str | None] | InstrumentedAttribute[str | None],
) -> ColumnElement[str | None]:
    return func.lower(func.btrim(address))


# The recipients' columns that hold an address to follow, normalised, by channel.
_ADDRESSES = {"email": normalised(Recipient.email), "sms": normalised(Recipient.phone)}


def unsubscribed_sql(channel: str, address: str, tenant: str = "n.tenant_id") -> str:
    """The same normalisation, in the SQL text of planning's query: the categories the
    address `address` (an SQL expression) on `channel` is unsubscribed from, as an array,
    within the tenant `tenant` (an SQL expression; by default that of `n`, the notifications
    row). An index lookup (the primary key)."""
    return f"""ARRAY(SELECT s.category FROM address_suppressions s
                     WHERE s.tenant_id = {tenant} AND s.channel = '{channel}'
                       AND s.address = lower(btrim({address})))"""


async def is_unsubscribed(
    session: AsyncSession, tenant_id: uuid.UUID, channel: str, address: str, category: str
) -> bool:
    """Whether `address` is on the tenant's suppression list for `category` on `channel`."""
    found = await session.scalar(
        select(AddressSuppression.category).where(
            AddressSuppression.tenant_id == tenant_id,
            AddressSuppression.channel == channel,
            AddressSuppression.address == normalised(literal(address)),
            AddressSuppression.category == category,
        )
    )
    return found is not None


async def unsubscribed_addresses(
    session: AsyncSession, tenant_id: uuid.UUID, recipient_id: uuid.UUID
) -> list[tuple[str, str]]:
    """(channel, category) of every suppression of the recipient's current addresses."""
    found = await session.execute(
        select(AddressSuppression.channel, AddressSuppression.category)
        .join(Recipient, Recipient.tenant_id == AddressSuppression.tenant_id)
        .where(
            Recipient.id == recipient_id,
            Recipient.tenant_id == tenant_id,
            or_(
                *(
                    and_(AddressSuppression.channel == channel, AddressSuppression.address == at)
                    for channel, at in _ADDRESSES.items()
                )
            ),
        )
        .order_by(AddressSuppression.channel, AddressSuppression.category)
    )
    return [(channel, category) for channel, category in found]


async def switch_off_category(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    category: str,
    channel: str,
) -> None:
    """Merge {"rules": {category: {channel: false}}} into the recipient's own preferences,
    and suppress the category on the channel for the recipient's address, whoever has it.

    The row is locked first: a concurrent preferences PUT must not be lost to this merge.
    Waiting notifications need no wake-up: the policy reads the preferences again when they wake."""
    overrides = await session.scalar(
        select(Recipient.preference_overrides)
        .where(Recipient.id == recipient_id, Recipient.tenant_id == tenant_id)
        .with_for_update()
    )
    if overrides is None:
        return  # the recipient was deleted since
    switched_off = {"rules": {category: {channel: False}}}
    await session.execute(
        update(Recipient)
        .where(Recipient.id == recipient_id)
        .values(preference_overrides=merge_overrides(as_document(overrides), switched_off))
    )
    address = _ADDRESSES.get(channel)
    if address is None:
        return  # in-app and push have no address to follow
    rows = select(
        Recipient.tenant_id, literal(channel), address, literal(category), Recipient.id
    ).where(Recipient.id == recipient_id, address.is_not(None), address != "")
    await session.execute(
        insert(AddressSuppression)
        .from_select(["tenant_id", "channel", "address", "category", "recipient_id"], rows)
        .on_conflict_do_nothing()
    )


async def clear_suppressions(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    recipient_id: uuid.UUID,
    opted_in: Iterable[tuple[str, str]],
) -> None:
    """The recipient opted back in to these (category, channel) pairs: their address is no
    longer suppressed for them, for any recipient who has it."""
    for category, channel in opted_in:
        address = _ADDRESSES.get(channel)
        if address is None:
            continue
        of_recipient = select(address).where(
            Recipient.id == recipient_id, Recipient.tenant_id == tenant_id
        )
        await session.execute(
            delete(AddressSuppression).where(
                AddressSuppression.tenant_id == tenant_id,
                AddressSuppression.channel == channel,
                AddressSuppression.category == category,
                AddressSuppression.address == of_recipient.scalar_subquery(),
            )
        )
