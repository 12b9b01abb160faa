"""A scratch PostgreSQL database for a benchmark: an embedded pgserver in a temporary
directory, one database migrated like production, all of it removed afterwards."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pgserver
import psycopg

from db.migrate import upgrade


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """The URL of a new, migrated database `name` (letters, digits and underscores)."""
    directory = tempfile.mkdtemp(prefix=f"herald-bench-{name}-")
    server = pgserver.get_server(directory, cleanup_mode="delete")
    try:
        base = server.get_uri()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        head, _, query = base.partition("?")  # pgserver's URI names the socket in its query
        url = head.rsplit("/", 1)[0] + f"/{name}" + ("?" + query if query else "")
        upgrade(url)
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)
