"""Fake activities for the workflow unit tests, and the contract values they trade in.

Each fake is registered under the real activity's name (`@activity.defn(name=...)`), records
what the workflow asked of it, and answers with the contract dataclasses, or raises the
ApplicationError the real activity would; the builders below make the contract values the
tests start from. When a contract or an activity name changes, this is the file to adapt.
"""

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.immediate import report
from domain.booking_contracts import (
    AgendaDay,
    BookingConfigInput,
    BookingDetails,
    BookingEvent,
    BookingEventType,
    BookingInput,
    ChainConfig,
    DailyAgendaInput,
    LoadAgendaInput,
    NoticeCreated,
    NoticeRequest,
    Person,
    RecordBookingInput,
)
from domain.bookkeeping import CANNOT_SUCCEED
from domain.contracts import (
    ChannelState,
    CounterSlot,
    DeliverInput,
    DeliverResult,
    DeliveryRetry,
    DigestInput,
    DigestItem,
    EnqueueDigestInput,
    FailoverInput,
    FallbackPlanInput,
    FallbackSpec,
    FirstAttempt,
    NotificationInput,
    Plan,
    PlanAndSendInput,
    PlanInput,
    RecordedStatus,
    RecordedStatusInput,
    RecordOutcomeInput,
    ReplanInput,
    SendDigestInput,
    SentRecord,
)
from domain.immediate import first_send
from domain.inbox_snooze import SnoozeWakeUp
from domain.maintenance import (
    DailyStatsInput,
    DailyStatsResult,
    FailureMonitorInput,
    FailureMonitorResult,
    PurgeInput,
    PurgeResult,
    RetryFailedInput,
    RetryFailedResult,
    StrandedBroadcastsInput,
    StrandedBroadcastsResult,
)
from domain.preferences import DigestFrequency
from domain.status_webhooks import AttemptOutcome, FailedStatusWebhook, StatusWebhookAttempt
from domain.types import Channel, DeliveryStatus

T = TypeVar("T")

# Retries short enough that a test never waits on a real clock, long enough to be visible.
FAST_RETRY = DeliveryRetry(max_attempts=3, initial_seconds=1.0, max_interval_seconds=10.0)


# --- times and ids --------------------------------------------


def utc_now() -> datetime:
    """A workflow's virtual clock starts at the real time when it starts."""
    return datetime.now(UTC)


def whole_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def new_booking_id() -> str:
    return f"bk-{uuid.uuid4().hex[:10]}"  # the booking service's own id


def delivery_id(notification_id: uuid.UUID, channel: str) -> uuid.UUID:
    """One delivery per notification and channel, as the real plan names them."""
    return uuid.uuid5(notification_id, channel)


# --- contract builders ----------------------------------------------------------------------


def notification(
    *,
    send_at: datetime | None = None,
    providers: dict[str, list[str]] | None = None,
    retry: DeliveryRetry = FAST_RETRY,
    resend: ChannelState | None = None,
) -> NotificationInput:
    return NotificationInput(
        new_id(), new_id(), "order.shipped", send_at, retry, providers or {}, resend
    )


def channel(
    notification_id: uuid.UUID,
    name: str = "email",
    status: DeliveryStatus = DeliveryStatus.PENDING,
    *,
    until: datetime | None = None,
    digest_frequency: str | None = None,
) -> ChannelState:
    return ChannelState(
        delivery_id(notification_id, name),
        Channel(name),
        status,
        until=until,
        digest_frequency=DigestFrequency(digest_frequency) if digest_frequency else None,
    )


def plan(
    *channels: ChannelState,
    slots: Sequence[CounterSlot] = (),
    fallback: FallbackSpec | None = None,
    retry_window_seconds: float | None = None,
) -> Plan:
    return Plan(list(channels), list(slots), fallback, retry_window_seconds)


def digest_item(
    notification_id: uuid.UUID, flush_at: datetime, summary: str = "Order shipped"
) -> DigestItem:
    return DigestItem(notification_id, "order.shipped", summary, utc_now(), flush_at)


def digest(flush_at: datetime, *, recently_sent: Sequence[uuid.UUID] = ()) -> DigestInput:
    return DigestInput(
        new_id(),
        new_id(),
        "order",
        DigestFrequency.HOURLY,
        flush_at,
        recently_sent=list(recently_sent),
    )


