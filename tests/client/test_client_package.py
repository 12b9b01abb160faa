"""The package alone: it imports nothing of Herald's server, and its keys are stable, distinct
for distinct ids, and always what Herald accepts."""

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from herald_client import ValidationError, key_from
from herald_client.keys import MAX_EVENT_ID_LENGTH, MAX_KEY_LENGTH
from hypothesis import given
from hypothesis import strategies as st

HERALDS_OWN = [
    "api", "activities", "bootstrap", "channels", "cli", "config", "db", "devtools", "domain",
    "observability", "services", "temporal_clients", "web", "worker", "workflows",
]  # fmt: skip
SERVER_LIBRARIES = ["fastapi", "sqlalchemy", "temporalio", "psycopg", "starlette"]
# What Herald takes as an Idempotency-Key (api/deps.py) and an event id (api/schemas/events.py).
VISIBLE_ASCII = re.compile(r"^[\x21-\x7e]+$")


def test_the_client_imports_nothing_of_heralds_server():
    """Run isolated (-I: no current directory or PYTHONPATH on the path), from elsewhere."""
    script = (
        "import json, sys, herald_client\n"
        "from herald_client import AsyncHerald, Herald, webhooks, events\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))\n"
    )
    found = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=Path(__file__).parents[2] / "clients" / "python",
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(json.loads(found.stdout))
    assert imported & set(HERALDS_OWN + SERVER_LIBRARIES) == set()
    assert {"httpx", "pydantic", "herald_client"} <= imported


def test_keys_read_as_the_ids_they_come_from():
    order = uuid.UUID("4f2c6a1e-0b7d-4c55-9f0e-2d1a3b4c5d6e")
    assert key_from("order", order, "paid") == f"order:{order}:paid"
    assert key_from("ticket", 981, "reply", 17) == "ticket:981:reply:17"


@given(st.lists(st.text(min_size=0, max_size=400), min_size=1, max_size=5))
def test_keys_are_stable_and_always_what_herald_accepts(parts):
    if parts == [""]:
        with pytest.raises(ValidationError, match="key_from: give at least one id"):
            key_from(*parts)
        return
    key = key_from(*parts)
    assert key == key_from(*parts)
    assert VISIBLE_ASCII.match(key) and len(key) <= MAX_KEY_LENGTH
    assert len(key_from(*parts, max_length=MAX_EVENT_ID_LENGTH)) <= MAX_EVENT_ID_LENGTH


@given(
    st.lists(st.text(max_size=300), min_size=1, max_size=4),
    st.lists(st.text(max_size=300), min_size=1, max_size=4),
)
def test_distinct_ids_give_distinct_keys(first, second):
    if first != second and [""] not in (first, second):
        assert key_from(*first) != key_from(*second)
