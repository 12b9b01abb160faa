"""How the notification workflow reads a failed send: cancelled, the recipient's fault, or the
provider's.

A regular activity's failure arrives as an ActivityError wrapping the activity's own error;
a local activity's may arrive as that error itself. Both read alike here."""

import asyncio
from datetime import timedelta

from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, FailureError

from domain.contracts import SendFailureReport
from domain.send_failures import PROVIDER_SIDE, RETRYING_CANNOT_HELP

# What a failed send raises in the workflow (asyncio's CancelledError: a cancel while waiting).
SEND_FAILURES = (FailureError, asyncio.CancelledError)

# Retrying these on the same provider cannot help (as a list: what a RetryPolicy takes).
PERMANENT_ERROR_TYPES = sorted(str(kind) for kind in RETRYING_CANNOT_HELP)
# The provider's fault, not the recipient's: the next provider may succeed. A transient
# failure reaches the workflow only once its retries on one provider are spent.
FAILOVER_ERROR_TYPES = PROVIDER_SIDE


def _cause(err: BaseException) -> BaseException | None:
    """The activity's side of the failure: under an ActivityError, or the error itself."""
    return err.__cause__ if isinstance(err, ActivityError) else err


def was_cancelled(err: BaseException) -> bool:
    return isinstance(err, asyncio.CancelledError) or isinstance(_cause(err), CancelledError)


def failure_type(err: BaseException) -> str:
    cause = _cause(err)
    if isinstance(cause, ApplicationError):
        return cause.type or "ApplicationError"
    return type(cause).__name__ if cause is not None else type(err).__name__


def retry_delay(err: BaseException) -> timedelta | None:
    """How long the provider asked us to wait (Retry-After), if it did."""
    cause = _cause(err)
    return cause.next_retry_delay if isinstance(cause, ApplicationError) else None


def failure_message(err: BaseException) -> str:
    """The activity's own explanation: the first ApplicationError in the chain."""
    cause = _cause(err)
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    return cause.message if cause is not None else str(err)


def reported_failure(report: SendFailureReport) -> ApplicationError:
    """A failure reported as data (a first attempt plan_and_send made), as the attempt raised
    it: read by the functions above as the attempt's own failure would be."""
    retry_after = report.retry_after_seconds
    return ApplicationError(
        report.message,
        type=report.type,
        non_retryable=report.non_retryable,
        next_retry_delay=None if retry_after is None else timedelta(seconds=retry_after),
    )
