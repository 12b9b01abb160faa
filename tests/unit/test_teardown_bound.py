"""The test stacks' bounded teardown (tests/utils/stalls.py): a step that never ends is
cancelled in the loop, so the steps after it run, and what was pending is reported."""

import asyncio
from contextlib import AsyncExitStack

import pytest

from tests.utils.stalls import TeardownOverran, within


async def test_a_teardown_past_its_limit_is_cancelled_and_reported():
    cleaned_up = []

    async def hangs_then_cleans_up():
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned_up.append(True)

    with pytest.warns(TeardownOverran) as warned:
        await within(hangs_then_cleans_up(), "the stack's teardown", 0.2)

    assert cleaned_up == [True]
    # What was pending is in the warning, which pytest shows for a passing test too.
    assert "hangs_then_cleans_up" in str(warned[0].message)


async def test_a_teardown_within_its_limit_raises_its_own_error():
    async def fails():
        raise RuntimeError("closing failed")

    with pytest.raises(RuntimeError, match="closing failed"):
        await within(fails(), "the stack's teardown", 5)


async def test_the_steps_after_a_stuck_one_still_run():
    closed = []

    async def close(name: str) -> None:
        closed.append(name)

    async def hang() -> None:
        await asyncio.sleep(3600)

    async with AsyncExitStack() as stack:
        stack.push_async_callback(close, "engine")  # registered first: closed last
        stack.push_async_callback(hang)
        teardown = stack.pop_all()

    with pytest.warns(TeardownOverran):
        await within(teardown.aclose(), "the stack's teardown", 0.2)

    assert closed == ["engine"]


async def test_a_teardown_cancelled_from_outside_is_cancelled_too():
    cleaned_up = asyncio.Event()

    async def hangs_then_cleans_up():
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned_up.set()

    waiting = asyncio.create_task(within(hangs_then_cleans_up(), "the teardown", 60))
    await asyncio.sleep(0.1)
    waiting.cancel()

    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert cleaned_up.is_set()
