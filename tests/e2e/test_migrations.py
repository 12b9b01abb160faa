"""Alembic keeps one linear chain, and both an empty database and one at the schema of the six
former heads (0002 to 0007, each revising 0001) upgrade to its single head, to the same schema;
every index the models declare is built by the migrations as the models declare it."""

import importlib
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pgserver
import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from db.migrate import alembic_config, upgrade
from db.models import Base
from db.session import to_async_url
from tests.conftest import _with_database

ROOT = Path(__file__).resolve().parents[2]
MERGE = "0008_single_head"
# Every module of db/ that declares tables (db/models.py and db/*_models.py).
MODEL_MODULES = sorted(f"db.{path.stem}" for path in (ROOT / "db").glob("*models.py"))
# The six former heads, in the reverse of file order (0007 and 0005 first pull in 0004 and 0002).
SIX_HEADS = [
    "0007_fallbacks",
    "0006_failover",
    "0005_tracking",
    "0004_delivery_policy",
    "0003_bookings",
    "0002_templates",
]


def test_one_head():
    script = ScriptDirectory.from_config(alembic_config("postgresql://unused/unused"))
    heads = script.get_heads()
    assert len(heads) == 1, (
        f"Alembic has {len(heads)} heads: {sorted(heads)}. Migrations form one linear chain: set "
        "your new migration's down_revision to the revision that was the single head before it "
        "(`alembic revision -m ...` does). If someone else's migration landed on that head "
        "meanwhile, make yours revise theirs instead (don't add a merge revision or depends_on)."
    )


def test_alembic_heads_from_the_repository_root():
    """`alembic heads`, run where a developer runs it, reads alembic.ini and prints one head."""
    alembic = Path(sys.executable).parent / "alembic"
    result = subprocess.run(
        [str(alembic), "heads"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].endswith(" (head)"), result.stdout + result.stderr


@pytest.fixture(scope="module")
def server_url() -> str:
    """A PostgreSQL server to create databases on: DATABASE_URL's, else an embedded pgserver."""
    base = os.environ.get("DATABASE_URL")
    if base:
        return base
    directory = Path(tempfile.mkdtemp(prefix="herald-pg-migrations-"))
    return pgserver.get_server(directory, cleanup_mode="delete").get_uri()  # gone at exit


@pytest.fixture
def new_database(server_url):
    """Creates empty databases on the server and drops them after the test."""
    names: list[str] = []

    def create() -> str:
        name = f"herald_migrations_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        return _with_database(server_url, name)

    yield create
    with psycopg.connect(server_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def versions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return sorted(row[0] for row in conn.execute("SELECT version_num FROM alembic_version"))


def schema(url: str) -> dict[str, list[tuple]]:
    """Tables, columns (with types, nullability, defaults), constraints and indexes of `public`.
    Columns are compared by name, not position: add_column appends, so the position of a column
    added by one former head depends on the order the heads were applied in."""
    queries = {
        "tables": """
            SELECT table_name, table_type FROM information_schema.tables
            WHERE table_schema = 'public' ORDER BY 1""",
        "columns": """
            SELECT table_name, column_name, data_type, udt_name, character_maximum_length,
                   numeric_precision, is_nullable, column_default
            FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2""",
        "constraints": """
            SELECT cls.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
            FROM pg_constraint con JOIN pg_class cls ON cls.oid = con.conrelid
            JOIN pg_namespace ns ON ns.oid = cls.relnamespace
            WHERE ns.nspname = 'public' ORDER BY 1, 2""",
        "indexes": """
            SELECT tablename, indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' ORDER BY 1, 2""",
    }
    with psycopg.connect(url) as conn:
        return {kind: conn.execute(sql).fetchall() for kind, sql in queries.items()}


def single_head() -> str:
    head = ScriptDirectory.from_config(
        alembic_config("postgresql://unused/unused")
    ).get_current_head()
    assert head is not None, "no migrations at all"
    return head


def test_an_empty_database_upgrades_to_the_single_head(new_database):
    url = new_database()
    upgrade(url)
    assert versions(url) == [single_head()]
    found = schema(url)
    # Something from 0001 and from each former head.
    assert {
        "notifications",
        "templates",
        "bookings",
        "tenant_policy_settings",
        "invalid_addresses",
        "provider_circuits",
    } <= {row[0] for row in found["tables"]}
    assert {("tenant_policy_settings", "fallbacks"), ("deliveries", "failover_log")} <= {
        row[:2] for row in found["columns"]
    }
    assert "ix_deliveries_stats" in {row[1] for row in found["indexes"]}


def test_a_database_at_the_six_former_heads_upgrades_to_the_same_schema(new_database):
    six_heads = new_database()
    config = alembic_config(six_heads)
    for revision in SIX_HEADS:
        command.upgrade(config, revision)
    # The rows `upgrade(url)` to "heads" left before the merge revision existed (0002 and 0004
    # implied by 0005 and 0007, which needed them).
    assert versions(six_heads) == [
        "0003_bookings",
        "0005_tracking",
        "0006_failover",
        "0007_fallbacks",
    ]
    before = schema(six_heads)

    command.upgrade(config, MERGE)
    assert versions(six_heads) == [MERGE]
    assert schema(six_heads) == before  # the merge revision changes no schema

    upgrade(six_heads)  # to the head, the merge revision or a later one
    assert versions(six_heads) == [single_head()]
    fresh = new_database()
    upgrade(fresh)
    assert schema(six_heads) == schema(fresh)


def declared_indexes() -> set[str]:
    """The names of the indexes the models declare, every model module imported (as
    db/migrations/env.py does)."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return {
        str(index.name)  # every index of Herald's is named (a migration drops it by name)
        for table in Base.metadata.tables.values()
        for index in table.indexes
    }


def test_the_migrations_build_every_index_the_models_declare(new_database):
    """An index written in a migration and mirrored in the models (e.g. 0019's partial indexes)
    is the same in both: what the models would create is what the migrations created."""
    migrated, from_models = new_database(), new_database()
    upgrade(migrated)
    engine = create_engine(to_async_url(from_models), poolclass=NullPool)
    Base.metadata.create_all(engine)
    engine.dispose()
    declared = declared_indexes()

    def definitions(url: str) -> dict[str, str]:
        return {name: definition for _, name, definition in schema(url)["indexes"]}

    built, modelled = definitions(migrated), definitions(from_models)
    assert declared <= set(modelled)  # create_all built every declared index
    assert {name: built.get(name) for name in declared} == {
        name: modelled[name] for name in declared
    }
