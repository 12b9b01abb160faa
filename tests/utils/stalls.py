"""A test stack's teardown, bounded in time, and what it was waiting for when it overran.

Temporal's Core can hang a Worker's shutdown for good (temporalio/sdk-python#1837: a local
activity's cancel dropped). bootstrap.polling gives up on such a Worker after its grace, but a
teardown stuck anywhere else would run into pytest-timeout, which interrupts the event loop
from outside and leaves the teardown suspended in it: every later test sharing the loop then
waits on it too. Bounded here instead, the stuck step is cancelled in the loop, the rest of the
teardown runs, and the tasks it was waiting on are reported (pytest-timeout shows only threads,
and in an asyncio test every thread is idle)."""

import asyncio
import io
import warnings
from collections.abc import Awaitable


class TeardownOverran(UserWarning):
    pass


def pending_tasks_report() -> str:
    out = io.StringIO()
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task() and not task.done():
            out.write(f"--- {task.get_name()}: {task.get_coro()!r}\n")
            task.print_stack(limit=12, file=out)
    return out.getvalue()


CANCELLED_TEARDOWN_S = 10.0  # what the rest of a cancelled teardown gets, past its limit


async def within(teardown: Awaitable[object], what: str, limit_s: float) -> None:
    """Run `teardown`; past `limit_s` seconds, report what is pending, then cancel it, and give
    the rest of it CANCELLED_TEARDOWN_S more. Cancelled itself, it cancels the teardown too."""
    task = asyncio.ensure_future(teardown)
    try:
        done, _ = await asyncio.wait({task}, timeout=limit_s)
    except asyncio.CancelledError:
        await _cancelled(task)
        raise
    if done:
        task.result()  # its own error, if it failed
        return
    report = pending_tasks_report()
    await _cancelled(task)
    failed = task.done() and not task.cancelled() and task.exception()
    ending = f"; then it failed: {failed!r}" if failed else ""
    # The report goes in the warning itself: pytest shows warnings in its summary, where a
    # passing test's stderr is never shown.
    warnings.warn(
        f"{what} overran {limit_s}s and was cancelled{ending}. Pending:\n{report}",
        TeardownOverran,
        stacklevel=2,
    )


async def _cancelled(task: asyncio.Future) -> None:
    """Cancel the teardown and give the rest of it CANCELLED_TEARDOWN_S to finish."""
    task.cancel()
    await asyncio.wait({task}, timeout=CANCELLED_TEARDOWN_S)
