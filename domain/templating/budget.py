"""What compiling and rendering a template may spend: wall-clock time and built size.

A template is Python running inside Herald's process, and a thread cannot be killed from
outside. So the limit is cooperative: every sandbox hook (operators, attribute access, calls,
filters, loop iterations, each batch of output; see sandbox.py) asks this budget first, and a
render that overruns it stops right there with a clear error. What a hook cannot interrupt (one
C-level operation: a join, a repetition, a sort) is bounded by size before it runs, so no
single step holds the process for long either.

The budget belongs to the thread that renders (renders run in their own thread, off the event
loop: see renderer.render_in_thread), so concurrent renders never share one.
"""

import math
import threading
import time
from typing import cast

from jinja2.exceptions import SecurityError

RENDER_SECONDS = 0.5  # wall-clock budget of one render (every field of one message)
COMPILE_SECONDS = 1.0  # wall-clock budget of compiling one template version (once per process)
# Characters (or items) that all the values one render builds may add up to, whether or not
# they are kept: a bound on the memory a render can take, however it reuses its variables.
MAX_BUILT_TOTAL = 2_000_000


class LimitExceeded(SecurityError):
    """A template went past one of the limits of this module or of the sandbox."""


class _Budget:
    __slots__ = ("built", "deadline", "depth", "seconds")

    def __init__(self) -> None:
        self.deadline = self.seconds = math.inf  # no budget
        self.built = self.depth = 0


_THREAD = threading.local()  # one _Budget per thread (plain attributes: several times faster)


def _budget() -> _Budget:
    try:
        return cast(_Budget, _THREAD.budget)
    except AttributeError:
        _THREAD.budget = budget = _Budget()
        return budget


class spending:
    """Run the block within `seconds` (or what is left of an enclosing budget, if less).

    A class rather than a @contextmanager: it wraps every render, and costs a fifth."""

    __slots__ = ("_saved", "_seconds")

    def __init__(self, seconds: float):
        self._seconds = seconds

    def __enter__(self) -> None:
        budget = _budget()
        self._saved = (budget.deadline, budget.seconds, budget.built)
        deadline = time.monotonic() + self._seconds
        if deadline < budget.deadline:
            budget.deadline, budget.seconds = deadline, self._seconds
        if budget.depth == 0:
            budget.built = 0
        budget.depth += 1

    def __exit__(self, *exception: object) -> None:
        budget = _budget()
        budget.depth -= 1
        budget.deadline, budget.seconds, built = self._saved
        if budget.depth == 0:
            budget.built = built


def check_time() -> None:
    """Stop the render if its time is up."""
    budget = _budget()
    if time.monotonic() > budget.deadline:
        raise LimitExceeded(f"took longer than its budget of {budget.seconds:g} s")


def spend(size: int) -> None:
    """Count `size` characters or items built, then check the time."""
    budget = _budget()
    budget.built += size
    if budget.built > MAX_BUILT_TOTAL:
        raise LimitExceeded(f"built more than {MAX_BUILT_TOTAL} characters or items in all")
    if time.monotonic() > budget.deadline:
        raise LimitExceeded(f"took longer than its budget of {budget.seconds:g} s")
