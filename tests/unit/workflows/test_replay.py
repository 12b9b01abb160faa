"""Every recorded history replays on today's workflow code: a change that would break a
workflow already running in production fails here. See README.md before re-recording."""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.unit.workflows.harness import WORKFLOWS, sandboxed_runner

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_a_recorded_history_replays_deterministically(path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())

    await Replayer(workflows=WORKFLOWS, workflow_runner=sandboxed_runner()).replay_workflow(history)


def test_every_workflow_has_a_recorded_history():
    started = [
        json.loads(path.read_text())["events"][0]["workflowExecutionStartedEventAttributes"]
        for path in HISTORIES
    ]
    assert {attributes["workflowType"]["name"] for attributes in started} >= {
        workflow.__name__ for workflow in WORKFLOWS
    }
