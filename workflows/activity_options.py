"""The options several activity calls share, written once and type-checked where they are used."""

from datetime import timedelta
from typing import TypedDict

from temporalio.common import RetryPolicy


class ActivityOptions(TypedDict):
    """Keyword options for `workflow.execute_activity_method` and its local twin.

    A TypedDict rather than a plain dict, so that `**options` at a call is checked against the
    keywords the call takes (a `dict(...)` of mixed values would only type as dict[str, object])."""

    start_to_close_timeout: timedelta
    retry_policy: RetryPolicy
