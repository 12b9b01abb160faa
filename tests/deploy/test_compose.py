"""docker-compose.yml, as far as this machine allows without a Docker engine: valid against the
Compose Specification's JSON schema (tests/deploy/compose-spec.json, from compose-spec/
compose-spec, Apache-2.0), and what running Herald needs of it: a real Temporal server set up
by admin-tools, healthchecks without tctl, restart policies, ports on localhost, the start
order, and every setting Herald reads reachable through .env."""

import json
import re
import subprocess
from pathlib import Path

import jsonschema
import yaml

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {name.upper() for name in Settings.model_fields}
HERALD = ("migrate", "api", "worker", "broadcast-worker")
JOBS = ("temporal-schema", "temporal-namespace", "migrate")  # run once, then exit


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def services() -> dict:
    return compose()["services"]


def test_the_file_is_valid_against_the_compose_specification():
    schema = json.loads((ROOT / "tests" / "deploy" / "compose-spec.json").read_text())
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose()))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_a_real_temporal_server_on_postgres_set_up_by_admin_tools():
    s = services()
    expected = {"postgres", "temporal", "temporal-ui", "mailpit", *HERALD, *JOBS}
    assert expected <= set(s)
    assert s["temporal"]["image"].startswith("temporalio/server:")  # not the deprecated auto-setup
    assert not any("auto-setup" in service.get("image", "") for service in s.values())
    for job in ("temporal-schema", "temporal-namespace"):
        assert s[job]["image"].startswith("temporalio/admin-tools:")
    assert s["temporal"]["environment"]["DB"] == "postgres12"
    # the same version of server and tools: the schema the server expects
    versions = {s[name]["image"].split(":")[1] for name in ("temporal", *JOBS[:2])}
    assert len(versions) == 1


def test_everything_starts_in_order():
    s = services()

    def after(service: str, other: str, condition: str) -> bool:
        return s[service]["depends_on"][other]["condition"] == condition

    assert after("temporal-schema", "postgres", "service_healthy")
    assert after("temporal", "temporal-schema", "service_completed_successfully")
    assert after("temporal-namespace", "temporal", "service_healthy")
    assert after("migrate", "temporal-namespace", "service_completed_successfully")
    for service in ("api", "worker", "broadcast-worker"):
        assert after(service, "migrate", "service_completed_successfully")
    assert s["migrate"]["command"] == ["herald", "migrate"]  # tables and search attributes
    assert s["worker"]["command"] == ["herald", "worker"]
    assert s["worker"]["deploy"]["replicas"] == 2


def test_every_long_running_service_has_a_healthcheck_and_restarts():
    for name, service in services().items():
        if name in JOBS:
            assert service["restart"].startswith("on-failure"), name
            continue
        assert service["restart"] == "unless-stopped", name
        check = " ".join(service["healthcheck"]["test"])
        assert "tctl" not in check, name  # gone from current Temporal images
    api = " ".join(services()["api"]["healthcheck"]["test"])
    assert "/v1/health'" in api  # the public health: no key needed


def test_ports_listen_on_localhost_unless_configured():
    for name, service in services().items():
        for port in service.get("ports", []):
            assert port.startswith("${HERALD_BIND_ADDRESS:-127.0.0.1}:"), (name, port)
    assert "ports" not in services()["worker"]  # worker metrics: the Compose network only


def test_every_setting_herald_reads_can_reach_its_containers():
    s = services()
    for name in HERALD:
        assert s[name]["env_file"] == ".env", name
        assert set(s[name]["environment"]) <= SETTINGS, set(s[name]["environment"]) - SETTINGS
        # a wired value can be overridden from .env too
        for key, value in s[name]["environment"].items():
            if key not in ("WORKER_METRICS_ADDRESS", "WORKER_QUEUES"):  # fixed per service
                assert str(value).startswith(f"${{{key}:"), (name, key, value)
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert listed == SETTINGS, (SETTINGS - listed, listed - SETTINGS)
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_mounted_files_exist_and_the_setup_scripts_parse():
    for service in services().values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
    for script in (ROOT / "deploy" / "temporal").glob("*.sh"):
        subprocess.run(["sh", "-n", str(script)], check=True)


def test_herald_processes_get_longer_to_stop_than_a_send_may_take():
    """SIGTERM lets sends in flight finish; a SIGKILL before that could send one twice."""
    settings = Settings()
    longest_send = max(
        settings.delivery_attempt_timeout_seconds, settings.worker_shutdown_grace_seconds
    )
    for service in ("api", "worker", "broadcast-worker"):
        grace = services()[service]["stop_grace_period"]
        assert grace.endswith("s") and float(grace[:-1]) > longest_send, service


def test_the_api_gets_its_metrics_token_and_worker_metrics_stay_inside():
    s = services()
    assert s["api"]["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
    # A worker's metrics have no authentication: loopback by default (Settings), opened here to
    # the Compose network for a Prometheus beside them, never published on the host.
    assert Settings().worker_metrics_address == "127.0.0.1"
    assert s["worker"]["environment"]["WORKER_METRICS_ADDRESS"] == "0.0.0.0"


def test_broadcasts_run_in_workers_of_their_own():
    """The lanes (WORKER_QUEUES): single notifications' workers and the API's embedded one
    never run a broadcast's pages, which would share their event loop and CPU."""
    s = services()
    assert s["worker"]["environment"]["WORKER_QUEUES"] == "default,urgent"
    assert s["broadcast-worker"]["environment"]["WORKER_QUEUES"] == "broadcast"
    assert s["broadcast-worker"]["command"] == ["herald", "worker"]
    assert "ports" not in s["broadcast-worker"]
