"""send_broadcast_batch: a broadcast page's pending email or SMS deliveries, sent in chunks.

Each chunk (CHUNK_SIZE deliveries, so a sweep of a whole audience never holds it all) is
claimed in one statement (db/broadcast_sends.py), rendered in one trip to the render thread
from templates read once, sent with at most BROADCAST_SEND_CONCURRENCY calls in flight per
provider (PROVIDER_RATE_LIMITS and the circuit breakers as for a single send: the pieces are
DeliveryActivities'), and recorded in one transaction. SendGrid gets the emails of a chunk
whose content differs only by address and unsubscribe link in one request
(channels/sendgrid.send_email_batch).

How a send that fails is settled, per delivery, as a single send's workflow would:
- the provider's fault (credentials refused, circuit open, not configured here): the next
  provider of `providers` at once, noted in the delivery's failover_log;
- transient (timeout, 5xx, 429): left pending with its error and retry_count + 1, for the
  workflow's next sweep; once `retry_window_ends` has passed, the next provider, or failed;
- the recipient's (a refused address, content that cannot render): failed.
"""

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.bookkeeping import UNAVAILABLE as DATABASE_UNAVAILABLE
from activities.content import Content, read_templates, render_read
from activities.delivery import RECORD_SENT_PATIENCE_SECONDS, DeliveryActivities
from activities.render_memo import PLACEHOLDER as UNSUBSCRIBE_PLACEHOLDER
from activities.render_memo import RenderMemo
from channels.base import (
    EmailMessage,
    PermanentSendError,
    SendResult,
    TransientSendError,
)
from channels.registry import Providers
from channels.sendgrid import MAX_PERSONALIZATIONS, Personalization
from config.settings import Settings
from db import broadcast_sends as store
from db.deliveries import DeliveryJob
from db.session import autocommit
from db.template_lookup import SendTemplates
from domain.broadcasts import SendBatchInput, SendBatchResult
from domain.email_headers import needs_smtputf8
from domain.send_failures import SendFailure
from domain.templating.context import OWNER_KEY, TEMPLATE_VERSION_KEY
from domain.templating.render_thread import in_render_thread
from domain.types import Channel, DeliveryStatus
from observability.metrics import DELIVERIES

log = logging.getLogger("herald.broadcast_sends")

CHUNK_SIZE = 200  # deliveries claimed, rendered, sent and recorded together
_LINK_HEADER = "List-Unsubscribe"
HEARTBEAT_EVERY_SECONDS = 5.0


@dataclass
class _Send:
    """One claimed delivery on its way: what it says, and how its attempts went."""

    job: DeliveryJob
    content: Content | None = None
    message: EmailMessage | None = None  # an email's, for batching
    link: str | None = None  # the email's unsubscribe link
    failovers: list[dict[str, str | None]] = field(default_factory=list)
    sent: SendResult | None = None
    error: BaseException | None = None  # the last attempt's failure, until it is settled
    settled: store.Unsent | None = None
    retry_after: float | None = None
    recorded: bool = False  # its send was recorded before the chunk's end (_Recorder)


@dataclass
class _Run:
    """One send_batch call: its progress, and whether it is to stop starting sends."""

    result: SendBatchResult
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    beaten_at: float = field(default_factory=time.monotonic)
    recorder: "_Recorder | None" = None  # the chunk's, while it sends

    def beat(self, now: bool = False) -> None:
        """Heartbeat the progress as sends finish, so the workflow's heartbeat timeout notices a
        dead worker within about a send's time; at most every HEARTBEAT_EVERY_SECONDS (each
        heartbeat is encoded, and encrypted, on its way), unless `now`."""
        moment = time.monotonic()
        if not activity.in_activity() or (
            not now and moment - self.beaten_at < HEARTBEAT_EVERY_SECONDS
        ):
            return
        self.beaten_at = moment
        activity.heartbeat(self.result.sent, self.result.failed, self.result.retrying)


