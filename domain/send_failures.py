"""How a send can fail: one vocabulary for the activities that raise it, the workflow that
reads it (retry, fail over, or give up) and the retry job that looks back at it.

Each value is the `type` of the ApplicationError an activity raises, so it is also what the
Temporal Web UI shows for a failed attempt."""

from enum import StrEnum


class SendFailure(StrEnum):
    # The recipient's fault (a refused address, a 4xx about the message): another provider
    # would refuse it too.
    PERMANENT = "PermanentSendError"
    # May succeed later on the same provider: a timeout, a 5xx, a 429.
    TRANSIENT = "TransientSendError"
    # The provider refused Herald itself (credentials, account): the next provider may not.
    PROVIDER_REFUSED = "ProviderRejected"
    # The provider is not to be called now: its circuit is open and another provider can take
    # the send, or this worker lacks it.
    PROVIDER_UNAVAILABLE = "ProviderUnavailable"
    # The content can never be sent, whatever the provider.
    MISSING_PLACEHOLDERS = "MissingPlaceholders"
    INVALID_CONTEXT = "InvalidContext"
    INVALID_TEMPLATE = "InvalidTemplate"
    TEMPLATE_NOT_FOUND = "TemplateNotFound"
    # The notification or delivery is gone (purged, or another tenant's).
    NOT_FOUND = "DeliveryNotFound"
    # Another attempt of the same send holds the delivery: retried once it is done.
    IN_FLIGHT = "SendInFlight"


# What Temporal reports when an attempt ran out of time (the activity's own timeout).
ATTEMPT_TIMED_OUT = "TimeoutError"

# Retrying on the same provider cannot help.
RETRYING_CANNOT_HELP = frozenset(SendFailure) - {
    SendFailure.TRANSIENT,
    SendFailure.IN_FLIGHT,
}

# The provider's fault, not the recipient's or the content's: the next provider may succeed.
# (A transient failure fails over only once its retries on one provider are spent.)
PROVIDER_SIDE = frozenset(
    {
        SendFailure.TRANSIENT,
        SendFailure.PROVIDER_REFUSED,
        SendFailure.PROVIDER_UNAVAILABLE,
        ATTEMPT_TIMED_OUT,
    }
)
