"""A rendered delivery handed to its channel's provider: one home for every path that sends
(single notifications, booking notices, resends and fallbacks through activities/delivery.py,
broadcasts through activities/broadcast_sends.py).

- email and SMS: the message, to the delivery's address;
- chat: the message, to the delivery's chat address (`slack:U123`; the chat provider picks
  the platform);
- push: the recipient's active devices, read now, each through its kind's provider; devices the
  push service calls gone are deactivated at once; the delivery is sent when any device took it,
  retried (whole) only when none did and a failure may pass, so no device gets it twice;
- webhook: the tenant's webhook channel, read now; the provider signs the JSON it POSTs.
"""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.content import Content
from channels.base import (
    ChatMessage,
    EmailMessage,
    PermanentSendError,
    PushMessage,
    SendResult,
    SmsMessage,
    TransientSendError,
    WebhookMessage,
)
from db import devices as device_store
from db import webhook_channels
from db.deliveries import DeliveryJob
from db.session import autocommit
from domain.email_headers import EmailIdentity, sender_for
from domain.types import Channel

WEBHOOK_SECRET_KID = "webhook-channel"  # the sealed secret's associated data (SecretBox)


class ChannelSends:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        email_from: str,
        from_domains: list[str],
        # (tenant_id, kid, sealed) -> the secret: services.inbox_secrets.SecretBox.open
        open_secret: Callable[[uuid.UUID, str, str], str],
        # Waits for a platform's send slot (its declared or configured rate): a chat
        # platform's, a push device kind's.
        wait_for_slot: Callable[[str], Awaitable[None]],
    ):
        self._sessions = sessions
        self._email_from = email_from
        self._from_domains = from_domains
        self._open_secret = open_secret
        self._wait_for_slot = wait_for_slot

    def message_for(
        self, job: DeliveryJob, content: Content, address: str, identity: EmailIdentity
    ) -> EmailMessage | SmsMessage | ChatMessage:
        """What the provider is handed for an email, SMS or chat delivery; each refers to the
        delivery (its Message-ID, the provider's echo)."""
        reference = str(job.delivery.id)
        if job.delivery.channel == Channel.EMAIL:
            return self.email_message(job, content, address, identity)
        if job.delivery.channel == Channel.CHAT:
            return ChatMessage(
                to=address,
                text=content.text,
                title=content.subject or None,
                action_url=content.action_url,
                reference=reference,
            )
        return SmsMessage(to=address, body=content.text, reference=reference)

    def email_message(
        self, job: DeliveryJob, content: Content, address: str, identity: EmailIdentity
    ) -> EmailMessage:
        """The email of a delivery: from the tenant's sender, its Message-ID the delivery's."""
        return EmailMessage(
            to=address,
            subject=content.subject,
            text=content.text,
            html=content.html,
            sender=sender_for(identity, self._email_from, self._from_domains),
            reply_to=identity.reply_to or "",
            headers=content.headers,
            reference=str(job.delivery.id),
        )

    async def send(
        self, provider: Any, job: DeliveryJob, content: Content, identity: EmailIdentity
    ) -> SendResult:
        """Send the delivery through `provider` (its channel's); raises a SendError as the
        provider does (DeviceGoneError never: gone devices are handled here)."""
        channel = job.delivery.channel
        if channel == Channel.PUSH:
            return await self._push(provider, job, content)
        if channel == Channel.WEBHOOK:
            return await provider.send_webhook(await self._webhook_message(job, content))
        address = job.delivery.address
        if not address:  # planning gives every email, SMS and chat delivery its address
            raise PermanentSendError(f"delivery {job.delivery.id} has no {channel} address")
        message = self.message_for(job, content, address, identity)
        if isinstance(message, EmailMessage):
            return await provider.send_email(message)
        if isinstance(message, ChatMessage):
            await self._wait_for_slot(address.partition(":")[0])
            return await provider.send_chat(message)
        return await provider.send_sms(message)

    async def _push(self, provider: Any, job: DeliveryJob, content: Content) -> SendResult:
        async with autocommit(self._sessions) as session:
            devices = await device_store.active_devices(
                session, job.delivery.tenant_id, job.recipient.id
            )
        if not devices:  # removed since planning: nothing to send to, and nothing will be
            raise PermanentSendError("the recipient has no active push device")
        message = PushMessage(
            device=devices[0],
            body=content.text,
            title=content.subject or None,
            icon=content.icon,
            action_url=content.action_url,
            data=push_data(job),
            reference=str(job.delivery.id),
        )
        outcome = await provider.send_to_devices(devices, message, self._wait_for_slot)
        if outcome.gone:
            async with self._sessions.begin() as session:
                await device_store.deactivate_devices(session, job.delivery.tenant_id, outcome.gone)
        response = {
            "devices": len(devices),
            "sent": sorted(outcome.sent),
            "gone": outcome.gone,
            "failed": {device: err.message for device, err in outcome.failed.items()},
        }
        if outcome.sent:
            first = next(iter(outcome.sent.values()))
            return SendResult(provider.name, first.message_id, response)
        transient = [e for e in outcome.failed.values() if isinstance(e, TransientSendError)]
        if transient:
            delays = [e.retry_after for e in transient if e.retry_after is not None]
            raise TransientSendError(
                f"no push device took it: {transient[0].message}",
                retry_after=max(delays) if delays else None,
                provider_down=any(e.provider_down for e in transient),
                response=response,
            )
        if outcome.failed:
            first_error = next(iter(outcome.failed.values()))
            raise PermanentSendError(
                f"no push device took it: {first_error.message}",
                provider_fault=getattr(first_error, "provider_fault", False),
                response=response,
            )
        raise PermanentSendError("every push device of the recipient is gone", response=response)

    async def _webhook_message(self, job: DeliveryJob, content: Content) -> WebhookMessage:
        tenant_id = job.delivery.tenant_id
        async with autocommit(self._sessions) as session:
            target = await webhook_channels.enabled_webhook_channel(session, tenant_id)
        if target is None:
            raise PermanentSendError("the tenant's webhook channel is not set or is disabled")
        previous = target.previous_secret_sealed
        return WebhookMessage(
            url=target.url,
            payload=webhook_payload(job, content),
            secret=self._open_secret(tenant_id, WEBHOOK_SECRET_KID, target.secret_sealed),
            reference=str(job.delivery.id),
            previous_secret=(
                self._open_secret(tenant_id, WEBHOOK_SECRET_KID, previous) if previous else None
            ),
        )


def push_data(job: DeliveryJob) -> dict[str, str]:
    """The push's data: the context's `data` mapping (strings), and the delivery's ids."""
    given = (job.notification.context or {}).get("data")
    data = {str(k): str(v) for k, v in given.items()} if isinstance(given, dict) else {}
    return data | {
        "herald_delivery_id": str(job.delivery.id),
        "event_key": job.notification.event_key,
    }


def webhook_payload(job: DeliveryJob, content: Content) -> dict[str, Any]:
    """What the webhook channel POSTs: the rendered notification and what it is about."""
    context = {k: v for k, v in (job.notification.context or {}).items() if not k.startswith("_")}
    return {
        "type": f"notification.{job.notification.event_key}",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {
            "delivery_id": str(job.delivery.id),
            "notification_id": str(job.notification.id),
            "event_key": job.notification.event_key,
            "priority": job.notification.priority,
            "recipient": {
                "id": str(job.recipient.id),
                "external_id": job.recipient.external_id,
            },
            "title": content.subject or None,
            "body": content.text,
            "action_url": content.action_url,
            "context": context,
        },
    }
