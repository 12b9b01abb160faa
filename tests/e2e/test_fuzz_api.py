"""Schemathesis over every operation of the OpenAPI, against the real stack (issue 11).

Herald is served by uvicorn on a free port, with its embedded worker, PostgreSQL, the Temporal
dev server and the SMTP catcher behind it; schemathesis's own CLI runs in a subprocess with a
real tenant's API key, all its checks and deterministic generation, and its report is read. The
test fails on any server error or any response that does not match the documented contract.
"""

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from api.app import create_app
from config.settings import Settings
from tests.conftest import free_port, new_tenant
from tests.e2e.bookings_factory import booking_event
from tests.e2e.test_email_smtp import email_request
from tests.e2e.test_templates_api import email_template
from tests.e2e.webhooks_factory import SENDGRID_KEY, TWILIO_TOKEN, public_key_as_sendgrid_shows_it

# Enough generated requests to cover every operation several times over, bounded so the run
# takes about three minutes on a loaded two-core machine (README, "Fuzzing in CI").
MAX_EXAMPLES = 40
MIN_REQUESTS = 1000
CONFIG = Path(__file__).with_name("schemathesis.toml")


@pytest.fixture
async def served(database_url, sessions, temporal_env, smtp_server, tmp_path) -> AsyncIterator:
    """Herald on a real port, as a deployment serves it, and one tenant's API key."""
    settings = Settings(
        database_url=database_url,
        task_queue=f"herald-fuzz-{uuid.uuid4()}",
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        sms_outbox_path=str(tmp_path / "sms-outbox.jsonl"),
        secret_key=SecretStr("test-secret-key-not-for-production"),
        delivery_max_attempts=2,
        # Every provider webhook configured, so they answer a forged call with 403 (not the
        # 503 that says a deployment has not set them up).
        sendgrid_webhook_public_key=public_key_as_sendgrid_shows_it(SENDGRID_KEY),
        twilio_auth_token=SecretStr(TWILIO_TOKEN),
        mailgun_webhook_signing_key=SecretStr("fuzz-mailgun-signing-key"),
        vonage_signature_secret=SecretStr("fuzz-vonage-signature-secret"),
        ses_sns_topic_arns="arn:aws:sns:us-east-1:123456789012:fuzz",
        # The operator's routes (/v1/health/details, the codec) exist only with a token; the
        # tenant's key sent here is refused there with a 401.
        metrics_token=SecretStr("fuzz-operator-token-" + uuid.uuid4().hex),
    )
    _, key = await new_tenant(sessions, "Fuzzed")
    port = free_port()
    app = create_app(settings, temporal=temporal_env.client)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises why it could not start
        await asyncio.sleep(0.05)
    try:
        base_url = f"http://127.0.0.1:{port}"
        yield base_url, key, await existing_resources(base_url, key)
    finally:
        server.should_exit = True
        await serving


async def existing_resources(base_url: str, key: str) -> dict[str, str]:
    """A recipient, a template, a sent notification and its delivery, a scheduled notification
    and a booking of the fuzzed tenant, as environment variables schemathesis.toml reads: the
    routes that take their ids then reach their logic, not only their 404."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as api:
        recipient = "fuzz-ada"
        put = await api.put(f"/v1/recipients/{recipient}", json={"email": "ada@example.com"})
        template = await api.post("/v1/templates", json=email_template())
        sent = await api.post("/v1/notifications", json=email_request("ada@example.com"))
        later = datetime.now(UTC) + timedelta(days=1)
        scheduled = await api.post(
            "/v1/notifications", json=email_request("ada@example.com", send_at=later.isoformat())
        )
        booking = booking_event("booking.created", "bk-fuzz", later)
        event = await api.post("/v1/events", json=booking)
        for response in (put, template, sent, scheduled, event):
            assert response.is_success, response.text
        delivery = await _first_delivery(api, sent.json()["id"])
    return {
        "FUZZ_EXTERNAL_ID": recipient,
        "FUZZ_TEMPLATE_ID": template.json()["id"],
        "FUZZ_NOTIFICATION_ID": sent.json()["id"],
        "FUZZ_DELIVERY_ID": delivery,
        "FUZZ_SCHEDULED_ID": scheduled.json()["id"],
        "FUZZ_BOOKING_ID": booking["data"]["booking_id"],
        "FUZZ_ORGANIZER_ID": booking["data"]["organizer"]["id"],
    }


async def _first_delivery(api: httpx.AsyncClient, notification_id: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        deliveries = (await api.get(f"/v1/notifications/{notification_id}")).json()["deliveries"]
        if deliveries:
            return deliveries[0]["id"]
        await asyncio.sleep(0.2)
    raise AssertionError(f"notification {notification_id} made no delivery in 30 s")


async def run_schemathesis(
    base_url: str, key: str, resources: dict[str, str], report: Path
) -> tuple[int, str]:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    command = [
        str(schemathesis), "--config-file", str(CONFIG), "--no-color",
        "run", f"{base_url}/openapi.json",
        "--header", f"Authorization: Bearer {key}",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--generation-deterministic",  # the same requests every run: a failure reproduces
        "--workers", "1",
        "--report", "ndjson",
        "--report-ndjson-path", str(report),
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **resources},
    )
    # Awaited, not waited on: the server answering schemathesis runs on this event loop.
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode("utf-8", "replace")


def requests_made(report: Path) -> int:
    """How many requests schemathesis sent, from its event stream."""
    total = 0
    for line in report.read_text().splitlines():
        event: dict[str, Any] = json.loads(line)
        for kind, body in event.items():
            if kind == "ScenarioFinished":
                total += len(body.get("recorder", {}).get("interactions", {}))
    return total


@pytest.mark.timeout(600)
async def test_every_operation_survives_schemathesis_with_every_check(served, tmp_path):
    base_url, key, resources = served
    report = tmp_path / "schemathesis.ndjson"
    started = time.monotonic()
    status, output = await run_schemathesis(base_url, key, resources, report)
    (tmp_path / "schemathesis.txt").write_text(output)  # the whole run, to read a failure
    sent = requests_made(report)
    print(f"schemathesis: {sent} requests in {time.monotonic() - started:.0f} s")
    print(output[output.find("SUMMARY") :])
    # Non-zero on any failed check: a server error, an undocumented status or content type,
    # a body or header off its schema, a wrong answer to bad data or a missing key...
    assert status == 0, output[-20000:]
    assert sent >= MIN_REQUESTS, output[-3000:]