class BroadcastSends:
    """`delivery`: the worker's DeliveryActivities, whose circuit breakers and send rates the
    broadcast's sends then share with single sends (a new one otherwise)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: Providers,
        settings: Settings,
        delivery: DeliveryActivities | None = None,
    ):
        self._sessions = sessions
        self._delivery = delivery or DeliveryActivities(sessions, providers, settings)
        self._concurrency = settings.broadcast_send_concurrency
        self._slots: dict[str, asyncio.Semaphore] = {}  # per provider, for every batch at once

    async def send_batch(self, input: SendBatchInput) -> SendBatchResult:
        run = _Run(SendBatchResult())
        result = run.result
        templates: dict[tuple, SendTemplates] = {}
        # A chunk's claim outlives every send the chunk can make, one provider after another.
        rounds = math.ceil(CHUNK_SIZE / self._concurrency) * max(len(input.providers), 1)
        lease = self._delivery.claim_seconds * rounds
        position: store.Position | None = None
        while True:
            async with autocommit(self._sessions) as session:
                jobs = await store.claim_chunk(session, input, position, CHUNK_SIZE, lease)
                if jobs:
                    await _read_templates(session, input, jobs, templates)
            if not jobs:
                break
            position = store.Position(jobs[-1].recipient.id, jobs[-1].delivery.id)
            await self._shielded_chunk(input, jobs, templates, run)
            run.beat(now=True)
            if len(jobs) < CHUNK_SIZE:
                break
        # Deliveries another attempt holds (a batch still running, or one whose worker died
        # with them claimed) are the next sweep's once their claim has run out.
        async with autocommit(self._sessions) as session:
            held, longest = await store.held_elsewhere(session, input)
        if held:
            result.retrying += held
            result.retry_after_seconds = max(result.retry_after_seconds or 0, longest or 0)
        return result

    async def _shielded_chunk(
        self,
        input: SendBatchInput,
        jobs: list[DeliveryJob],
        templates: dict[tuple, SendTemplates],
        run: _Run,
    ) -> None:
        """Send and record one chunk. Cancelled meanwhile (the workflow, the worker stopping),
        it starts no further send, but the sends a provider has taken are recorded before the
        cancellation goes on: otherwise a later batch would send them again."""
        run.stopping.clear()
        chunk = asyncio.create_task(self._chunk(input, jobs, templates, run))
        cancelled = False
        while not chunk.done():
            try:
                await asyncio.shield(chunk)
            except asyncio.CancelledError:
                if chunk.done():
                    break
                cancelled = True
                run.stopping.set()
        sent, failed, retrying, retry_after = chunk.result()
        result = run.result
        result.sent += sent
        result.failed += failed
        result.retrying += retrying
        if retry_after is not None:
            result.retry_after_seconds = max(result.retry_after_seconds or 0, retry_after)
        if cancelled:
            raise asyncio.CancelledError()

    async def _chunk(
        self,
        input: SendBatchInput,
        jobs: list[DeliveryJob],
        templates: dict[tuple, SendTemplates],
        run: _Run,
    ) -> tuple[int, int, int, float | None]:
        sends = await self._rendered(input, jobs, templates)
        window_ended = (
            input.retry_window_ends is not None and input.retry_window_ends <= datetime.now(UTC)
        )
        run.recorder = _Recorder(self, input.broadcast_id, self._concurrency)
        await self._send_all(input, [s for s in sends if s.settled is None], run, window_ended)
        await run.recorder.flushing()
        sent = [_sent_record(s) for s in sends if s.sent is not None and not s.recorded]
        unsent = [s.settled or _untried(s) for s in sends if s.sent is None]
        await self._record(input.broadcast_id, jobs, sent, unsent)
        retry_afters = [s.retry_after for s in sends if s.retry_after is not None]
        return (
            sum(1 for s in sends if s.sent is not None),
            sum(1 for u in unsent if u.final),
            sum(1 for u in unsent if not u.final and u.error is not None),
            max(retry_afters) if retry_afters else None,
        )

    async def _rendered(
        self, input: SendBatchInput, jobs: list[DeliveryJob], templates: dict[tuple, SendTemplates]
    ) -> list[_Send]:
        """Every job's content, rendered in one trip to the render thread; one that cannot be
        rendered is failed (rendering it again would fail the same way)."""
        linked = [self._delivery.with_unsubscribe_link(job) for job in jobs]
        contents = await in_render_thread(
            _render_all, [(job, templates[_template_key(job)]) for job in linked], RenderMemo()
        )
        sends = []
        for job, content in zip(jobs, contents, strict=True):
            send = _Send(job)
            if isinstance(content, ApplicationError):
                send.settled = _unsent(send, None, content, str(content.type), final=True)
            else:
                send.content = content
                if job.delivery.channel == Channel.EMAIL:  # emails may go in batches
                    send.message = self._delivery.sends.email_message(
                        job, content, job.delivery.address or "", job.identity
                    )
                link = content.headers.get(_LINK_HEADER, "")
                send.link = link[1:-1] if link.startswith("<") else None
            sends.append(send)
        return sends

    async def _send_all(
        self, input: SendBatchInput, sends: list[_Send], run: _Run, window_ended: bool
    ) -> None:
        """Through each provider in turn, for the sends the previous one could not take."""
        providers: Sequence[str | None] = input.providers or [None]
        waiting = sends
        for position, name in enumerate(providers):
            following = providers[position + 1] if position + 1 < len(providers) else None
            try:
                provider = self._delivery.provider_for(input.channel, name)
            except ApplicationError as err:
                for send in waiting:
                    send.error = err
            else:
                batches, singles = _grouped(provider, waiting)
                can_fail_over = following is not None
                await self._each(
                    [partial(self._send_batch, provider, b, can_fail_over, run) for b in batches]
                    + [partial(self._send_one, provider, s, can_fail_over, run) for s in singles]
                )
            moving = []
            for send in waiting:
                if send.error is None:
                    continue
                error, send.error = send.error, None
                kind, retry_after = _failure(error, window_ended)
                if kind in _MOVE_ON and following is not None:
                    send.failovers.append(
                        {"provider": name, "moved_to": following, "reason": _message(error)}
                    )
                    moving.append(send)
                    continue
                send.retry_after = retry_after
                final = window_ended or kind not in (SendFailure.TRANSIENT,)
                send.settled = _unsent(send, name, error, str(kind), final=final)
            waiting = moving

    async def _send_one(self, provider, send: _Send, can_fail_over: bool, run: _Run):
        async with self._slot(provider.name):
            if run.stopping.is_set():  # cancelled: left as it was, for the next batch
                return
            try:
                await self._delivery.take_send_slot(provider.name)
                async with self._delivery.circuits.call(provider.name, can_fail_over):
                    assert send.content is not None  # rendered, or settled already
                    send.sent = await self._delivery.sends.send(
                        provider, send.job, send.content, send.job.identity
                    )
            except Exception as err:
                send.error = err
        _count(send.job.delivery.channel, provider.name, [send])
        if send.sent is not None and run.recorder is not None:
            await run.recorder.taken([send])
        run.beat()

    async def _send_batch(
        self, provider, sends: list[_Send], can_fail_over: bool, run: _Run
    ) -> None:
        """One request for every send of the group; a refusal that may be one recipient's
        (SendGrid names the personalization) sends each of them on its own instead."""
        shared = _shared_message(sends[0])
        recipients = [
            Personalization(
                send.job.delivery.address or "",
                str(send.job.delivery.id),
                {UNSUBSCRIBE_PLACEHOLDER: send.link} if send.link else {},
                {_LINK_HEADER: f"<{send.link}>"} if send.link else {},
            )
            for send in sends
        ]
        async with self._slot(provider.name):
            if run.stopping.is_set():
                return
            try:
                await self._delivery.take_send_slot(provider.name)
                async with self._delivery.circuits.call(provider.name, can_fail_over):
                    result = await provider.send_email_batch(shared, recipients)
            except PermanentSendError as err:
                if err.provider_fault:
                    for send in sends:
                        send.error = err
                    return
                refused = err
            except Exception as err:
                for send in sends:
                    send.error = err
                return
            else:
                for send in sends:
                    send.sent = result
                _count(Channel.EMAIL, provider.name, sends)
                if run.recorder is not None:
                    await run.recorder.taken(sends)
                run.beat()
                return
        log.info("a batch of %s was refused (%s): sent one by one", len(sends), refused.message)
        await self._each([partial(self._send_one, provider, s, can_fail_over, run) for s in sends])

    async def _each(self, calls: list[Callable[[], Awaitable[None]]]) -> None:
        """Every call, by at most BROADCAST_SEND_CONCURRENCY tasks taking the next in turn:
        a chunk's 200 sends all waiting on the provider's semaphore at once made each of its
        acquisitions scan the waiters (asyncio, Python 3.11), a tenth of the batch's CPU."""
        pending = iter(calls)

        async def taking_turns() -> None:
            for call in pending:
                await call()

        await asyncio.gather(*(taking_turns() for _ in range(min(self._concurrency, len(calls)))))

    def _slot(self, provider: str) -> asyncio.Semaphore:
        if provider not in self._slots:
            self._slots[provider] = asyncio.Semaphore(self._concurrency)
        return self._slots[provider]

    async def _record(
        self,
        broadcast_id: uuid.UUID,
        jobs: list[DeliveryJob],
        sent: list[store.Sent],
        unsent: list[store.Unsent],
    ) -> None:
        """The chunk's outcomes in one transaction, retried for a while when the database is
        away (a restart takes seconds): the providers have taken the sent ones, and their
        claims keep any other batch from sending them until then."""
        deadline = time.monotonic() + RECORD_SENT_PATIENCE_SECONDS
        pause = 0.2
        while True:
            try:
                async with self._sessions.begin() as session:
                    await store.record_chunk(session, broadcast_id, jobs, sent, unsent)
                return
            except DATABASE_UNAVAILABLE:
                if time.monotonic() + pause > deadline:
                    log.error(
                        "a chunk of broadcast %s was sent but not recorded: its %s claims run"
                        " out after their lease",
                        broadcast_id,
                        len(jobs),
                    )
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)


