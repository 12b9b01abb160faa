"""The test stacks' bounded teardown (tests/utils/stalls.py): a step that never ends is
cancelled in the loop, so the steps after it run, and what was pending is reported."""

import asyncio

import pytest

from tests.utils.stalls import TeardownOverran, within


async def test_a_teardown_past_its_limit_is_cancelled_and_reported(capsys):
    cleaned_up = []

    async def hangs_then_cleans_up():
        try:
            await asyncio.sleep(3600)
        finally:
            cleaned_up.append(True)

    with pytest.warns(TeardownOverran):
        await within(hangs_then_cleans_up(), "the stack's teardown", 0.2)

    assert cleaned_up == [True]
    assert "hangs_then_cleans_up" in capsys.readouterr().err


async def test_a_teardown_within_its_limit_raises_its_own_error():
    async def fails():
        raise RuntimeError("closing failed")

    with pytest.raises(RuntimeError, match="closing failed"):
        await within(fails(), "the stack's teardown", 5)
