"""The API replica of `python -m bench.steps`: Herald's app with timestamps around each step of
a notification's path, appended to the file HERALD_STEP_PROBE names (one line per step:
name, pid, start and end in ns of CLOCK_MONOTONIC, which every process on the host shares).

Run by bench.steps as `uvicorn bench.step_probe:app`; never part of a deployment. The steps are
wrapped where they are looked up at call time (module attributes, methods), so Herald's code is
unchanged; a step the code under test does not have is skipped."""

import functools
import importlib
import os
import time
from collections.abc import Callable
from typing import Any

_OUT = open(os.environ["HERALD_STEP_PROBE"], "a", buffering=1)  # noqa: SIM115 (process-long)
_PID = os.getpid()


def _note(name: str, start: int, end: int) -> None:
    _OUT.write(f"{name} {_PID} {start} {end}\n")


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic_ns()
        try:
            return await fn(*args, **kwargs)
        finally:
            _note(name, start, time.monotonic_ns())

    return timed


def _timed_sync(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            _note(name, start, time.monotonic_ns())

    return timed


# step name -> (module, attribute path); async unless listed in _SYNC
STEPS = {
    "accept.submit": ("services.notifications", "submit_notification"),
    "accept.insert": ("services.new_notifications", "create_notification"),
    "accept.start": ("services.new_notifications", "start_notification"),
    "plan.load": ("db.deliveries", "load_notification_context"),
    "plan.record": ("db.deliveries", "record_plan"),
    "send.load": ("db.deliveries", "load_delivery_job"),
    "send.load+claim": ("db.deliveries", "load_and_claim_delivery_job"),
    "send.render": ("activities.delivery", "render_content"),
    "send.templates": ("activities.content", "_templates_for"),
    "send.identity": ("activities.delivery", "load_email_identity"),
    "send.claim": ("activities.delivery", "DeliveryActivities._claim_send"),
    "send.smtp": ("channels.smtp", "SmtpEmailProvider.send_email"),
    "send.record": ("db.deliveries", "mark_sent"),
    "wf.activation": ("temporalio.worker._workflow", "_WorkflowWorker._handle_activation"),
    "wf.activate": ("temporalio.worker._workflow", "_RunningWorkflow.activate"),
    "act.task": ("temporalio.worker._activity", "_ActivityWorker._handle_start_activity_task"),
    # finer: what an activation and an activity task are made of, and the database's parts
    "wf.decode": ("temporalio.bridge.worker", "decode_activation"),
    "wf.create": ("temporalio.worker._workflow", "_WorkflowWorker._create_workflow_instance"),
    "wf.encode": ("temporalio.bridge.worker", "encode_completion"),
    "wf.complete": ("temporalio.bridge.worker", "Worker.complete_workflow_activation"),
    "act.exec": ("temporalio.worker._activity", "_ActivityInboundImpl.execute_activity"),
    "act.complete": ("temporalio.bridge.worker", "Worker.complete_activity_task"),
    "db.checkout": ("db.session", "without_transaction"),
    "db.execute": ("sqlalchemy.ext.asyncio.session", "AsyncSession.execute"),
    "db.commit": ("sqlalchemy.ext.asyncio.session", "AsyncSessionTransaction.commit"),
    "db.close": ("sqlalchemy.ext.asyncio.session", "AsyncSession.close"),
    "rpc": ("temporalio.service", "_BridgeServiceClient._rpc_call"),
}
_SYNC = {"wf.activate", "wf.create"}


def install() -> None:
    for name, (module_name, path) in STEPS.items():
        owner: Any = importlib.import_module(module_name)
        *parents, attribute = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        fn = getattr(owner, attribute, None)
        if fn is None:
            continue  # not in the code under test
        setattr(owner, attribute, (_timed_sync if name in _SYNC else _timed)(name, fn))


install()

from api.main import app as _herald  # noqa: E402 (after the wrapping, which it must see)


async def app(scope: dict, receive: Callable, send: Callable) -> None:
    """The request as the replica sees it: from its first receipt to the last byte sent."""
    if scope["type"] != "http" or scope["path"] != "/v1/notifications":
        return await _herald(scope, receive, send)
    start = time.monotonic_ns()
    try:
        await _herald(scope, receive, send)
    finally:
        _note("http", start, time.monotonic_ns())