ORGANIZER = Person("Ada Organizer", "ada@example.com", timezone="America/New_York", id="org-ada")
INVITEE = Person("Grace Guest", "grace@example.com", timezone="Europe/Berlin")


def booking_input(booking_id: str, **options: Any) -> BookingInput:
    return BookingInput(new_id(), booking_id, **options)


def booking(booking_id: str, start: datetime, minutes: int = 30) -> BookingDetails:
    end = start + timedelta(minutes=minutes)
    return BookingDetails(booking_id, ORGANIZER, INVITEE, start, end, "Intro call")


def booking_event(
    type: BookingEventType, details: BookingDetails, *, event_id: str | None = None
) -> BookingEvent:
    return BookingEvent(event_id or f"evt-{new_id()}", type, utc_now(), details)


def agenda_input(
    organizer_id: str, timezone: str, *, send_empty: bool = False, day: str | None = None
) -> DailyAgendaInput:
    return DailyAgendaInput(new_id(), organizer_id, timezone, send_empty, day)


def agenda_day(organizer: Person | None, *bookings: dict[str, Any]) -> AgendaDay:
    return AgendaDay(organizer, "Tuesday, December 1, 2026", list(bookings))


def snooze(ahead: timedelta) -> SnoozeWakeUp:
    """A message snoozed until `ahead` from now."""
    return SnoozeWakeUp(new_id(), new_id(), new_id(), utc_now() + ahead)


# --- failures, as activities/delivery.py raises them ------------------------------------------


def transient(
    message: str = "421 try again later", retry_after: timedelta | None = None
) -> ApplicationError:
    return ApplicationError(message, type="TransientSendError", next_retry_delay=retry_after)


def permanent(message: str = "550 no such mailbox") -> ApplicationError:
    """The recipient's fault: another provider would fail alike."""
    return ApplicationError(message, type="PermanentSendError", non_retryable=True)


def database_unavailable(step: str = "plan_notification") -> ApplicationError:
    """A bookkeeping step's failure that can heal (activities/bookkeeping.py): retried."""
    return ApplicationError(
        f"{step}: the database is unavailable (OperationalError)", type="OperationalError"
    )


def cannot_succeed(
    step: str = "plan_notification",
    problem: str = "stored Preferences are invalid: dnd: Value error, a window of zero length",
) -> ApplicationError:
    """A bookkeeping step's failure that never heals (stored state it cannot read)."""
    return ApplicationError(f"{step}: {problem}", type=CANNOT_SUCCEED, non_retryable=True)


def provider_unavailable(
    message: str = "provider a is not configured on this worker",
) -> ApplicationError:
    return ApplicationError(message, type="ProviderUnavailable", non_retryable=True)


# --- the fakes -------------------------------------------------------------------------------


