"""Fixtures for the workflow unit tests: one time-skipping server, one worker per test."""

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.unit.workflows.harness import Harness, running, start_server


@pytest.fixture(scope="session")
async def workflow_env() -> AsyncIterator[WorkflowEnvironment]:
    """Like tests/conftest.py's time_skipping_env, with timers that fire without delay."""
    env = await start_server()
    yield env
    await env.shutdown()


@pytest.fixture
async def harness(workflow_env: WorkflowEnvironment) -> AsyncIterator[Harness]:
    async with running(workflow_env) as harness:
        yield harness
