"""Resending a failed or bounced delivery: a new attempt chain, linked to the old one."""

import uuid

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy

from api.errors import ApiError
from temporal_clients.notifications import delivery_retry
from db.address_health import invalid_address_reason
from db.deliveries import delivery_id_for
from db.resends import resend_target, insert_resend
from domain.contracts import ChannelState, NotificationInput
from domain.types import Channel, DeliveryStatus
from config.settings import Settings
from workflows.notification import NotificationWorkflow

RESENDABLE = {DeliveryStatus.FAILED, DeliveryStatus.BOUNCED}


class Resent(BaseModel):
    id: uuid.UUID
    resent_from_id: uuid.UUID
    notification_id: uuid.UUID
    workflow_id: str


async def resend_delivery(
    session: AsyncSession, temporal: Client, settings: Settings, tenant_id: uuid.UUID, delivery_id: uuid.UUID
) -> Resent:
    async with session.begin():
        target = await resend_target(session, tenant_id, delivery_id)
        if target is None:
            raise ApiError(404, "not_found", f"delivery {delivery_id} not found")
        if target.status not in RESENDABLE:
            raise ApiError(
                409, "not_resendable",
                f"delivery {delivery_id} is {target.status}: only failed or bounced deliveries are resent",
            )
        if target.resent_as is not None:
            raise ApiError(409, "already_resent", f"delivery {delivery_id} was already resent as {target.resent_as}")
        address = {Channel.EMAIL: target.email, Channel.SMS: target.phone}.get(target.channel, "")
        if address is None:
            raise ApiError(409, "no_address", f"the recipient has no {target.channel} address any more")
        suppressed = address and await invalid_address_reason(session, tenant_id, target.channel, address)
        if suppressed:
            raise ApiError(409, "address_suppressed", f"{address} is suppressed: {suppressed}")
        new_id = delivery_id_for(target.notification_id, target.channel, chain=target.chains)
        await insert_resend(session, target, new_id, address)
    workflow_id = f"resend-{new_id}"
    await temporal.start_workflow(
        NotificationWorkflow.run,
        NotificationInput(
            notification_id=str(target.notification_id),
            tenant_id=str(tenant_id),
            event_key=target.event_key,
            retry=delivery_retry(settings),
            providers={channel: settings.provider_order(channel) for channel in ("email", "sms")},
            resend=ChannelState(str(new_id), target.channel, DeliveryStatus.PENDING),
        ),
        id=workflow_id,
        task_queue=settings.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return Resent(id=new_id, resent_from_id=delivery_id, notification_id=target.notification_id, workflow_id=workflow_id)
