"""The send activity: render one channel's content, hand it to the provider, record the result."""

import asyncio
import logging
import time
import uuid
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.bookkeeping import UNAVAILABLE as DATABASE_UNAVAILABLE
from activities.channel_sends import ChannelSends
from activities.circuits import ProviderCircuits
from activities.content import Content, render_content
from channels.base import PermanentSendError, SendError, TransientSendError
from channels.registry import Providers, declared_send_rates
from config.settings import Settings
from db import deliveries as store
from db.inbox_events import append_event
from db.session import autocommit
from domain.contracts import DeliverInput, DeliverResult, SentRecord
from domain.email_headers import EmailIdentity
from domain.inbox import InboxEventKind
from domain.operators import operator_link
from domain.send_failures import SendFailure
from domain.send_rate import parse_send_rates
from domain.types import FINAL_DELIVERY_STATUSES, Channel, DeliveryStatus, subscription_category
from domain.unsubscribe import Unsubscribe, unsubscribe_url
from observability.metrics import DELIVERIES, PROVIDER_SECONDS
from services.errors import Unavailable
from services.inbox_secrets import secret_box

log = logging.getLogger("herald.delivery")
# How long a send's record is retried in the activity before the workflow takes it over: well
# inside an attempt's own timeout (DELIVERY_ATTEMPT_TIMEOUT_SECONDS, 30 by default).
RECORD_SENT_PATIENCE_SECONDS = 10.0
MAX_RATE_WAIT_SECONDS = 5.0
# A send's claim on its delivery outlives the attempt's own timeout by this much.
CLAIM_MARGIN_SECONDS = 5.0


class DeliveryActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], providers: Providers, settings: Settings
    ):
        self._sessions = sessions
        self._providers = providers
        self._public_base_url = settings.public_base_url
        # Without a key there is nothing to sign links with: emails then go without one.
        self._signing_key = settings.signing_key() if settings.secret_key else None
        self._circuits = ProviderCircuits(sessions, settings)
        # Each provider's declared rate (channels/declaration.py), unless PROVIDER_RATE_LIMITS
        # sets its own.
        self._send_rates = declared_send_rates() | parse_send_rates(settings.provider_rate_limits)
        self._claim_seconds = settings.delivery_attempt_timeout_seconds + CLAIM_MARGIN_SECONDS
        self._sends = ChannelSends(
            sessions,
            settings.email_from,
            settings.from_domains,
            _secret_opener(settings),
            self.wait_for_send_slot,
        )

    @activity.defn(name="deliver")
    async def deliver(self, input: DeliverInput) -> DeliverResult:
        return await self.attempt(input, input.earlier_attempts + activity.info().attempt)

    @property
    def circuits(self) -> ProviderCircuits:
        """This worker's circuit breakers (one per provider), shared by every send it makes."""
        return self._circuits

    @property
    def claim_seconds(self) -> float:
        """How long a send's claim holds: past the attempt's own timeout."""
        return self._claim_seconds

    async def attempt(
        self, input: DeliverInput, attempt: int, job: store.DeliveryJob | None = None
    ) -> DeliverResult:
        """Send attempt number `attempt` (the first is 1) of one delivery, and record it.
        `job`: the delivery's job, read and claimed for this attempt already (plan_and_send
        claims the send it makes in the statement that records the plan)."""
        delivery_id = input.delivery_id
        # One session for the job and its template; closed before the provider is called.
        async with autocommit(self._sessions) as session:
            if job is None:
                # The read claims a send to a provider for this attempt, in the same round
                # trip: another attempt of the same send (the workflow task timed out on a busy
                # worker, and its local first attempt ran again) finds the claim and is retried
                # once it ends, by when this attempt has recorded the send: the message goes
                # once. The claim outlives the attempt's own timeout, after which Temporal has
                # given up on this attempt.
                job = await store.load_and_claim_delivery_job(
                    session, delivery_id, input.tenant_id, self._claim_seconds
                )
                if job is None:
                    raise ApplicationError(
                        "delivery not found", type=SendFailure.NOT_FOUND, non_retryable=True
                    )
                if job.delivery.status in FINAL_DELIVERY_STATUSES:
                    # An earlier attempt finished after the server stopped waiting for it:
                    # never send twice.
                    return _result(job.delivery)
                if job.claim_held_for is not None:
                    raise ApplicationError(
                        f"another attempt is sending delivery {delivery_id}; retried when it is"
                        " done",
                        type=SendFailure.IN_FLIGHT,
                        next_retry_delay=timedelta(seconds=max(job.claim_held_for, 1.0)),
                    )
            try:
                content = await render_content(session, self.with_unsubscribe_link(job))
            except BaseException:
                await self._release_claim(job)
                raise
        if job.delivery.channel == Channel.IN_APP:
            return await self._store_in_app(job, content, attempt, input.settles_as)
        try:
            provider = self.provider_for(job.delivery.channel, input.provider)
            await self.take_send_slot(provider.name)
        except BaseException:  # nothing was sent: the next attempt need not wait for the claim
            await self._release_claim(job)
            raise
        # From the call to the provider until the send is recorded, nothing may interrupt: a
        # cancellation (the workflow task this attempt ran in timed out on a busy worker, the
        # worker stopping) between the provider taking the message and the record would leave
        # it unrecorded, and a later attempt would send it again. The shielded task finishes
        # on its own; this attempt stops waiting for it.
        return await asyncio.shield(
            self._send_and_record(input, job, content, provider, job.identity, attempt)
        )

    async def _send_and_record(
        self,
        input: DeliverInput,
        job: store.DeliveryJob,
        content: Content,
        provider,
        identity: EmailIdentity,
        attempt: int,
    ) -> DeliverResult:
        delivery_id = input.delivery_id
        started = time.perf_counter()
        try:
            # Every end of the send is recorded once.
            async with self._circuits.call(provider.name, input.can_fail_over):
                sent = await self._sends.send(provider, job, content, identity)
        except ApplicationError:  # the circuit refused the call: nothing was sent
            await self._release_send(delivery_id)
            raise
        except SendError as err:
            PROVIDER_SECONDS.labels(provider.name, "error").observe(time.perf_counter() - started)
            DELIVERIES.labels(job.delivery.channel, provider.name, "error").inc()
            raise await self._attempt_failed(delivery_id, err, attempt, provider.name) from err
        PROVIDER_SECONDS.labels(provider.name, "accepted").observe(time.perf_counter() - started)
        DELIVERIES.labels(job.delivery.channel, provider.name, DeliveryStatus.SENT).inc()

        record = SentRecord(
            delivery_id,
            sent.provider,
            sent.message_id,
            sent.response,
            content.subject,
            content.template_version_id,
            retry_count=attempt - 1,
            settles_as=input.settles_as,
        )
        recorded = await self._record_sent_patiently(record)
        return DeliverResult(
            delivery_id,
            DeliveryStatus.SENT,
            sent.provider,
            sent.message_id,
            unrecorded=None if recorded else record,
        )

    async def _record_sent_patiently(self, record: SentRecord) -> bool:
        """The provider has the message: from here on, an error would make Temporal retry the
        send, and the recipient get it twice. So the record is retried here for a while (a
        database restart takes seconds), and if the database is still away, the send is
        reported done all the same, with its record for the workflow to write later
        (`record_sent`, retried as bookkeeping is). False in that case."""
        deadline = time.monotonic() + RECORD_SENT_PATIENCE_SECONDS
        pause = 0.2
        while True:
            try:
                await self.record_sent(record)
                return True
            except DATABASE_UNAVAILABLE as exc:
                if time.monotonic() + pause > deadline:
                    log.warning(
                        "delivery %s was sent but not recorded (%s): the workflow records it",
                        record.delivery_id,
                        type(exc).__name__,
                    )
                    return False
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)

    @activity.defn(name="record_sent")
    async def record_sent(self, record: SentRecord) -> None:
        """Write a send the provider accepted (also the workflow's bookkeeping step for a send
        whose record could not be written at the time)."""
        async with autocommit(self._sessions) as session:
            await store.mark_sent(
                session,
                record.delivery_id,
                settles_as=record.settles_as,
                provider=record.provider,
                provider_message_id=record.provider_message_id,
                provider_response=record.provider_response,
                subject=record.subject,
                template_version_id=record.template_version_id,
                retry_count=record.retry_count,
            )

    async def _release_claim(self, job: store.DeliveryJob) -> None:
        if job.claimed:
            await self._release_send(job.delivery.id)

    async def _release_send(self, delivery_id: uuid.UUID) -> None:
        """Nothing was sent: the next attempt need not wait for the claim to run out."""
        try:
            async with autocommit(self._sessions) as session:
                await store.release_send(session, delivery_id)
        except DATABASE_UNAVAILABLE:  # the claim runs out by itself
            log.warning("claim on delivery %s not released", delivery_id)

    async def take_send_slot(self, provider: str) -> None:
        """Wait for the provider's next send slot (PROVIDER_RATE_LIMITS); one further away
        than MAX_RATE_WAIT_SECONDS is retried by the server then, not waited for here."""
        rate = self._send_rates.get(provider)
        if rate is None:
            return
        wait = rate.wait_for_slot(time.monotonic())
        if wait > MAX_RATE_WAIT_SECONDS:
            raise ApplicationError(
                f"{provider}'s send rate ({rate.per_second:g}/s on this worker) is used up",
                type=SendFailure.TRANSIENT,
                next_retry_delay=timedelta(seconds=wait),
            )
        await asyncio.sleep(wait)

    async def wait_for_send_slot(self, provider: str) -> None:
        """Wait however long for the provider's next slot: for the platforms behind a routed
        channel (a push device's kind, a chat platform), whose send has begun and cannot be
        handed back to Temporal half done."""
        rate = self._send_rates.get(provider)
        if rate is not None:
            await asyncio.sleep(rate.wait_for_slot(time.monotonic()))

    def with_unsubscribe_link(self, job: store.DeliveryJob) -> store.DeliveryJob:
        """Every email gets a signed one-click link that turns off its category for this
        recipient, and an operator's invitation or reset its link."""
        if job.delivery.channel != Channel.EMAIL or self._signing_key is None:
            return job
        link = unsubscribe_url(
            self._public_base_url,
            self._signing_key,
            Unsubscribe(
                str(job.delivery.tenant_id),
                str(job.recipient.id),
                subscription_category(job.notification.event_key),
            ),
        )
        context = {**(job.notification.context or {}), "unsubscribe_url": link}
        # An invitation or password reset to an operator: its link, made for this address
        # (never stored, so Herald's history shows no usable link).
        context |= operator_link(
            self._public_base_url,
            self._signing_key,
            job.notification.event_key,
            context,
            job.delivery.address or "",
        )
        return replace(job, notification=replace(job.notification, context=context))

    def provider_for(self, channel: str, name: str | None):
        """The named provider of the channel (None: its first); ProviderUnavailable when this
        worker has no such provider."""
        try:
            return self._providers.provider(channel, name)
        except KeyError:
            if name:
                raise ApplicationError(
                    f"provider {name} is not configured on this worker",
                    type=SendFailure.PROVIDER_UNAVAILABLE,
                    non_retryable=True,
                ) from None
            raise ApplicationError(
                f"no provider for channel {channel} is configured",
                type=SendFailure.PERMANENT,
                non_retryable=True,
            ) from None

    @property
    def sends(self) -> ChannelSends:
        """How a rendered delivery goes to its provider, on every channel."""
        return self._sends

    async def _store_in_app(
        self, job: store.DeliveryJob, content, attempt: int, settles_as: str | None
    ) -> DeliverResult:
        """An in-app message is delivered the moment its row exists."""
        now = store.now()
        async with self._sessions.begin() as session:
            message = await store.store_in_app_message(
                session,
                dict(
                    id=job.delivery.id,
                    tenant_id=job.delivery.tenant_id,
                    recipient_id=job.recipient.id,
                    notification_id=job.notification.id,
                    title=content.subject,
                    body=content.text,
                    action_url=content.action_url,
                    priority=job.notification.priority,
                ),
            )
            if message is not None:  # the recipient's open inboxes show it at once
                await append_event(
                    session,
                    job.delivery.tenant_id,
                    job.recipient.id,
                    InboxEventKind.CREATED,
                    {"message": message.as_json()},
                )
            await store.update_delivery(
                session,
                job.delivery.id,
                status=DeliveryStatus.DELIVERED,
                provider="database",
                subject=content.subject,
                template_version_id=content.template_version_id,
                retry_count=attempt - 1,
                sent_at=now,
                delivered_at=now,
            )
            if settles_as:
                await store.set_notification_status(session, job.notification.id, settles_as)
        return DeliverResult(job.delivery.id, DeliveryStatus.DELIVERED, "database")

    async def _attempt_failed(
        self, delivery_id: uuid.UUID, err: SendError, attempt: int, provider: str
    ) -> ApplicationError:
        """Record the failed attempt and say how Temporal should treat it."""
        await self._record_attempt_error(delivery_id, err, attempt, provider)
        if isinstance(err, TransientSendError):
            delay = timedelta(seconds=err.retry_after) if err.retry_after is not None else None
            return ApplicationError(err.message, type=SendFailure.TRANSIENT, next_retry_delay=delay)
        # The provider refusing us (credentials) is its problem: the workflow fails over.
        # The provider refusing the recipient would be refused by any provider: it does not.
        kind = (
            SendFailure.PROVIDER_REFUSED
            if getattr(err, "provider_fault", False)
            else SendFailure.PERMANENT
        )
        return ApplicationError(err.message, type=kind, non_retryable=True)

    async def _record_attempt_error(
        self, delivery_id: uuid.UUID, err, attempt: int, provider: str
    ) -> None:
        """Each failed attempt is visible at once, while Temporal waits to retry it."""
        async with self._sessions.begin() as session:
            await store.update_delivery(
                session,
                delivery_id,
                provider=provider,
                error=err.message,
                retry_count=attempt,
                provider_response=err.response or None,
                send_claimed_until=None,  # the next attempt may go at once
            )


def _secret_opener(settings: Settings):
    """Opens a tenant's sealed secrets (the webhook channel's); without SECRET_KEY there are
    none to open, and a webhook send fails saying why."""

    def open_secret(tenant_id: uuid.UUID, kid: str, sealed: str) -> str:
        try:
            return secret_box(settings).open(tenant_id, kid, sealed)
        except Unavailable as exc:  # retrying cannot help until an operator acts
            raise PermanentSendError(
                f"cannot open the tenant's {kid} secret: {exc}", provider_fault=True
            ) from exc

    return open_secret


def _result(delivery) -> DeliverResult:
    return DeliverResult(
        delivery.id,
        DeliveryStatus(delivery.status),
        delivery.provider,
        delivery.provider_message_id,
    )
