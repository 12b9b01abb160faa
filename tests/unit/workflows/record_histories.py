"""Record the histories test_replay.py replays: `python -m tests.unit.workflows.record_histories`
(or only some, named: `... record_histories status_webhook_delivered`).

Runs a representative set of the workflow unit tests, as they are, on a fresh time-skipping
server, and saves the first run of the workflow each one starts as
histories/<name>.json. Read README.md before re-recording: it is for deliberate changes.
"""

import asyncio
import functools
import inspect
import logging
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.unit.workflows import (
    test_agenda,
    test_booking,
    test_broadcast,
    test_digest,
    test_inbox_snooze,
    test_maintenance,
    test_notification_bookkeeping,
    test_notification_sending,
    test_notification_waiting,
    test_status_webhook,
)
from tests.unit.workflows.harness import running, start_server

HISTORIES = Path(__file__).parent / "histories"

sending, waiting = test_notification_sending, test_notification_waiting
bookkeeping = test_notification_bookkeeping
maintenance_job = test_maintenance.test_a_job_returns_its_activitys_result_after_retrying_a_failure

# (notification_*_before_plan_and_send.json: the notification scenarios as recorded before a
# new notification was planned, and its first send made, by plan_and_send.)
SCENARIOS: dict[str, Callable[..., Awaitable[None]]] = {
    "notification_immediate": (
        sending.test_one_channel_is_sent_at_once_and_the_send_settles_the_status
    ),
    "notification_retry_failover": (
        sending.test_transient_failures_spent_on_one_provider_fail_over_to_the_next
    ),
    "notification_permanent_failure": (
        sending.test_a_permanent_failure_fails_at_once_without_retries
    ),
    "notification_cancel_while_planning_and_sending": (
        sending.test_a_cancel_while_the_planning_step_sends_stops_the_retries_of_a_failed_send
    ),
    "notification_deferred": waiting.test_a_deferred_channel_waits_until_its_time_then_is_sent,
    "notification_cancelled": (
        waiting.test_cancel_while_deferred_cancels_the_channels_and_gives_the_slots_back
    ),
    "notification_digest_hand_over": waiting.test_a_digested_channel_is_handed_to_the_digest_once,
    # (notification_fallback_before_status_read.json: the same, from before a fallback read the
    # recorded status when its time ran out.)
    "notification_fallback": waiting.test_no_news_within_the_time_falls_back_to_the_other_channel,
    "notification_fallback_not_needed_as_recorded": (
        waiting.test_news_recorded_but_never_signalled_needs_no_fallback
    ),
    "notification_planning_cannot_succeed": (
        bookkeeping.test_planning_that_can_never_succeed_ends_failed_with_the_reason_at_once
    ),
    "notification_planning_past_its_retry_bound": (
        bookkeeping.test_planning_failing_past_its_retry_bound_ends_failed_with_the_reason
    ),
    "digest_collected": test_digest.test_items_are_collected_until_the_boundary_then_sent_once,
    "digest_continued_as_new": (
        test_digest.test_items_arriving_during_the_send_go_into_the_next_digest
    ),
    # (booking_*_before_local_store.json, agenda_before_local_store.json: the same, from before
    # the store steps of chains and agendas ran as local activities.)
    "booking_reminders_then_cancelled": (
        test_booking.test_a_cancellation_during_a_reminder_wait_stops_the_reminders
    ),
    "booking_reminder_updates": (
        test_booking.test_reminder_updates_cancel_and_move_one_reminder_and_refuse_what_cannot_be
    ),
    "booking_store_step_fallback": (
        test_booking.test_a_store_step_failing_past_its_local_attempts_goes_on_as_a_regular_activity
    ),
    "agenda": test_agenda.test_the_days_bookings_go_to_the_organizer_as_one_notice,
    "inbox_snooze_returned": (
        test_inbox_snooze.test_a_snoozed_message_returns_at_its_time_not_before
    ),
    "broadcast_walked": (
        test_broadcast.test_the_walk_writes_every_page_and_sends_each_pages_channels_in_its_bounds
    ),
    "broadcast_paused_and_resumed": (
        test_broadcast.test_pause_stops_new_pages_and_sends_and_resume_continues
    ),
    "broadcast_cancelled": (
        test_broadcast.test_cancel_records_cancelled_and_ends_without_sending_what_is_left
    ),
    "broadcast_deferred_released": (
        test_broadcast.test_deferred_recipients_are_released_at_their_time_by_the_broadcast_itself
    ),
    "broadcast_retries_swept": (
        test_broadcast.test_transient_failures_are_swept_with_backoff_and_final_after_the_window
    ),
    "status_webhook_failed_then_judged": (
        test_status_webhook.test_every_attempt_failing_follows_the_schedule_then_judges_the_endpoint
    ),
    "status_webhook_delivered": (
        test_status_webhook.test_a_delivery_ends_the_attempts_without_judging
    ),
    **{
        f"maintenance_{job[1]}_retried": functools.partial(
            maintenance_job,
            **dict(zip(("workflow", "activity", "input", "answer"), job, strict=True)),
        )
        for job in test_maintenance.JOBS
    },
}


async def record(directory: Path = HISTORIES, only: list[str] | None = None) -> list[Path]:
    """Every scenario's history, or `only` those named (a new workflow's, say)."""
    directory.mkdir(exist_ok=True)
    env = await start_server()
    written = []
    try:
        for name, scenario in SCENARIOS.items():
            if only and name not in only:
                continue
            async with running(env) as harness:
                wanted = inspect.signature(scenario).parameters
                await scenario(
                    **{
                        k: v
                        for k, v in {"harness": harness, "workflow_env": env}.items()
                        if k in wanted
                    }
                )
                started = harness.started[0]
                first_run = env.client.get_workflow_handle(started.id, run_id=started.result_run_id)
                history = await first_run.fetch_history()
            path = directory / f"{name}.json"
            path.write_text(history.to_json() + "\n")
            written.append(path)
    finally:
        await env.shutdown()
    return written


if __name__ == "__main__":
    logging.getLogger("temporalio.activity").setLevel(
        logging.ERROR
    )  # the failures the tests script
    for path in asyncio.run(record(only=sys.argv[1:] or None)):
        print(path)
