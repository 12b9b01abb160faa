"""Fixtures of the end-to-end tests beyond tests/conftest.py."""

import pytest

from tests.e2e.webhooks_factory import tracking_settings


@pytest.fixture
async def ts_stack(make_stack, time_skipping_env):
    """A Stack on the time-skipping server."""
    async with make_stack(time_skipping_env) as stack:
        yield stack


@pytest.fixture
async def tracked(make_stack, temporal_env, httpserver):
    """SendGrid and Twilio (answered by the local HTTP server), both webhooks configured."""
    async with make_stack(temporal_env, **tracking_settings(httpserver)) as stack:
        yield stack
