"""Fixtures of the end-to-end tests beyond tests/conftest.py."""

import pytest


@pytest.fixture
async def ts_stack(make_stack, time_skipping_env):
    """A Stack on the time-skipping server."""
    async with make_stack(time_skipping_env) as stack:
        yield stack