class _Recorder:
    """Records a chunk's sends as providers take them, a group at a time, instead of once the
    whole chunk is done: a worker killed mid-chunk (SIGKILL: nothing can record what it sent)
    leaves fewer sends unrecorded, each of which a later batch sends again once its claim runs
    out. At most `group` sends wait for a record, plus the one group being written, plus those
    in flight: about twice BROADCAST_SEND_CONCURRENCY, where a chunk (CHUNK_SIZE) was 200.
    A group is written while the next sends go on; one group at a time: a send that completes
    a group while the previous one is still being written waits for that write (so a slow
    database holds the sends back rather than letting unrecorded sends pile up)."""

    def __init__(self, sends: "BroadcastSends", broadcast_id: uuid.UUID, group: int):
        self._sends = sends
        self._broadcast_id = broadcast_id
        self._group = group
        self._waiting: list[_Send] = []
        self._writing: asyncio.Task[None] | None = None

    async def taken(self, sends: list[_Send]) -> None:
        self._waiting.extend(sends)
        if len(self._waiting) < self._group:
            return
        if self._writing is not None and not self._writing.done():
            await asyncio.wait([self._writing])
            if len(self._waiting) < self._group:  # another send started the next write
                return
        group, self._waiting = self._waiting, []
        self._writing = asyncio.create_task(self._write(group))

    async def _write(self, group: list[_Send]) -> None:
        sent = [_sent_record(send) for send in group]
        try:
            await self._sends._record(self._broadcast_id, [s.job for s in group], sent, [])
        except DATABASE_UNAVAILABLE:  # the chunk's own record writes them after all
            return
        for send in group:
            send.recorded = True

    async def flushing(self) -> None:
        """The group being written has been (the rest is the chunk's own record's)."""
        if self._writing is not None:
            await asyncio.wait([self._writing])


