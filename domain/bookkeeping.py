"""How a bookkeeping step fails (planning a notification, recording its outcome): one vocabulary
for the activities that raise and the notification workflow that gives up.

A transient failure (the database restarting) is retried within a bound
(workflows/activity_options.py); a step that can never succeed raises CANNOT_SUCCEED,
non-retryable, and the notification ends `failed` with the reason at once."""

# Retrying cannot help: stored state the step cannot read (preferences that no longer
# validate, an unknown timezone, a malformed row) or a bug. The `type` of the ApplicationError.
CANNOT_SUCCEED = "BookkeepingCannotSucceed"

# Never retried (as a RetryPolicy takes them). pydantic's ValidationError too, should one reach
# the workflow without passing through activities/bookkeeping.py.
NON_RETRYABLE = [CANNOT_SUCCEED, "ValidationError"]
