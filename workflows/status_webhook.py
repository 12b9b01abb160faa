"""One status webhook message delivered to one endpoint: attempts on a schedule of about a day.

The schedule is the retry policy: before each attempt the workflow sleeps on a durable timer
(no worker holds it while it waits), then one activity POSTs the message and records the
attempt. A 2xx ends it delivered; the endpoint disabled or deleted, or the message ended
meanwhile, ends it with nothing sent; after the last failed attempt the message has failed and
its endpoint is judged (domain/status_webhooks.should_disable: disabled, with an alert, when it
has been failing for long).

Temporal does not retry an attempt that got an answer, or none, from the receiver: that is the
schedule's job. It retries, briefly, an attempt whose bookkeeping failed (the database
unavailable); one still failing after that counts as a failed attempt, except the last, which
fails the workflow (the dispatcher's sweep starts it again: services/status_webhook_dispatcher).
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.status_webhooks import StatusWebhookActivities
    from domain.bookkeeping import NON_RETRYABLE
    from domain.status_webhooks import (
        AttemptOutcome,
        FailedStatusWebhook,
        StatusWebhookAttempt,
        StatusWebhookInput,
    )

# An attempt's POST is bounded by STATUS_WEBHOOK_TIMEOUT_SECONDS (at most 60); the rest is
# reading the message and recording the attempt.
ATTEMPT_TIMEOUT = timedelta(seconds=90)


def _retry(attempts: int, longest: timedelta) -> RetryPolicy:
    """1 s apart at first, doubling to `longest`; what cannot succeed is not retried."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=longest,
        maximum_attempts=attempts,
        non_retryable_error_types=NON_RETRYABLE,
    )


# Only failures of the attempt's activity itself are retried (the receiver's answers are
# outcomes): 5 tries, about 15 s of waiting, a database restart ridden out.
ATTEMPT_RETRY = _retry(5, timedelta(seconds=30))
# Judging the endpoint is bookkeeping alone: 20 tries, about 58 min of waiting.
JUDGING_RETRY = _retry(20, timedelta(minutes=5))


@workflow.defn
class StatusWebhookWorkflow:
    @workflow.run
    async def run(self, input: StatusWebhookInput) -> AttemptOutcome:
        """DELIVERED, FAILED (every attempt failed) or STOPPED (nothing more to send)."""
        schedule = input.schedule_seconds
        for number, wait in enumerate(schedule, start=1):
            if wait > 0:
                await workflow.sleep(timedelta(seconds=wait), summary=f"until attempt {number}")
            last = number == len(schedule)
            attempt = StatusWebhookAttempt(
                message_id=input.message_id,
                tenant_id=input.tenant_id,
                attempt=number,
                next_attempt_in_seconds=None if last else schedule[number],
            )
            try:
                outcome = await workflow.execute_activity_method(
                    StatusWebhookActivities.attempt_status_webhook,
                    attempt,
                    start_to_close_timeout=ATTEMPT_TIMEOUT,
                    retry_policy=ATTEMPT_RETRY,
                )
            except ActivityError:
                if last:
                    raise
                workflow.logger.warning("attempt %s could not be made or recorded", number)
                continue
            if outcome != AttemptOutcome.FAILED:
                return outcome
        await workflow.execute_activity_method(
            StatusWebhookActivities.judge_failing_endpoint,
            FailedStatusWebhook(input.message_id, input.tenant_id),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=JUDGING_RETRY,
        )
        return AttemptOutcome.FAILED