# The failures that are the provider's, not the recipient's: the next provider may succeed.
_MOVE_ON = frozenset({SendFailure.PROVIDER_REFUSED, SendFailure.PROVIDER_UNAVAILABLE})


def _failure(error: BaseException, window_ended: bool) -> tuple[SendFailure, float | None]:
    """How a send failed (domain.send_failures), and the provider's Retry-After. A transient
    failure once the retry window has ended moves on to the next provider, as a single send's
    workflow fails over once its retries on one provider are spent."""
    if isinstance(error, TransientSendError):
        kind = SendFailure.PROVIDER_UNAVAILABLE if window_ended else SendFailure.TRANSIENT
        return kind, error.retry_after
    if isinstance(error, PermanentSendError):
        return (
            SendFailure.PROVIDER_REFUSED if error.provider_fault else SendFailure.PERMANENT
        ), None
    if isinstance(error, ApplicationError):  # an open circuit, the rate used up, no provider
        delay = error.next_retry_delay
        kind = SendFailure(error.type) if error.type in set(SendFailure) else SendFailure.TRANSIENT
        if kind == SendFailure.TRANSIENT and window_ended:
            kind = SendFailure.PROVIDER_UNAVAILABLE
        return kind, None if delay is None else delay.total_seconds()
    # Anything else (a timeout, a bug in an SDK): the next sweep tries again, as Temporal
    # would retry a single send's attempt.
    return SendFailure.TRANSIENT, None


