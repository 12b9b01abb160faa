"""Fixtures of the end-to-end tests beyond tests/conftest.py."""

import pytest

from tests.e2e.webhooks_factory import tracking_settings
from tests.utils.dashboard import dashboard_client, signed_in_operator


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


@pytest.fixture
async def failover_stack(make_stack, temporal_env, httpserver):
    """SendGrid (answered by the local HTTP server), then SMTP; a circuit quick to open."""
    async with make_stack(
        temporal_env,
        sendgrid_api_key="SG.test-key",
        sendgrid_base_url=httpserver.url_for("").rstrip("/"),
        email_providers="sendgrid,smtp",
        circuit_failure_threshold=2,
        circuit_cool_down_seconds=5,  # long enough that a slow CI machine still finds it open
    ) as stack:
        yield stack


@pytest.fixture
async def owner(stack, sessions):
    """An owner of the stack's tenant, signed in to the dashboard (their session's cookie)."""
    return await signed_in_operator(sessions, stack.settings, stack.tenant_id)


@pytest.fixture
async def owner_browser(stack, owner):
    """A browser-like client of the dashboard, signed in as `owner`."""
    async with dashboard_client(stack.app, owner.cookies) as client:
        yield client
