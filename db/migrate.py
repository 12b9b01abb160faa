"""Apply Alembic migrations from code (the dev stack, the tests and the worker image use it)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    # One linear chain, one head: each new migration revises the current head
    # (tests/e2e/test_migrations.py fails when a second head appears).
    command.upgrade(alembic_config(database_url), "head")
