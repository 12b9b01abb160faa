"""The status webhook dispatcher stops when cancelled, also when a wake-up (a NOTIFY, the
listener's reconnection) arrives in the same loop turn as the cancel: with Python 3.11's
asyncio.wait_for the cancel was swallowed there, and the API's stop waited on the loop for
ever (seen as a test stack's teardown overrunning)."""

import asyncio

from services.status_webhook_dispatcher import StatusWebhookDispatcher


class NothingToDispatch(StatusWebhookDispatcher):
    """The loop alone: no database, no Temporal."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self.rounds = 0

    async def dispatch(self) -> int:
        self.rounds += 1
        return 0

    async def sweep(self) -> int:
        return 0


async def test_a_cancel_arriving_with_a_wake_up_stops_the_loop():
    dispatcher = NothingToDispatch()
    loop = asyncio.create_task(dispatcher._dispatching())
    await asyncio.sleep(0.01)  # the loop waits for a wake-up

    dispatcher._wake.set()
    loop.cancel()
    done, _ = await asyncio.wait({loop}, timeout=2)

    if not done:  # keep the failure from leaving the loop running
        loop.cancel()
        await asyncio.wait({loop}, timeout=1)
    assert done and loop.cancelled()
