"""Where templates are compiled and rendered: one thread of their own, off the event loop.

A render is CPU work; on the event loop it would stall every request, workflow task and send
of the process while it runs. In this thread the loop keeps serving: the interpreter switches
threads every few milliseconds, and no single step of a render holds it longer than the
sandbox's size limits allow (budget.py). One thread, because renders hold the interpreter lock
anyway (more threads would not render faster), and so the loop competes with one thread only.
"""

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")

_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="herald-render")
_running = 0  # renders under way in the render thread (one at a time)
_started = 0  # renders started since the process began


async def in_render_thread(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """`function(*args, **kwargs)` run in the render thread; its result or its exception."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(
        _THREAD, _counted, functools.partial(function, *args, **kwargs)
    )


def render_activity() -> tuple[int, bool]:
    """How many renders have started, and whether one is under way: what a probe of the event
    loop reads to tell the holds renders cause from the rest (see the hostile templates test)."""
    return _started, _running > 0


def _counted(call: Callable[[], _T]) -> _T:
    global _running, _started
    _started += 1
    _running += 1
    try:
        return call()
    finally:
        _running -= 1
