"""What compiling and rendering a template may spend: time and built size.

A template is Python running inside Herald's process, and a thread cannot be killed from
outside. So the limit is cooperative: every sandbox hook (operators, attribute access, calls,
filters, loop iterations, each batch of output; see sandbox.py) asks this budget first, and a
render that overruns it stops right there with a clear error. What a hook cannot interrupt (one
C-level operation: a join, a repetition, a sort) is bounded by size before it runs, so no
single step holds the process for long either.

The time budget counts what the render itself spends: `seconds` of the rendering thread's CPU
time, so that an ordinary render is never failed because the machine was busy or the thread
waited its turn; and, however busy the machine, no render goes on for longer than
HARD_LIMIT_FACTOR times `seconds` on the wall clock. (Checking the wall clock is cheap enough for
every hook; the thread's CPU time is read only once the wall clock says the budget is spent.)

The budget belongs to the thread that renders (renders run in their own thread, off the event
loop: see render_thread.py), so concurrent renders never share one.
"""

import math
import threading
import time

from jinja2.exceptions import SecurityError

RENDER_SECONDS = 0.5  # time budget of one render (every field of one message)
COMPILE_SECONDS = 1.0  # time budget of compiling one template version (once per process)
HARD_LIMIT_FACTOR = 4  # the wall-clock limit, in budgets, for a thread kept waiting
# Characters (or items) that all the values one render builds may add up to, whether or not
# they are kept: a bound on the memory a render can take, however it reuses its variables.
MAX_BUILT_TOTAL = 2_000_000


class LimitExceeded(SecurityError):
    """A template went past one of the limits of this module or of the sandbox."""


class _Budget:
    __slots__ = ("built", "cpu_started", "deadline", "depth", "hard_deadline", "seconds")

    def __init__(self) -> None:
        self.deadline = self.hard_deadline = self.seconds = math.inf  # no budget
        self.cpu_started = 0.0
        self.built = self.depth = 0


_THREAD = threading.local()  # one _Budget per thread (plain attributes: several times faster)


def _budget() -> _Budget:
    try:
        budget: _Budget = _THREAD.budget
        return budget
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
        self._saved = (
            budget.deadline,
            budget.hard_deadline,
            budget.seconds,
            budget.cpu_started,
            budget.built,
        )
        now = time.monotonic()
        if now + self._seconds < budget.deadline:
            budget.deadline, budget.seconds = now + self._seconds, self._seconds
            budget.hard_deadline = now + self._seconds * HARD_LIMIT_FACTOR
            budget.cpu_started = time.thread_time()
        if budget.depth == 0:
            budget.built = 0
        budget.depth += 1

    def __exit__(self, *exception: object) -> None:
        budget = _budget()
        budget.depth -= 1
        (
            budget.deadline,
            budget.hard_deadline,
            budget.seconds,
            budget.cpu_started,
            built,
        ) = self._saved
        if budget.depth == 0:
            budget.built = built


def check_time() -> None:
    """Stop the render if its time is up."""
    budget = _budget()
    if time.monotonic() > budget.deadline:
        _time_spent(budget)


def _time_spent(budget: _Budget) -> None:
    now = time.monotonic()
    spent = time.thread_time() - budget.cpu_started
    if spent >= budget.seconds:
        raise LimitExceeded(f"took longer than its budget of {budget.seconds:g} s")
    if now >= budget.hard_deadline:
        raise LimitExceeded(
            f"took longer than {budget.seconds * HARD_LIMIT_FACTOR:g} s, the machine being busy"
        )
    # The thread was kept waiting (a busy machine, the interpreter lock): it may still use
    # the CPU time it has left.
    budget.deadline = min(now + budget.seconds - spent, budget.hard_deadline)


def spend(size: int) -> None:
    """Count `size` characters or items built, then check the time."""
    budget = _budget()
    budget.built += size
    if budget.built > MAX_BUILT_TOTAL:
        raise LimitExceeded(f"built more than {MAX_BUILT_TOTAL} characters or items in all")
    if time.monotonic() > budget.deadline:
        _time_spent(budget)
