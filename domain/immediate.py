"""Which send a new notification's planning step makes at once (plan_and_send), if any.

A notification to send now whose plan leaves exactly one channel pending is sent by the step
that planned it: the same first attempt, with the same input, that the workflow would make
next (workflows/sending.py), one workflow activation and one local activity sooner."""

from domain.contracts import DeliverInput, Plan, PlanAndSendInput
from domain.outcome import status_if_sent
from domain.types import DeliveryStatus


def first_send(plan: Plan, input: PlanAndSendInput) -> DeliverInput | None:
    """The first attempt to make now, or None: a later send_at (the workflow sleeps first), no
    channel or several pending (the workflow sends several side by side)."""
    as_of, now = input.plan.as_of, input.plan.now
    if as_of is not None and as_of > now:
        return None
    pending = [c for c in plan.channels if c.status == DeliveryStatus.PENDING]
    if len(pending) != 1:
        return None
    [channel] = pending
    others = [c.status for c in plan.channels if c is not channel]
    # The first provider of the channel's failover order (none given: the channel's default).
    providers: list[str | None] = [*input.providers.get(channel.channel, [])] or [None]
    return DeliverInput(
        channel.delivery_id,
        input.plan.tenant_id,
        providers[0],
        settles_as=status_if_sent(1, others, plan.fallback is not None),
        can_fail_over=len(providers) > 1,
    )
