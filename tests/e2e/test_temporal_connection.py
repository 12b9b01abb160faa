"""How Herald reaches Temporal: a temporalio.envconfig profile (file and environment: TLS, API
keys, as for a self-hosted cluster with mTLS or Temporal Cloud), Herald's own TEMPORAL_ADDRESS
and TEMPORAL_NAMESPACE when set; and `herald migrate` leaving search attributes to the
cluster's operator when told to."""

import subprocess
import sys
import uuid
from pathlib import Path

from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from bootstrap import connect_temporal, temporal_connect_config
from config.settings import Settings
from workflows import search_attributes as sa

ROOT = Path(__file__).resolve().parents[2]


def settings(**given) -> Settings:
    return Settings(database_url="postgresql://unused/unused", **given)


def test_tls_and_an_api_key_come_from_the_environment_as_temporal_reads_them():
    config = temporal_connect_config(
        settings(temporal_address="ns.a1b2c.tmprl.cloud:7233", temporal_namespace="ns.a1b2c"),
        {"TEMPORAL_API_KEY": "cloud-key", "TEMPORAL_TLS": "true"},
    )
    assert config["target_host"] == "ns.a1b2c.tmprl.cloud:7233"
    assert (config["namespace"], config["api_key"]) == ("ns.a1b2c", "cloud-key")
    assert config["tls"]


def test_a_profile_file_names_the_cluster_unless_herald_is_told_otherwise(tmp_path):
    (tmp_path / "tls.crt").write_text("certificate")
    (tmp_path / "tls.key").write_text("key")
    profile = tmp_path / "temporal.toml"
    profile.write_text(
        '[profile.prod]\naddress = "temporal.internal:7233"\nnamespace = "herald-prod"\n'
        f'[profile.prod.tls]\nclient_cert_path = "{tmp_path}/tls.crt"\n'
        f'client_key_path = "{tmp_path}/tls.key"\n'
    )
    environ = {"TEMPORAL_CONFIG_FILE": str(profile), "TEMPORAL_PROFILE": "prod"}
    from_file = temporal_connect_config(settings(), environ)
    assert (from_file["target_host"], from_file["namespace"]) == (
        "temporal.internal:7233",
        "herald-prod",
    )
    assert from_file["tls"].client_cert == b"certificate"  # type: ignore[union-attr]
    explicit = temporal_connect_config(settings(temporal_address="other:7233"), environ)
    assert (explicit["target_host"], explicit["namespace"]) == ("other:7233", "herald-prod")


async def test_herald_connects_through_a_profile_to_a_real_server(
    temporal_env, tmp_path, monkeypatch
):
    address = temporal_env.client.service_client.config.target_host
    profile = tmp_path / "temporal.toml"
    profile.write_text(f'[profile.default]\naddress = "{address}"\nnamespace = "default"\n')
    monkeypatch.setenv("TEMPORAL_CONFIG_FILE", str(profile))
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    client = await connect_temporal(settings(), sdk_metrics=False)
    answer = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    assert {key.name for key in sa.ALL} <= set(answer.custom_attributes)


def test_migrate_can_leave_search_attributes_to_the_clusters_operator(database_url):
    """Temporal Cloud registers them with tcld: migrate must not need operator rights there.
    TEMPORAL_ADDRESS points nowhere, so a registration attempt would fail the command."""
    done = subprocess.run(
        [sys.executable, "-m", "cli", "migrate"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": f"127.0.0.1:1/{uuid.uuid4().hex}",
            "REGISTER_SEARCH_ATTRIBUTES": "false",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "search attributes left to the cluster's operator" in done.stdout
