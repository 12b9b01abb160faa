"""Nothing is lost when the worker restarts: a deferred notification and a digest in progress
are held by Temporal, and a new worker on the same task queue finishes them."""

from datetime import timedelta

from sqlalchemy import select

from bootstrap import build_worker
from db.models import Recipient
from tests.e2e.test_delivery_policy import quiet_window_around_now, recipient, send


async def test_a_deferral_and_a_digest_survive_a_worker_restart(
    make_stack, time_skipping_env, sessions, smtp
):
    async with make_stack(time_skipping_env) as stack:
        start, end, _ = quiet_window_around_now()
        quiet_id, quiet_address = await recipient(
            stack, dnd={"enabled": True, "start": start, "end": end}
        )
        deferred = await send(stack, quiet_id)
        await stack.wait_for_status(deferred["id"], "deferred")

        digest_id, digest_address = await recipient(
            stack, digests={"ticket": {"frequency": "hourly"}}
        )
        digested = [
            await send(stack, digest_id, "ticket.replied", context={"subject": f"Reply {i}"})
            for i in range(3)
        ]
        for notification in digested:
            await stack.wait_for_status(notification["id"], "digested")
            # Its workflow ends once it has handed itself to the digest: only then is it the
            # digest's to keep (the status is recorded a step earlier).
            await stack.client.get_workflow_handle(notification["workflow_id"]).result()
    # The stack's worker has shut down; the workflows wait on the server with what they hold.

    async with build_worker(time_skipping_env.client, stack.settings, sessions):
        handle = stack.client.get_workflow_handle(deferred["workflow_id"])
        await time_skipping_env.fast_forward(handle, timedelta(hours=7, minutes=31))
        await smtp.wait_for(quiet_address)

        async with sessions() as session:
            recipient_id = await session.scalar(
                select(Recipient.id).where(
                    Recipient.tenant_id == stack.tenant_id, Recipient.external_id == digest_id
                )
            )
        digest = stack.client.get_workflow_handle(
            f"digest-{stack.tenant_id}-{recipient_id}-ticket-hourly"
        )
        await time_skipping_env.fast_forward(digest, timedelta(hours=1, minutes=1))
        [mail] = await smtp.wait_for(digest_address)
        assert "3 updates" in mail.subject
        assert all(f"Reply {i}" in mail.text() for i in range(3))
