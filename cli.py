"""The `herald` command: `herald tenant create NAME`, `herald key create|list|revoke|rotate`,
`herald user create`, `herald broadcast watch ID`, `herald run`, `herald worker`,
`herald migrate`."""

import argparse
import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING

from config.production import ProductionConfigError
from config.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from api.schemas.api_keys import ApiKeyPublic
    from api.schemas.broadcasts import BroadcastPublic
    from domain.tenants import TenantIdentity


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


@asynccontextmanager
async def _sessions() -> "AsyncIterator[async_sessionmaker[AsyncSession]]":
    """The database, migrated, for one command."""
    from db.migrate import upgrade
    from db.session import create_engine, session_factory

    url = _database_url()
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url, pool_size=1)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


def _show_key_once(key: str) -> None:
    print(f"api key: {key}")
    print(
        "Store the key now: Herald keeps only its hash and cannot show it again.", file=sys.stderr
    )


async def _create_tenant(name: str, operations_email: str | None) -> None:
    from db.tenants import create_tenant

    async with _sessions() as sessions, sessions.begin() as session:
        tenant, key = await create_tenant(session, name)
        tenant.operations_email = operations_email
    print(f"tenant {tenant.id} ({name})")
    _show_key_once(key)


async def _key_command(args: argparse.Namespace) -> None:
    """`herald key ...`: the use cases the API's /v1/api-keys runs (services/api_keys.py), for
    an operator, who may manage any tenant's keys. No API process is told: one that has a revoked
    key cached keeps accepting it for at most API_KEY_CACHE_SECONDS."""
    from services.errors import ServiceError

    async with _sessions() as sessions:
        if args.action in ("create", "list"):
            tenant = await _tenant(sessions, args.tenant)
        else:
            tenant = await _key_owner(sessions, args.key_id)
        try:
            async with sessions() as session:
                await _run_key_command(session, tenant, args)
        except ServiceError as refused:
            sys.exit(f"herald: {refused.message}")
    if args.action == "revoke":
        print(
            "API processes that have the key cached accept it for at most "
            f"API_KEY_CACHE_SECONDS more ({get_settings().api_key_cache_seconds:g} s)."
        )


async def _run_key_command(
    session: "AsyncSession", tenant: "TenantIdentity", args: argparse.Namespace
) -> None:
    from services import api_keys

    if args.action == "create":
        created = await api_keys.create_key(session, tenant, _key_name(args.name))
        print(f"api key {created.id} ({created.name}) of tenant {tenant.id}")
        _show_key_once(created.key)
    elif args.action == "list":
        _print_keys(await _all_keys(session, tenant))
    elif args.action == "revoke":
        revoked = await api_keys.revoke_key(session, None, tenant, args.key_id, args.force)
        print(f"api key {revoked.id} ({revoked.name}) revoked at {revoked.revoked_at}")
    else:
        rotation = await api_keys.rotate_key(session, None, tenant, args.key_id, args.grace_seconds)
        old, new = rotation.revoked, rotation.created
        print(f"api key {new.id} ({new.name}) replaces {old.id}")
        print(f"{old.id} stops working at {old.revoked_at}")
        _show_key_once(new.key)


async def _tenant(
    sessions: "async_sessionmaker[AsyncSession]", name_or_id: str
) -> "TenantIdentity":
    from db.tenants import tenants_named

    async with sessions() as session:
        found = await tenants_named(session, name_or_id)
    if not found:
        sys.exit(f"herald: no tenant named or with id {name_or_id!r}")
    if len(found) > 1:
        ids = ", ".join(str(tenant.id) for tenant in found)
        sys.exit(f"herald: {len(found)} tenants are named {name_or_id!r}: give the id ({ids})")
    return found[0]


async def _key_owner(
    sessions: "async_sessionmaker[AsyncSession]", key_id: uuid.UUID
) -> "TenantIdentity":
    from db.models import ApiKey
    from db.tenants import owner_of

    async with sessions() as session:
        tenant = await owner_of(session, ApiKey, key_id)
    if tenant is None:
        sys.exit(f"herald: api key {key_id} not found")
    return tenant


def _grace_seconds(value: str) -> int:
    """Checked as the API checks it."""
    from pydantic import ValidationError

    from api.schemas.api_keys import ApiKeyRotate

    try:
        return ApiKeyRotate.model_validate({"grace_seconds": value}).grace_seconds
    except ValidationError as invalid:
        raise argparse.ArgumentTypeError(invalid.errors()[0]["msg"]) from None