def loud(fake: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """A fake's own bug (a TypeError after a contract changed, say) fails the workflow at once,
    instead of being retried as long as the real activity would be."""

    @functools.wraps(fake)
    async def run(*args: Any) -> T:
        try:
            return await fake(*args)
        except ApplicationError:
            raise
        except Exception as err:
            raise ApplicationError(
                f"the fake {fake.__name__} broke: {err!r}", type="FakeBroken", non_retryable=True
            ) from err

    return run


def registered(fake: object) -> list[Callable[..., Any]]:
    """A fake's activities, as a worker registers them: its `@activity.defn` methods."""
    return [
        getattr(fake, name)
        for name, member in vars(type(fake)).items()
        if hasattr(member, "__temporal_activity_definition")
    ]


@dataclass
class Attempt:
    """One call of the deliver activity: a local first attempt, or one of the server's retries."""

    input: DeliverInput
    local: bool
    attempt: int


PlanStep = PlanInput | ReplanInput | FallbackPlanInput


class NotificationActivities:
    """NotificationWorkflow's activities. A test scripts the plans its three planning steps
    answer, in turn, what each delivery's sends do (an unscripted send succeeds), and the
    statuses the database holds (a delivery sent and never reported on is `sent`)."""

    def __init__(self) -> None:
        self._plans: dict[uuid.UUID, list[Plan | Exception]] = {}
        self._sends: dict[uuid.UUID, list[DeliverResult | Exception]] = {}
        self.planned: list[PlanStep] = []  # what each planning step was asked, in order
        self.attempts: list[Attempt] = []
        self.outcomes: list[RecordOutcomeInput] = []
        # What the next calls of a recording step raise, by activity name: record_outcome,
        # record_failover, enqueue_digest.
        self.failing: dict[str, list[Exception]] = {}
        self.failovers: list[FailoverInput] = []
        self.digested: list[EnqueueDigestInput] = []
        self.recorded_sends: list[SentRecord] = []
        self.recorded_statuses: dict[uuid.UUID, DeliveryStatus] = {}
        self.status_reads: list[RecordedStatusInput] = []  # what recorded_delivery_status read
        self.planning_and_sending = asyncio.Event()  # set once plan_and_send has begun
        self._held_planning: asyncio.Event | None = None

    def hold_plan_and_send(self) -> asyncio.Event:
        """plan_and_send waits (once it has planned) until the returned event is set."""
        self._held_planning = asyncio.Event()
        return self._held_planning

    def will_plan(self, notification_id: uuid.UUID, *plans: Plan | Exception) -> None:
        """The answers to this notification's planning steps (each attempt of each), in order;
        an exception is raised."""
        self._plans[notification_id] = list(plans)

    def will_send(self, delivery: uuid.UUID, *outcomes: DeliverResult | Exception) -> None:
        """What this delivery's deliver calls do, in order (an exception is raised); once
        they are used up, a call succeeds."""
        self._sends[delivery] = list(outcomes)

    def one_email(
        self, input: NotificationInput, *outcomes: DeliverResult | Exception
    ) -> ChannelState:
        """The common script: a plan of one email to send now, whose sends do `outcomes`."""
        email = channel(input.notification_id)
        self.will_plan(input.notification_id, plan(email))
        self.will_send(email.delivery_id, *outcomes)
        return email

    def providers_tried(self, delivery: uuid.UUID) -> list[str | None]:
        return [a.input.provider for a in self.attempts if a.input.delivery_id == delivery]

    def _next_plan(self, step: PlanStep) -> Plan:
        self.planned.append(step)
        plans = self._plans.get(step.notification_id)
        if not plans:
            raise ApplicationError("the test scripted no (further) plan", non_retryable=True)
        answer = plans.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @activity.defn(name="plan_notification")
    @loud
    async def plan_notification(self, input: PlanInput) -> Plan:
        return self._next_plan(input)

    @activity.defn(name="plan_and_send")
    @loud
    async def plan_and_send(self, input: PlanAndSendInput) -> Plan:
        """As the real step does (activities/immediate.py): the plan, then the first attempt
        of the one send to make now, its failure reported, not raised."""
        answer = self._next_plan(input.plan)
        self.planning_and_sending.set()
        if self._held_planning is not None:
            await self._held_planning.wait()
        send = first_send(answer, input)
        if send is None:
            return answer
        try:
            result = self._attempt(send, local=True, attempt=1)
        except ApplicationError as err:
            return replace(
                answer, first_attempt=FirstAttempt(send.delivery_id, failure=report(err))
            )
        return replace(answer, first_attempt=FirstAttempt(send.delivery_id, result=result))

    @activity.defn(name="replan_waiting_channels")
    @loud
    async def replan_waiting_channels(self, input: ReplanInput) -> Plan:
        return self._next_plan(input)

    @activity.defn(name="plan_fallback_channel")
    @loud
    async def plan_fallback_channel(self, input: FallbackPlanInput) -> Plan:
        return self._next_plan(input)

    @activity.defn(name="recorded_delivery_status")
    @loud
    async def recorded_delivery_status(self, input: RecordedStatusInput) -> RecordedStatus:
        self.status_reads.append(input)
        return RecordedStatus(self.recorded_statuses.get(input.delivery_id, DeliveryStatus.SENT))

    @activity.defn(name="deliver")
    @loud
    async def deliver(self, input: DeliverInput) -> DeliverResult:
        info = activity.info()
        return self._attempt(input, info.is_local, info.attempt)

    def _attempt(self, input: DeliverInput, local: bool, attempt: int) -> DeliverResult:
        self.attempts.append(Attempt(input, local, attempt))
        script = self._sends.get(input.delivery_id)
        outcome = (
            script.pop(0)
            if script
            else DeliverResult(input.delivery_id, DeliveryStatus.SENT, input.provider)
        )
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    @activity.defn(name="record_outcome")
    @loud
    async def record_outcome(self, input: RecordOutcomeInput) -> None:
        self._fail_if_scripted("record_outcome")
        self.outcomes.append(input)

    @activity.defn(name="record_failover")
    @loud
    async def record_failover(self, input: FailoverInput) -> None:
        self._fail_if_scripted("record_failover")
        self.failovers.append(input)

    @activity.defn(name="record_sent")
    @loud
    async def record_sent(self, input: SentRecord) -> None:
        self.recorded_sends.append(input)

    @activity.defn(name="enqueue_digest")
    @loud
    async def enqueue_digest(self, input: EnqueueDigestInput) -> None:
        self._fail_if_scripted("enqueue_digest")
        self.digested.append(input)

    def _fail_if_scripted(self, step: str) -> None:
        if self.failing.get(step):
            raise self.failing[step].pop(0)


class DigestActivities:
    def __init__(self) -> None:
        self.sent: list[SendDigestInput] = []
        self.sending = asyncio.Event()  # set once a send has begun
        self._held: asyncio.Event | None = None

    def hold_sends(self) -> asyncio.Event:
        """Sends wait until the returned event is set: a test can signal during one."""
        self._held = asyncio.Event()
        return self._held

    @activity.defn(name="send_digest")
    @loud
    async def send_digest(self, input: SendDigestInput) -> str:
        self.sent.append(input)
        self.sending.set()
        if self._held is not None:
            await self._held.wait()
        return str(new_id())  # the digest notification's id


@dataclass
class NoticeCall:
    request: NoticeRequest
    created: NoticeCreated
    scheduled: datetime  # the caller's (virtual) clock when it asked

    @property
    def key(self) -> str:
        return self.request.idempotency_key


class NoticeActivities:
    """create_notice: every notice gets a deterministic id and workflow id from its key.

    It runs as a local activity, whose scheduled time is the worker's clock rather than the
    workflow's; `clock` reads the calling workflow's (virtual) time from the test server."""

    def __init__(self) -> None:
        self.calls: list[NoticeCall] = []
        self.clock: Callable[[str], Awaitable[datetime]] | None = None

    def keys(self) -> list[str]:
        return [call.key for call in self.calls]

    @activity.defn(name="create_notice")
    @loud
    async def create_notice(self, request: NoticeRequest) -> NoticeCreated:
        name = f"{request.tenant_id}-{request.idempotency_key}"
        notification_id = uuid.uuid5(uuid.NAMESPACE_URL, name)
        created = NoticeCreated(notification_id, f"notification-{name}")
        info = activity.info()
        called_by = info.workflow_id
        asked = await self.clock(called_by) if self.clock and called_by else info.scheduled_time
        self.calls.append(NoticeCall(request, created, asked))
        return created


class BookingActivities:
    def __init__(self) -> None:
        self.config = ChainConfig(reminder_offsets_minutes=[1440.0, 60.0])
        self.configs_loaded: list[BookingConfigInput] = []
        self.recorded: list[RecordBookingInput] = []
        self.config_failures = 0  # attempts of load_booking_config that fail first (DB down)
        self.config_attempts: list[bool] = []  # each attempt: was it a local activity?
        self.config_stall_s = 0.0  # how long each failing attempt takes before it fails

    @activity.defn(name="load_booking_config")
    @loud
    async def load_booking_config(self, input: BookingConfigInput) -> ChainConfig:
        self.config_attempts.append(activity.info().is_local)
        if len(self.config_attempts) <= self.config_failures:
            await asyncio.sleep(self.config_stall_s)
            raise ApplicationError("the database is unreachable", type="OperationalError")
        self.configs_loaded.append(input)
        return self.config

    @activity.defn(name="record_booking")
    @loud
    async def record_booking(self, input: RecordBookingInput) -> None:
        self.recorded.append(input)


class AgendaActivities:
    def __init__(self) -> None:
        self.day = agenda_day(None)  # an unknown organizer, until a test says otherwise
        self.loaded: list[LoadAgendaInput] = []

    @activity.defn(name="load_agenda")
    @loud
    async def load_agenda(self, input: LoadAgendaInput) -> AgendaDay:
        self.loaded.append(input)
        return self.day


@dataclass
class MaintenanceActivities:
    """The maintenance jobs; `failing[name]` attempts of a job fail before it succeeds."""

    purged: PurgeResult = field(
        default_factory=lambda: PurgeResult({"deliveries": 120, "events": 7})
    )
    retried: RetryFailedResult = field(
        default_factory=lambda: RetryFailedResult(retried=4, exhausted=1)
    )
    checked: FailureMonitorResult = field(
        default_factory=lambda: FailureMonitorResult(alerts=2, notified=1)
    )
    refreshed: DailyStatsResult = field(
        default_factory=lambda: DailyStatsResult(days=13, rows=4200)
    )
    swept: StrandedBroadcastsResult = field(
        default_factory=lambda: StrandedBroadcastsResult(
            restarted=[uuid.uuid4()], running=[uuid.uuid4(), uuid.uuid4()]
        )
    )
    failing: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, Any, int]] = field(default_factory=list)

    def attempts(self, name: str) -> list[int]:
        return [attempt for called, _, attempt in self.calls if called == name]

    def _answer(self, name: str, input: Any, result: Any) -> Any:
        attempt = activity.info().attempt
        self.calls.append((name, input, attempt))
        if attempt <= self.failing.get(name, 0):
            raise ApplicationError("could not connect to the database", type="OperationalError")
        return result

    @activity.defn(name="purge_logs")
    @loud
    async def purge_logs(self, input: PurgeInput) -> PurgeResult:
        return self._answer("purge_logs", input, self.purged)

    @activity.defn(name="retry_failed_deliveries")
    @loud
    async def retry_failed_deliveries(self, input: RetryFailedInput) -> RetryFailedResult:
        return self._answer("retry_failed_deliveries", input, self.retried)

    @activity.defn(name="check_failure_rates")
    @loud
    async def check_failure_rates(self, input: FailureMonitorInput) -> FailureMonitorResult:
        return self._answer("check_failure_rates", input, self.checked)

    @activity.defn(name="refresh_daily_stats")
    @loud
    async def refresh_daily_stats(self, input: DailyStatsInput) -> DailyStatsResult:
        return self._answer("refresh_daily_stats", input, self.refreshed)

    @activity.defn(name="restart_stranded_broadcasts")
    @loud
    async def restart_stranded_broadcasts(
        self, input: StrandedBroadcastsInput
    ) -> StrandedBroadcastsResult:
        return self._answer("restart_stranded_broadcasts", input, self.swept)


