"""How the notification workflow reads a failed send: cancelled, the recipient's fault, or the provider's."""

import asyncio

from temporalio.exceptions import ApplicationError, CancelledError

# Retrying these on the same provider cannot help.
PERMANENT_ERROR_TYPES = [
    "PermanentSendError", "ProviderRejected", "ProviderUnavailable", "MissingPlaceholders", "DeliveryNotFound",
]
# Failures that are the provider's, not the recipient's: the next provider may succeed.
# TransientSendError reaches the workflow only once its retries on one provider are spent.
FAILOVER_ERROR_TYPES = {"TransientSendError", "ProviderRejected", "ProviderUnavailable", "TimeoutError"}


def was_cancelled(err: BaseException) -> bool:
    return isinstance(err, asyncio.CancelledError) or isinstance(err.cause, CancelledError)


def failure_type(err: BaseException) -> str:
    cause = err.__cause__
    if isinstance(cause, ApplicationError):
        return cause.type or "ApplicationError"
    return type(cause).__name__ if cause is not None else type(err).__name__


def failure_message(err: BaseException) -> str:
    """The activity's own explanation: the first ApplicationError under the ActivityError."""
    cause = err.__cause__
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    return cause.message if cause is not None else str(err)
