"""Which failures of a bookkeeping activity are worth retrying.

Only the database being unreachable (restarting, failing over, a dropped connection, a pool
that timed out) can heal by itself: it is raised as a retryable error, which the workflow's
bounded retry policy rides out. Anything else is deterministic, given the stored state the step
reads (a recipient's preferences that no longer validate, an unknown timezone, a malformed row)
or the code: it fails the same way on every attempt, so it is raised at once as
CANNOT_SUCCEED, non-retryable, with a message an operator can act on."""

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pydantic
from sqlalchemy import exc as sql
from temporalio.exceptions import ApplicationError

from domain.bookkeeping import CANNOT_SUCCEED

T = TypeVar("T")

# The database (or the way to it) is unavailable for now. OSError covers refused and reset
# connections and timeouts (TimeoutError is one).
UNAVAILABLE = (sql.OperationalError, sql.InterfaceError, sql.TimeoutError, OSError)


def bookkeeping_step(run: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorate an activity (under its @activity.defn): its failures, sorted as above."""

    @functools.wraps(run)
    async def step(*args: Any) -> T:
        return await as_bookkeeping(run.__name__, run(*args))

    return step


async def as_bookkeeping(step: str, work: Awaitable[T]) -> T:
    """A bookkeeping step's work, its failures sorted as above and named after `step`: for an
    activity that does a step's work among other things (plan_and_send plans)."""
    try:
        return await work
    except ApplicationError:
        raise  # the activity decided already
    except UNAVAILABLE as err:
        raise ApplicationError(
            f"{step}: the database is unavailable ({type(err).__name__})",
            type=type(err).__name__,
        ) from err
    except Exception as err:
        raise ApplicationError(
            f"{step}: {describe(err)}", type=CANNOT_SUCCEED, non_retryable=True
        ) from err


class UnreadableStoredState(Exception):
    """What the step was reading when it failed: the first thing an operator needs to know."""

    def __init__(self, what: str, err: Exception):
        super().__init__(f"{what} cannot be read: {describe(err)}")


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Name the stored state a block reads, in the message of any failure but the database's."""
    try:
        yield
    except (ApplicationError, *UNAVAILABLE):
        raise
    except Exception as err:
        raise UnreadableStoredState(what, err) from err


def describe(err: Exception) -> str:
    """A failure in a line: which stored values are wrong and why, without the reprs of the
    values or a link to pydantic's documentation."""
    if isinstance(err, UnreadableStoredState):
        return str(err)
    if isinstance(err, pydantic.ValidationError):
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'value'}: {problem['msg']}"
            for problem in err.errors(include_url=False, include_input=False)
        )
        return f"stored {err.title} are invalid: {problems}"
    cause: BaseException = err
    if isinstance(err, sql.StatementError) and err.orig is not None:
        cause = err.orig  # the database's own message, not the statement and its parameters
    message = str(cause).splitlines()[0] if str(cause) else ""
    return f"{type(cause).__name__}: {message}"[:500]
