"""The Helm chart (deploy/helm/herald), rendered by Helm and validated against the Kubernetes
schemas, then checked for what running Herald needs: probes, resources, a non-root read-only
container, a worker autoscaler, the migration hook, settings that Herald reads, no secret in a
ConfigMap."""

import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "herald"
HELM = os.environ.get("HELM", str(ROOT / ".tools" / "helm"))
KUBERNETES_VERSION = "1.31.0"
REQUIRED_SECRETS = ["--set", "secrets.values.DATABASE_URL=postgresql://h:p@db/herald"]
REQUIRED_SECRETS += ["--set", "secrets.values.SECRET_KEY=0123456789abcdef0123456789abcdef"]
REQUIRED_SECRETS += ["--set", "secrets.values.PAYLOAD_ENCRYPTION_KEYS=k1:" + "A" * 43 + "="]
TLS = ["--set", "temporalTLS.secretName=herald-temporal-tls", "--set", "temporalTLS.serverCA=true"]
# What Temporal's client reads itself (temporalio.envconfig), besides Herald's settings.
TEMPORAL_CLIENT_ENV = {
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_PROFILE",
    "TEMPORAL_CONFIG_FILE",
}


def render(*args: str) -> list[dict]:
    assert Path(HELM).exists(), f"no Helm at {HELM}: `make tools` fetches it"
    result = subprocess.run(
        [HELM, "template", "herald", str(CHART), "--namespace", "notify", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs: list[dict]) -> dict[tuple[str, str], dict]:
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def containers(docs: list[dict]) -> list[tuple[dict, dict]]:
    """(pod spec, container) for every workload."""
    found = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            pod = doc["spec"]["template"]["spec"]
            found += [(pod, container) for container in pod["containers"]]
    return found


VARIANTS = {
    "defaults": REQUIRED_SECRETS,
    "existing secret, fixed workers, network policy": [
        "--set",
        "secrets.existingSecret=herald-from-vault",
        "--set",
        "worker.autoscaling.enabled=false",
        "--set",
        "networkPolicy.enabled=true",
    ],
    "no migration hook": [*REQUIRED_SECRETS, "--set", "migrations.enabled=false"],
    "temporal over mTLS": [*REQUIRED_SECRETS, *TLS],
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_manifest_is_valid_kubernetes(variant):
    docs = render(*VARIANTS[variant])
    assert docs
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {exc.message} at {exc.path}")


def test_the_api_and_the_workers_run_as_deployed():
    docs = by_kind(render(*REQUIRED_SECRETS))
    api = docs[("Deployment", "herald-api")]["spec"]["template"]["spec"]["containers"][0]
    worker = docs[("Deployment", "herald-worker")]["spec"]["template"]["spec"]
    assert api["readinessProbe"]["httpGet"]["path"] == "/v1/health"
    assert api["livenessProbe"]["httpGet"]["path"] == "/v1/health"
    assert {"name": "EMBEDDED_WORKER", "value": "false"} in api["env"]  # workers run workflows
    assert worker["containers"][0]["command"] == ["herald", "worker"]
    assert worker["containers"][0]["livenessProbe"]["httpGet"]["port"] == "metrics"
    # The pod outlives the worker's own shutdown grace, so in-flight sends finish first.
    grace = {e["name"]: e["value"] for e in worker["containers"][0]["env"]}
    assert worker["terminationGracePeriodSeconds"] > float(grace["WORKER_SHUTDOWN_GRACE_SECONDS"])
    hpa = docs[("HorizontalPodAutoscaler", "herald-worker")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "herald-worker"
    assert "replicas" not in docs[("Deployment", "herald-worker")]["spec"]  # the HPA decides
    service = docs[("Service", "herald-api")]["spec"]
    assert (
        service["selector"] == docs[("Deployment", "herald-api")]["spec"]["selector"]["matchLabels"]
    )


def test_every_container_is_bounded_non_root_and_read_only():
    for pod, container in containers(render(*REQUIRED_SECRETS)):
        assert pod["securityContext"]["runAsNonRoot"] is True, container["name"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
        assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}
        assert pod["automountServiceAccountToken"] is False


def test_migrations_run_before_the_rollout_with_the_settings_they_need():
    docs = render(*REQUIRED_SECRETS)
    job = by_kind(docs)[("Job", "herald-migrate")]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["herald", "migrate"]
    # Helm runs pre-install hooks before the release's resources: what the job reads must be
    # a hook that runs earlier.
    job_weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    for kind, name in [
        ("ConfigMap", "herald-config"),
        ("Secret", "herald-secrets"),
        ("ServiceAccount", "herald"),
    ]:
        annotations = by_kind(docs)[(kind, name)]["metadata"]["annotations"]
        assert "pre-install" in annotations["helm.sh/hook"], name
        assert int(annotations["helm.sh/hook-weight"]) < job_weight, name


def test_settings_are_ones_herald_reads_and_secrets_stay_out_of_the_configmap():
    docs = by_kind(render(*REQUIRED_SECRETS, *TLS))
    known = {name.upper() for name in Settings.model_fields} | TEMPORAL_CLIENT_ENV
    config = docs[("ConfigMap", "herald-config")]["data"]
    secret = docs[("Secret", "herald-secrets")]["stringData"]
    workloads = [c for _, c in containers(list(docs.values()))]
    env = {e["name"] for c in workloads for e in c.get("env", [])}
    assert set(config) | set(secret) | env <= known, (set(config) | set(secret) | env) - known
    secret_fields = {
        name.upper()
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    } | {"DATABASE_URL"}
    assert not secret_fields & set(config), "secrets belong in the Secret"


def test_the_chart_runs_herald_in_production_mode():
    config = by_kind(render(*REQUIRED_SECRETS))[("ConfigMap", "herald-config")]["data"]
    assert config["HERALD_ENV"] == "production"
    assert config["PUBLIC_BASE_URL"].startswith("https://")


def test_a_missing_required_secret_is_refused_at_render_time():
    result = subprocess.run(
        [HELM, "template", "herald", str(CHART)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "secrets.values.DATABASE_URL is required" in result.stderr


def test_with_mtls_every_herald_container_reaches_temporal_with_the_certificate():
    for pod, container in containers(render(*REQUIRED_SECRETS, *TLS)):
        env = {e["name"]: e["value"] for e in container.get("env", [])}
        mounted = {m["name"]: m for m in container["volumeMounts"]}
        assert mounted["temporal-tls"]["readOnly"] is True, container["name"]
        directory = mounted["temporal-tls"]["mountPath"]
        assert env["TEMPORAL_TLS_CLIENT_CERT_PATH"] == f"{directory}/tls.crt"
        assert env["TEMPORAL_TLS_CLIENT_KEY_PATH"] == f"{directory}/tls.key"
        assert env["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] == f"{directory}/ca.crt"
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert secrets["temporal-tls"] == "herald-temporal-tls"


def worker_queues(docs: dict, name: str) -> str:
    container = docs[("Deployment", name)]["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value") for e in container["env"]}["WORKER_QUEUES"]


def test_broadcasts_run_in_workers_of_their_own_unless_disabled():
    docs = by_kind(render(*REQUIRED_SECRETS, "--set", "networkPolicy.enabled=true"))
    assert worker_queues(docs, "herald-worker") == "default,urgent"
    assert worker_queues(docs, "herald-broadcast-worker") == "broadcast"
    broadcast = docs[("Deployment", "herald-broadcast-worker")]["spec"]
    assert broadcast["selector"]["matchLabels"]["app.kubernetes.io/component"] == (
        "broadcast-worker"
    )
    assert ("NetworkPolicy", "herald-broadcast-worker") in docs  # its metrics: Prometheus only
    alone = by_kind(render(*REQUIRED_SECRETS, "--set", "broadcastWorker.enabled=false"))
    assert worker_queues(alone, "herald-worker") == "all"
    assert ("Deployment", "herald-broadcast-worker") not in alone