def _key_name(name: str) -> str:
    """Checked as the API checks it."""
    from pydantic import ValidationError

    from api.schemas.api_keys import ApiKeyCreate

    try:
        return ApiKeyCreate(name=name).name
    except ValidationError as invalid:
        sys.exit(f"herald: --name: {invalid.errors()[0]['msg']}")


async def _all_keys(session: "AsyncSession", tenant: "TenantIdentity") -> "list[ApiKeyPublic]":
    """Every page of the tenant's keys."""
    from api.schemas.pages import MAX_LIMIT
    from services import api_keys

    keys: list[ApiKeyPublic] = []
    cursor = None
    while True:
        listing = await api_keys.list_keys(session, tenant, cursor, MAX_LIMIT)
        keys += listing.data
        if not (cursor := listing.next_cursor):
            return keys


def _print_keys(keys: "list[ApiKeyPublic]") -> None:
    columns = ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    rows = [columns] + [
        tuple("-" if v is None else str(v) for v in (getattr(k, c) for c in columns)) for k in keys
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)))


async def _create_user(args: argparse.Namespace) -> None:
    """`herald user create`: an operator account (the first owner, say), checked as the
    dashboard's forms check it. The password comes from stdin (--password-stdin) or is drawn
    and shown once."""
    import secrets

    from pydantic import ValidationError

    from api.schemas.operators import OperatorCreate
    from services.errors import ServiceError, field_and_problem
    from services.operators import NewOperator, create_operator

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    drawn = password is None
    try:
        checked = OperatorCreate(
            email=args.email,
            name=args.name or args.email.split("@")[0],
            role=args.role,
            password=password or secrets.token_urlsafe(18),
        )
    except ValidationError as invalid:
        sys.exit("herald: --{}: {}".format(*field_and_problem(invalid.errors()[0])))
    async with _sessions() as sessions:
        tenant = await _tenant(sessions, args.tenant)
        new = NewOperator(tenant.id, checked.email, checked.name, checked.role, checked.password)
        try:
            operator = await create_operator(sessions, new, "herald user create")
        except ServiceError as refused:
            sys.exit(f"herald: {refused.message}")
    print(f"operator {operator.id}: {operator.email} ({operator.role}) of tenant {tenant.name}")
    if drawn:
        print(f"password: {checked.password}")
        print("Store it now, or change it with 'Forgot your password?'.", file=sys.stderr)


