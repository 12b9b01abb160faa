"""Worker tuning through settings: slots, pollers, cache and rate limits reach the Worker."""

from typing import Any

from pydantic import SecretStr

from bootstrap import build_worker
from config.settings import Settings


async def test_tuning_settings_reach_the_worker(temporal_env, sessions, database_url):
    settings = Settings(
        database_url=database_url,
        task_queue="tuning-test",
        secret_key=SecretStr("tuning-test-key-0123456789abcdef"),
        worker_max_concurrent_activities=7,
        worker_max_concurrent_local_activities=9,
        worker_max_concurrent_workflow_tasks=11,
        worker_workflow_task_pollers=2,
        worker_activity_task_pollers=3,
        worker_max_cached_workflows=50,
        worker_activities_per_second=25.0,
        task_queue_activities_per_second=100.0,
    )
    async with build_worker(temporal_env.client, settings, sessions) as workers:
        configs = [worker.config() for worker in workers.values()]
    assert len(configs) >= 2  # every lane's Worker has them (default, urgent, broadcast)
    for config in configs:
        assert (
            config["max_concurrent_activities"],
            config["max_concurrent_local_activities"],
            config["max_concurrent_workflow_tasks"],
            config["workflow_task_poller_behavior"].maximum,
            config["activity_task_poller_behavior"].maximum,
            config["max_cached_workflows"],
            config["max_activities_per_second"],
            config["max_task_queue_activities_per_second"],
        ) == (7, 9, 11, 2, 3, 50, 25.0, 100.0)
    # Unset, they are Temporal's defaults: what `make bench` measured with.
    defaults = Settings(database_url=database_url)
    assert (defaults.worker_max_concurrent_activities, defaults.worker_max_cached_workflows) == (
        100,
        1000,
    )


async def test_every_lane_shares_one_rate_limit_and_circuit_per_provider(
    temporal_env, sessions, database_url
):
    """Broadcast sends and single sends take their slots from the same token bucket (and
    circuit) per provider: two would let one process send at twice PROVIDER_RATE_LIMITS."""
    settings = Settings(
        database_url=database_url,
        task_queue="shared-limits-test",
        secret_key=SecretStr("shared-limits-test-key-0123456789"),
        provider_rate_limits="smtp=10",
    )
    async with build_worker(temporal_env.client, settings, sessions) as workers:
        bound: dict[str, dict[str, Any]] = {
            lane: {method.__name__: method for method in worker.config()["activities"]}
            for lane, worker in workers.items()
        }
    single = bound["default"]["deliver"].__self__
    assert bound["urgent"]["deliver"].__self__ is single
    broadcast_sends = bound["broadcast"]["send_broadcast_batch"].__self__._sends
    assert broadcast_sends._delivery is single