def _message(error: BaseException) -> str:
    return getattr(error, "message", None) or str(error) or type(error).__name__


def _unsent(
    send: _Send, provider: str | None, error: BaseException, reason: str, *, final: bool
) -> store.Unsent:
    return store.Unsent(
        send.job.delivery.id,
        provider,
        _message(error),
        reason if final else None,
        final,
        getattr(error, "response", None) or {},
        send.failovers,
    )


def _untried(send: _Send) -> store.Unsent:
    """Cancelled before its turn: its claim is given back, nothing else changes."""
    return store.Unsent(send.job.delivery.id, None, None, None, False, {}, send.failovers)


def _sent_record(send: _Send) -> store.Sent:
    assert send.sent is not None and send.content is not None
    return store.Sent(
        send.job.delivery.id,
        send.sent.provider,
        send.sent.message_id,
        send.sent.response,
        send.content.subject,
        send.content.template_version_id,
        send.failovers,
    )


def _count(channel: str, provider: str, sends: list[_Send]) -> None:
    for send in sends:
        status = DeliveryStatus.SENT if send.sent is not None else "error"
        DELIVERIES.labels(channel, provider, status).inc()


def _template_key(job: DeliveryJob) -> tuple:
    """What picks a notification's candidate templates (activities/content.templates_for): a
    broadcast's notifications share it, so they are read once."""
    context = job.notification.context or {}
    return (
        job.delivery.channel,
        job.notification.event_key,
        str(context.get(OWNER_KEY)),
        str(context.get(TEMPLATE_VERSION_KEY)),
    )


async def _read_templates(
    session: AsyncSession,
    input: SendBatchInput,
    jobs: list[DeliveryJob],
    templates: dict[tuple, SendTemplates],
) -> None:
    for job in jobs:
        key = _template_key(job)
        if key not in templates:
            templates[key] = await read_templates(
                session, input.tenant_id, input.channel, job.notification
            )


def _render_all(
    work: list[tuple[DeliveryJob, SendTemplates]], memo: RenderMemo
) -> list[Content | ApplicationError]:
    """In the render thread: each job's content, or why it cannot have one; the recipients of
    the same content are rendered once (render_memo)."""
    rendered: list[Content | ApplicationError] = []
    for job, found in work:
        try:
            channel, notification, recipient = job.delivery.channel, job.notification, job.recipient
            rendered.append(render_read(found, channel, notification, recipient, memo.render))
        except ApplicationError as error:
            rendered.append(error)
    return rendered


def _grouped(provider, sends: list[_Send]) -> tuple[list[list[_Send]], list[_Send]]:
    """For a provider that sends batches: the emails whose content is the same but for the
    address and the unsubscribe link, in groups of up to MAX_PERSONALIZATIONS; the rest, one
    by one."""
    if not hasattr(provider, "send_email_batch"):
        return [], sends
    groups: dict[tuple, list[_Send]] = {}
    singles = []
    for send in sends:
        if not isinstance(send.message, EmailMessage) or needs_smtputf8(send.message.to):
            singles.append(send)
            continue
        groups.setdefault(_shared_form(send), []).append(send)
    batches = []
    for group in groups.values():
        if len(group) == 1:
            singles.extend(group)
            continue
        for start in range(0, len(group), MAX_PERSONALIZATIONS):
            batches.append(group[start : start + MAX_PERSONALIZATIONS])
    return batches, singles


def _shared_message(send: _Send) -> EmailMessage:
    """The email with the recipient's own link replaced by the placeholder, without its own
    List-Unsubscribe header (each personalization has its own)."""
    message = send.message
    assert isinstance(message, EmailMessage)
    link = send.link

    def shared(value: str) -> str:
        return value.replace(link, UNSUBSCRIBE_PLACEHOLDER) if link else value

    return replace(
        message,
        to=message.to,
        subject=shared(message.subject),
        text=shared(message.text),
        html=shared(message.html) if message.html is not None else None,
        headers={k: v for k, v in message.headers.items() if k != _LINK_HEADER},
    )


def _shared_form(send: _Send) -> tuple:
    """What a batch's emails must have in common."""
    message = _shared_message(send)
    return (
        message.sender,
        message.reply_to,
        message.subject,
        message.text,
        message.html,
        tuple(sorted(message.headers.items())),
    )
