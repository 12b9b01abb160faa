"""A snoozed inbox message's wake-up: one workflow per message, sleeping on a durable timer.

While it waits the workflow is a timer on the Temporal server: no worker holds it (a restart
loses nothing) and it costs nothing. At the time, one activity returns the message to the feed
if it is still snoozed until then. Snoozing the message again replaces this run with a new one
(temporal_clients/inbox_snooze.py); unsnoozing ends it. Either way the activity's check on the
stored snooze keeps a stale wake-up from returning anything.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.inbox import InboxActivities
    from domain.inbox_snooze import SnoozeWakeUp
    from workflows.activity_options import RETURNING_A_MESSAGE


@workflow.defn
class InboxSnoozeWorkflow:
    @workflow.run
    async def run(self, wake: SnoozeWakeUp) -> bool:
        """True when the message returned; False when its snooze had ended or changed."""
        remaining = wake.until - workflow.now()
        if remaining.total_seconds() > 0:
            await workflow.sleep(remaining, summary="snoozed until")
        return await workflow.execute_activity_method(
            InboxActivities.return_snoozed_message, wake, **RETURNING_A_MESSAGE
        )