class InboxActivities:
    """A snoozed message's return: records each wake-up, and answers as the store would for a
    message still snoozed until that time."""

    def __init__(self) -> None:
        self.returned: list[SnoozeWakeUp] = []

    @activity.defn(name="return_snoozed_message")
    @loud
    async def return_snoozed_message(self, wake: SnoozeWakeUp) -> bool:
        self.returned.append(wake)
        return True


class StatusWebhookActivities:
    """A status webhook's attempts answer as `script` says, in turn (an exception is raised),
    FAILED once it runs out; records each attempt and each judgement of an endpoint."""

    def __init__(self) -> None:
        self.script: list[AttemptOutcome | Exception] = []
        self.attempts: list[StatusWebhookAttempt] = []
        self.judged: list[FailedStatusWebhook] = []

    @activity.defn(name="attempt_status_webhook")
    @loud
    async def attempt_status_webhook(self, attempt: StatusWebhookAttempt) -> AttemptOutcome:
        self.attempts.append(attempt)
        answer = self.script.pop(0) if self.script else AttemptOutcome.FAILED
        if isinstance(answer, Exception):
            raise answer
        return answer

    @activity.defn(name="judge_failing_endpoint")
    @loud
    async def judge_failing_endpoint(self, failed: FailedStatusWebhook) -> bool:
        self.judged.append(failed)
        return True
