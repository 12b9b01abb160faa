"""The options several activity calls share, written once and type-checked where they are used.

Every bookkeeping step of a notification (planning, recording outcomes and failovers, the hand
over to a digest) has a **bounded** retry: a failure that can heal (the database restarting or
failing over) is ridden out, one that cannot (stored state the step cannot read:
domain/bookkeeping.py) is not retried at all, and either way the step ends, so the workflow
can end the notification `failed` with the reason (workflows/notification.py) instead of
leaving it `accepted` forever."""

from datetime import timedelta
from typing import TypedDict

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.bookkeeping import NON_RETRYABLE


class ActivityOptions(TypedDict):
    """Keyword options for `workflow.execute_activity_method` and its local twin.

    A TypedDict rather than a plain dict, so that `**options` at a call is checked against the
    keywords the call takes (a `dict(...)` of mixed values would only type as dict[str, object])."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy


class LocalActivityOptions(ActivityOptions):
    """For `workflow.execute_local_activity_method` only."""

    # A wait between attempts longer than this is a durable timer in the workflow's history
    # rather than a sleep inside the workflow task: it survives a worker restart, does not hold
    # the task for minutes, and a time-skipping test server skips it.
    local_retry_threshold: timedelta


def _bounded(first: timedelta, longest: timedelta, attempts: int) -> RetryPolicy:
    """Waits doubling from `first` to at most `longest`, `attempts` in all; what cannot succeed
    (domain/bookkeeping.py) is not retried."""
    return RetryPolicy(
        initial_interval=first,
        backoff_coefficient=2.0,
        maximum_interval=longest,
        maximum_attempts=attempts,
        non_retryable_error_types=NON_RETRYABLE,
    )


# Database bookkeeping runs as local activities: they are short, idempotent, and skipping a
# server round trip per call roughly halves a notification's latency. If the worker dies
# mid-call, the workflow task is retried and so is the call.
#
# The bound: 12 attempts, 0.2 s apart at first, doubling to at most 30 s: 0.2 + 0.4 + ... +
# 25.6 + 3 x 30 = about 141 s of waiting (2 min 21 s) between the first attempt and the last,
# plus up to 10 s per attempt. A database restart (20-40 s) or a managed failover (typically
# under 2 min) is ridden out; a step still failing after that fails for good.
BOOKKEEPING = LocalActivityOptions(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=_bounded(timedelta(milliseconds=200), timedelta(seconds=30), attempts=12),
    local_retry_threshold=timedelta(seconds=1),
)


def planning_and_first_send(attempt_timeout_seconds: float) -> LocalActivityOptions:
    """plan_and_send (planning, then the first attempt of the send it leaves to make now): a
    bookkeeping step's retries, and the time of a send attempt on top of the step's own. Its
    send does not fail the step (it reports how it went), so only planning is retried; a step
    retried after a send was made finds the send recorded, or claimed, and sends nothing."""
    return LocalActivityOptions(
        start_to_close_timeout=BOOKKEEPING["start_to_close_timeout"]
        + timedelta(seconds=attempt_timeout_seconds),
        retry_policy=BOOKKEEPING["retry_policy"],
        local_retry_threshold=BOOKKEEPING["local_retry_threshold"],
    )


# Recording that a notification failed because a bookkeeping step did: one UPDATE per row,
# reading no stored state, so only an unavailable database can stop it; it is given longer.
# 20 attempts, 1 s apart at first, doubling to at most 5 min: 1 + 2 + ... + 256 + 10 x 300 =
# about 58 min of waiting. Past that the workflow itself fails, with the reason.
RECORDING_A_FAILURE = LocalActivityOptions(
    start_to_close_timeout=timedelta(seconds=10),
    retry_policy=_bounded(timedelta(seconds=1), timedelta(minutes=5), attempts=20),
    local_retry_threshold=timedelta(seconds=1),
)

# The hand over of a digested channel to its digest (a regular activity: it signals the digest
# workflow). 10 attempts, 1 s apart at first, doubling to at most 1 min: about 4 min of waiting.
DIGEST_HANDOVER = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=_bounded(timedelta(seconds=1), timedelta(minutes=1), attempts=10),
)

# A snoozed message's return (a regular activity: its retries are the server's, so they outlive
# a worker). 20 attempts, 1 s apart at first, doubling to at most 5 min: about 58 min of waiting,
# a database outage of that long ridden out. Past it the live `message.returned` event is lost,
# not the message: the feed counts a snooze whose time has passed as over (db/inbox.py).
RETURNING_A_MESSAGE = ActivityOptions(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=_bounded(timedelta(seconds=1), timedelta(minutes=5), attempts=20),
)
