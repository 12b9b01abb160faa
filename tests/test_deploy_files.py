"""What can be checked of the deployment files without a Docker engine."""

from pathlib import Path

import yaml

from config.settings import Settings

ROOT = Path(__file__).parent.parent
PACKAGES = [
    "api",
    "activities",
    "channels",
    "config",
    "db",
    "domain",
    "observability",
    "services",
    "temporal_clients",
    "workflows",
]
MODULES = ["worker.py", "bootstrap.py", "cli.py"]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_temporal_on_postgres_with_ui_api_and_workers():
    services = compose()["services"]
    assert {"postgres", "temporal", "temporal-ui", "api", "worker", "migrate"} <= set(services)
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert services["worker"]["command"] == ["herald", "worker"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_environment_names_are_settings_herald_reads():
    known = {name.upper() for name in Settings.model_fields}
    for service in ("api", "worker", "migrate"):
        env = compose()["services"][service]["environment"]
        assert set(env) <= known, set(env) - known


def test_compose_mounts_files_that_exist():
    for service in compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def test_image_contains_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in PACKAGES:
        assert f"COPY {package} ./{package}" in dockerfile
    for module in MODULES:
        assert module in dockerfile


def test_herald_processes_get_longer_to_stop_than_a_send_may_take():
    """SIGTERM lets sends in flight finish; a SIGKILL before that could send one twice."""
    settings = Settings()
    longest_send = max(
        settings.delivery_attempt_timeout_seconds, settings.worker_shutdown_grace_seconds
    )
    for service in ("api", "worker"):
        grace = compose()["services"][service]["stop_grace_period"]
        assert grace.endswith("s") and float(grace[:-1]) > longest_send, service


def test_compose_gives_the_api_its_metrics_token_and_opens_worker_metrics_inside_only():
    services = compose()["services"]
    assert services["api"]["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
    # A worker's metrics have no authentication: loopback by default (Settings), opened here to
    # the Compose network for a Prometheus beside them, never published on the host.
    assert Settings().worker_metrics_address == "127.0.0.1"
    assert services["worker"]["environment"]["WORKER_METRICS_ADDRESS"] == "0.0.0.0"
    assert "ports" not in services["worker"]
    # The container health check uses the public health, which needs no key.
    assert "/v1/health'" in " ".join(services["api"]["healthcheck"]["test"])
