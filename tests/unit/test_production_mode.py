"""HERALD_ENV=production refuses development secrets and missing encryption, listing every
problem at once; development refuses nothing."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from config.production import production_problems
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FIT: dict[str, Any] = dict(
    herald_env="production",
    database_url="postgresql://herald@db.internal/herald",
    secret_key=SecretStr("9f1c2be07a4d4e3c8b6a51f0d2e7c4a19b3e8d6f"),
    metrics_token=SecretStr("c3a9e1f07b5d42e6a8"),
    payload_encryption_keys=SecretStr("k1:" + "A" * 43 + "="),
    public_base_url="https://herald.example.org",
    smtp_host="smtp.mail.example.org",
    smtp_start_tls=True,
)


def problems(temporal_encrypted: bool = True, **changes) -> list[str]:
    return production_problems(Settings(**(FIT | changes)), temporal_encrypted)


def test_a_fit_production_configuration_starts():
    assert problems() == []


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"secret_key": None}, "SECRET_KEY"),
        ({"secret_key": SecretStr("too-short-but-random-x1")}, "SECRET_KEY"),
        ({"secret_key": SecretStr("test-secret-key-not-for-production-x" * 2)}, "SECRET_KEY"),
        ({"secret_key": SecretStr("a" * 40)}, "SECRET_KEY"),
        ({"metrics_token": SecretStr("test-metrics-token-not-for-production")}, "METRICS_TOKEN"),
        ({"payload_encryption_keys": None}, "PAYLOAD_ENCRYPTION_KEYS"),
        ({"public_base_url": "http://herald.example.org"}, "PUBLIC_BASE_URL"),
        ({"smtp_start_tls": False}, "SMTP to smtp.mail.example.org without TLS"),
        ({"sms_provider": "outbox"}, "SMS_PROVIDER=outbox"),
    ],
)
def test_each_unfit_setting_is_named(changes, named):
    [problem] = problems(**changes)
    assert named in problem


def test_temporal_without_tls_is_refused_unless_the_network_is_declared_private():
    [problem] = problems(temporal_encrypted=False)
    assert "Temporal connection has no TLS" in problem
    assert problems(temporal_encrypted=False, allow_plaintext_temporal=True) == []


def test_smtp_on_the_same_host_needs_no_tls_and_all_problems_come_at_once():
    assert problems(smtp_host="localhost", smtp_start_tls=False) == []
    assert len(problems(secret_key=None, payload_encryption_keys=None)) == 2


def test_development_refuses_nothing():
    development = FIT | {"herald_env": "development", "secret_key": None}
    assert production_problems(Settings(**development), temporal_encrypted=False) == []


def test_a_process_started_in_production_with_development_settings_stops_and_says_why():
    done = subprocess.run(
        [sys.executable, "-m", "cli", "migrate"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "HERALD_ENV": "production",
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "SECRET_KEY": "test-secret-key-not-for-production",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("HERALD_ENV=production refuses to start:")
    for named in ("SECRET_KEY", "PAYLOAD_ENCRYPTION_KEYS", "PUBLIC_BASE_URL", "Temporal"):
        assert named in done.stderr, done.stderr
