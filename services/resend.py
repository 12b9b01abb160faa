"""Resending a failed or bounced delivery: a new attempt chain, linked to the old one."""

import uuid

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from config.settings import Settings
from db.address_health import invalid_address_reason
from db.deliveries import delivery_id_for
from db.opt_outs import is_unsubscribed
from db.resends import ResendTarget, insert_resend, resend_candidates, resend_target
from domain.contracts import ChannelState
from domain.filters import ResendFilter
from domain.types import Channel, DeliveryStatus, subscription_category
from services.errors import Conflict, NotFound, ServiceError
from temporal_clients.notifications import NotificationStart, resend_workflow_id, start_notification

RESENDABLE = {DeliveryStatus.FAILED, DeliveryStatus.BOUNCED}


class Resent(BaseModel):
    id: uuid.UUID
    resent_from_id: uuid.UUID
    notification_id: uuid.UUID
    workflow_id: str


class Skipped(BaseModel):
    id: uuid.UUID
    reason: str


class BulkResendResult(BaseModel):
    resent: list[Resent]
    skipped: list[Skipped]


async def resend_delivery(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> Resent:
    async with session.begin():
        target = await resend_target(session, tenant_id, delivery_id)
        if target is None:
            raise NotFound(f"delivery {delivery_id} not found")
        if target.resent_as is not None:
            if target.resent_as_status != DeliveryStatus.PENDING:
                raise Conflict(
                    f"delivery {delivery_id} was already resent as {target.resent_as}",
                    code="already_resent",
                )
            # Resent, but not sent yet: its workflow may never have started (Temporal was
            # unreachable). Starting it again is harmless, and a retried request completes it.
            new_id = target.resent_as
        else:
            new_id = await _new_chain(session, target)
    workflow_id = resend_workflow_id(new_id)
    await start_notification(
        temporal,
        settings,
        NotificationStart(
            id=target.notification_id,
            tenant_id=tenant_id,
            event_key=target.event_key,
            priority=target.priority,
            workflow_id=workflow_id,
            resend=ChannelState(new_id, Channel(target.channel), DeliveryStatus.PENDING),
        ),
    )
    return Resent(
        id=new_id,
        resent_from_id=delivery_id,
        notification_id=target.notification_id,
        workflow_id=workflow_id,
    )


async def _new_chain(session: AsyncSession, target: ResendTarget) -> uuid.UUID:
    if target.status not in RESENDABLE:
        raise Conflict(
            f"delivery {target.id} is {target.status}: "
            "only failed or bounced deliveries are resent",
            code="not_resendable",
        )
    # Only email and SMS have an address; other channels resend without one ("").
    addresses: dict[str, str | None] = {Channel.EMAIL: target.email, Channel.SMS: target.phone}
    address = addresses.get(target.channel, "")
    if address is None:
        raise Conflict(f"the recipient has no {target.channel} address any more", code="no_address")
    suppressed = address and await invalid_address_reason(
        session, target.tenant_id, target.channel, address
    )
    if suppressed:
        raise Conflict(f"{address} is suppressed: {suppressed}", code="address_suppressed")
    category = subscription_category(target.event_key)
    if address and await is_unsubscribed(
        session, target.tenant_id, target.channel, address, category
    ):
        raise Conflict(f"{address} is unsubscribed from {category}", code="address_unsubscribed")
    new_id = delivery_id_for(target.notification_id, target.channel, chain=target.chains)
    await insert_resend(session, target, new_id, address)
    return new_id


async def resend_matching(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant_id: uuid.UUID,
    filters: ResendFilter,
) -> BulkResendResult:
    """Resend every failed or bounced delivery matching the filter (at most `limit`)."""
    async with session.begin():
        ids = await resend_candidates(session, tenant_id, filters)
    return await resend_each(session, temporal, settings, tenant_id, ids)


async def resend_each(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    tenant_id: uuid.UUID,
    ids: list[uuid.UUID],
) -> BulkResendResult:
    """Resend each of the deliveries, one after another; one that cannot be resent (no longer
    failed, its address suppressed meanwhile) is skipped with the reason."""
    resent, skipped = [], []
    for delivery_id in ids:
        try:
            resent.append(
                await resend_delivery(session, temporal, settings, tenant_id, delivery_id)
            )
        except ServiceError as refused:  # e.g. the address was suppressed meanwhile
            skipped.append(Skipped(id=delivery_id, reason=refused.message))
    return BulkResendResult(resent=resent, skipped=skipped)