async def _watch_broadcast(broadcast_id: uuid.UUID, every: float) -> None:
    """`herald broadcast watch ID`: a live progress bar of recipients written out of the
    audience, with what their deliveries came to, the rate and the ETA, as GET
    /v1/broadcasts/{id} reports them (services/broadcasts.py, from the broadcast's row), polled
    every `every` seconds until the broadcast finishes. Exits 1 unless it completed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from db.broadcast_models import Broadcast
    from db.tenants import owner_of
    from domain.broadcasts import FINISHED_BROADCAST_STATUSES
    from services.broadcasts import read_broadcast

    async with _sessions() as sessions:
        async with sessions() as session:
            tenant = await owner_of(session, Broadcast, broadcast_id)
        if tenant is None:
            sys.exit(f"herald: broadcast {broadcast_id} not found")
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TextColumn("{task.fields[details]}")) as bar:
            task = bar.add_task("", total=None, details="")
            while True:
                async with sessions() as session:
                    shown = await read_broadcast(session, tenant, broadcast_id)
                bar.update(
                    task,
                    description=shown.status,
                    completed=shown.planned,
                    total=shown.total,
                    details=_watch_details(shown),
                )
                if shown.status in FINISHED_BROADCAST_STATUSES:
                    break
                await asyncio.sleep(every)
    print(
        f"broadcast {broadcast_id} {shown.status}: {shown.planned}/{shown.total} recipients, "
        f"{shown.sent} sent, {shown.suppressed} suppressed, {shown.deferred} deferred, "
        f"{shown.failed} failed"
    )
    if shown.status != "completed":
        sys.exit(1)


def _watch_details(shown: "BroadcastPublic") -> str:
    rate = shown.rate_per_second
    rate_text = "-" if rate is None else f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.2f}/s"
    eta = "-" if shown.eta_seconds is None else f"{round(shown.eta_seconds)}s"
    return (
        f"sent {shown.sent} · suppressed {shown.suppressed} · deferred {shown.deferred} · "
        f"failed {shown.failed} · {rate_text} · ETA {eta}"
    )


async def _migrate() -> None:
    """Database schema and Temporal search attributes: everything a deployment sets up once."""
    from bootstrap import connect_temporal, refuse_unfit_production
    from db.migrate import upgrade
    from temporal_clients.setup import register_search_attributes

    settings = get_settings()
    refuse_unfit_production(settings)
    await asyncio.to_thread(upgrade, _database_url())
    if not settings.register_search_attributes:
        print("database is up to date; search attributes left to the cluster's operator")
        return
    client = await connect_temporal(settings, sdk_metrics=False)
    added = await register_search_attributes(client)
    print(f"database is up to date; search attributes added: {', '.join(added) or 'none needed'}")


def _add_key_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    key = commands.add_parser("key", help="manage a tenant's API keys").add_subparsers(
        dest="action", required=True
    )
    create = key.add_parser("create", help="create a key and print it (shown this once)")
    create.add_argument("--tenant", required=True, help="the tenant's name or id")
    create.add_argument("--name", default="default", help="what the key is for")
    listing = key.add_parser("list", help="a tenant's keys: id, name, prefix, dates")
    listing.add_argument("--tenant", required=True, help="the tenant's name or id")
    revoke = key.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id", type=uuid.UUID)
    revoke.add_argument(
        "--force", action="store_true", help="even the tenant's last active key (locks it out)"
    )
    rotate = key.add_parser("rotate", help="a new key of the same name; the old one is revoked")
    rotate.add_argument("key_id", type=uuid.UUID)
    rotate.add_argument(
        "--grace-seconds",
        type=_grace_seconds,
        default=0,
        help="how long the old key keeps working, at most 604800 (7 days); default 0: none",
    )


def _add_user_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    user = commands.add_parser("user", help="manage the dashboard's operators").add_subparsers(
        dest="action", required=True
    )
    create = user.add_parser("create", help="create an operator account (e.g. the first owner)")
    create.add_argument("--tenant", required=True, help="the tenant's name or id")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default=None, help="shown in the dashboard; default: the email's")
    create.add_argument("--role", required=True, choices=["owner", "editor", "viewer"])
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin; without it one is drawn and printed",
    )


def _add_broadcast_commands(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    broadcast = commands.add_parser("broadcast", help="follow broadcasts").add_subparsers(
        dest="action", required=True
    )
    watch = broadcast.add_parser(
        "watch", help="a live progress bar of a broadcast (rate, ETA) until it finishes"
    )
    watch.add_argument("broadcast_id", type=uuid.UUID)
    watch.add_argument(
        "--every", type=float, default=1.0, help="seconds between two looks; default 1"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="herald", description="Herald notification service")
    commands = parser.add_subparsers(dest="command", required=True)
    tenant = commands.add_parser("tenant", help="manage tenants").add_subparsers(
        dest="action", required=True
    )
    create = tenant.add_parser("create", help="create a tenant and print its first API key")
    create.add_argument("name")
    create.add_argument("--operations-email", default=None)
    _add_key_commands(commands)
    _add_user_commands(commands)
    _add_broadcast_commands(commands)
    commands.add_parser("run", help="run the whole development stack (what `make run` does)")
    commands.add_parser("worker", help="run a worker")
    commands.add_parser("migrate", help="apply database migrations and register search attributes")
    args = parser.parse_args(argv)
    try:
        _run(args)
    except ProductionConfigError as exc:  # the list of what to fix, not a traceback
        sys.exit(str(exc))


def _run(args: argparse.Namespace) -> None:
    if args.command == "tenant":
        asyncio.run(_create_tenant(args.name, args.operations_email))
    elif args.command == "key":
        asyncio.run(_key_command(args))
    elif args.command == "user":
        asyncio.run(_create_user(args))
    elif args.command == "broadcast":
        asyncio.run(_watch_broadcast(args.broadcast_id, args.every))
    elif args.command == "run":
        _devstack().main()
    elif args.command == "worker":
        from worker import main as run_worker

        asyncio.run(run_worker())
    elif args.command == "migrate":
        asyncio.run(_migrate())


if __name__ == "__main__":
    main()
