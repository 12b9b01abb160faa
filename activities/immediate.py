"""plan_and_send: a new notification's planning step, which also makes the first attempt of the
send its plan leaves to make now (domain/immediate.py says which).

Planning and sending stay the activities they are (activities/planning.py, delivery.py); this
step runs the two in one local activity, so that a notification sent at once is spared a
workflow activation and a local activity's trip through the worker between them. The send's
failure does not fail the step: it is reported (Plan.first_attempt), and the workflow reads it
as the failure of its own first attempt (workflows/sending.py): retries, failover."""

import uuid
from dataclasses import replace

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.bookkeeping import as_bookkeeping
from activities.delivery import DeliveryActivities
from activities.planning import ClaimFirstSend, PlanningActivities
from domain.contracts import (
    DeliverInput,
    FirstAttempt,
    Plan,
    PlanAndSendInput,
    SendFailureReport,
)
from domain.immediate import first_send


class ImmediateActivities:
    def __init__(self, planning: PlanningActivities, delivery: DeliveryActivities):
        self._planning = planning
        self._delivery = delivery

    @activity.defn(name="plan_and_send")
    async def plan_and_send(self, input: PlanAndSendInput) -> Plan:
        """Plan as plan_notification does (its failures are this step's, retried as
        bookkeeping), then make the first attempt of the one send to make now, if any. The
        statement that records the plan claims that send and returns its job: the attempt
        starts from there, with no read of its own."""
        claim = ClaimFirstSend(
            lambda plan: _delivery_id(first_send(plan, input)), self._delivery.claim_seconds
        )
        new = await as_bookkeeping("plan_notification", self._planning.plan_new(input.plan, claim))
        plan = new.plan
        send = first_send(plan, input)
        if send is None:
            return plan
        try:
            result = await self._delivery.attempt(send, attempt=1, job=new.job)
        except ApplicationError as err:
            return replace(plan, first_attempt=FirstAttempt(send.delivery_id, failure=report(err)))
        except Exception as err:  # as Temporal would report it, had the attempt raised it
            failure = SendFailureReport(type(err).__name__, str(err))
            return replace(plan, first_attempt=FirstAttempt(send.delivery_id, failure=failure))
        return replace(plan, first_attempt=FirstAttempt(send.delivery_id, result=result))


def _delivery_id(send: DeliverInput | None) -> uuid.UUID | None:
    return None if send is None else send.delivery_id


def report(err: ApplicationError) -> SendFailureReport:
    """What the workflow reads of an attempt's ApplicationError (workflows/send_failures.py)."""
    delay = err.next_retry_delay
    return SendFailureReport(
        err.type or "ApplicationError",
        err.message,
        err.non_retryable,
        None if delay is None else delay.total_seconds(),
    )
