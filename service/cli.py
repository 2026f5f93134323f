"""Flask commands for operators: ``db upgrade``/``downgrade``/``current``, ``seed``, ``users``."""

from __future__ import annotations

import asyncio
import logging
import random
import sys
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import users
from service.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, hash_password
from service.database import open_database
from service.models import Number, Role
from service.phone import digits_of
from service.settings import Settings, current_settings

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"

db_cli = AppGroup("db", help="Manage the database schema (Alembic migrations).")
users_cli = AppGroup("users", help="Manage who may sign in (there is no self-signup).")
log = logging.getLogger(__name__)


def alembic_config(settings: Settings) -> Config:
    """Alembic's configuration for the service's migrations and database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = settings.database_url
    return config


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(settings), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    upgrade_database(current_settings(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` empties the schema)."""
    command.downgrade(alembic_config(current_settings()), revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    command.current(alembic_config(current_settings()), verbose=True)


def run_with_session(
    settings: Settings,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    statement_timeout: float | None = None,
) -> T:
    """Run ``work`` in one transaction on an engine of its own (the CLI has its own loop)."""

    async def main() -> T:
        database = open_database(settings, statement_timeout=statement_timeout)
        try:
            async with database.sessions.begin() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(main())


# (country code, formats); "#" is a random digit. Formatted like the agreed example.
_COUNTRIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "+55",
        (
            "+55 11 9####-####",
            "+55 21 9####-####",
            "+55 84 9####-####",
            "+55 31 9####-####",
            "+55 51 9####-####",
            "+55 61 3###-####",
        ),
    ),
    ("+1", ("+1 212 ###-####", "+1 415 ###-####", "+1 512 ###-####", "+1 (305) ###-####")),
    ("+44", ("+44 20 #### ####", "+44 161 ### ####")),
    ("+49", ("+49 30 ########", "+49 89 #######")),
    ("+351", ("+351 21 ### ####",)),
    ("+54", ("+54 11 ####-####",)),
)


def demo_numbers(count: int, currencies: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """``count`` realistic, valid, unique numbers; always the same ones for the same count."""
    rng = random.Random(800)  # noqa: S311 - demo data, reproducible on purpose
    seen: set[str] = set()
    while len(seen) < count:
        _, formats = _COUNTRIES[rng.randrange(len(_COUNTRIES))]
        value = "".join(str(rng.randrange(10)) if c == "#" else c for c in rng.choice(formats))
        digits = digits_of(value)
        if digits in seen:
            continue
        seen.add(digits)
        yield {
            "value": value,
            "digits": digits,
            "monthly_price": Decimal(rng.randint(1, 500)) / 100,
            "setup_price": Decimal(rng.randint(0, 2500)) / 100,
            "currency": rng.choice(currencies),
            "version": 1,
        }


#: A statement of the seed inserts thousands of rows into a table with seven indexes, far more
#: work than the requests' limit (twice DB_TIMEOUT_SECONDS) is meant for.
SEED_STATEMENT_TIMEOUT_SECONDS = 600.0


async def seed_numbers(
    session: AsyncSession, count: int, currencies: tuple[str, ...], batch_size: int = 5000
) -> int:
    """Insert the demo numbers that are not there yet; return how many were added.

    All in the caller's one transaction. On PostgreSQL it locks the table against other writes
    (reads go on), gives the rows their ids itself and moves the id sequence past them only
    once they are all in: a seed that fails, however, burns no id. (A sequence is outside
    transactions: rows rolled back would still have used up the ids they drew from it.)
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        await session.execute(text("LOCK TABLE numbers IN EXCLUSIVE MODE"))
    fresh = await _absent(session, list(demo_numbers(count, currencies)), batch_size)
    if not fresh:
        return 0
    if postgresql:
        first_id = await session.scalar(_NEXT_ID)
        for offset, row in enumerate(fresh):
            row["id"] = first_id + offset
    table = Number.__table__
    insert = (postgresql_dialect if postgresql else sqlite_dialect).insert(table)
    for start in range(0, len(fresh), batch_size):
        # RETURNING makes SQLAlchemy send multi-row INSERTs ("insertmanyvalues", 1,000 rows a
        # statement) instead of executemany()'s one statement per row, each of which would fire
        # the row-count trigger on its own.
        await session.execute(insert.returning(table.c.id), fresh[start : start + batch_size])
    if postgresql:
        await session.execute(_MOVE_SEQUENCE, {"last_id": fresh[-1]["id"]})
    return len(fresh)


_NEXT_ID = text(
    "SELECT coalesce(last_value + increment_by, start_value) FROM pg_sequences "
    "WHERE format('%I.%I', schemaname, sequencename) = pg_get_serial_sequence('numbers', 'id')"
)
_MOVE_SEQUENCE = text("SELECT setval(pg_get_serial_sequence('numbers', 'id'), :last_id)")


async def _absent(
    session: AsyncSession, rows: list[dict[str, Any]], batch_size: int
) -> list[dict[str, Any]]:
    """The rows whose digits are not in the table yet."""
    fresh: list[dict[str, Any]] = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        digits = [row["digits"] for row in batch]
        present = set(await session.scalars(select(Number.digits).where(Number.digits.in_(digits))))
        fresh += [row for row in batch if row["digits"] not in present]
    return fresh


async def count_numbers(session: AsyncSession) -> int:
    """How many numbers there are."""
    return await session.scalar(select(func.count()).select_from(Number)) or 0


@click.command("seed")
@click.option(
    "--count",
    default=800,
    show_default=True,
    type=click.IntRange(1, 2_000_000),
    help="How many demo numbers the table should hold.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing unless the table is empty.")
def seed(count: int, if_empty: bool) -> None:
    """Insert realistic demo numbers in one transaction; running it again adds no duplicates.

    Other writes wait until it is done; if it fails, nothing is added and no id is used up.
    """
    settings = current_settings()

    async def work(session: AsyncSession) -> int:
        if if_empty and await count_numbers(session):
            return 0
        return await seed_numbers(session, count, settings.currencies)

    added = run_with_session(settings, work, statement_timeout=SEED_STATEMENT_TIMEOUT_SECONDS)
    click.echo(f"added {added} numbers")


def read_new_password() -> str:
    """A new password: from a hidden prompt, typed twice, or one line of stdin when piped.

    Never from the command line, where it would land in shell history and ``ps`` output.
    """
    if sys.stdin.isatty():
        password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise click.ClickException(
            f"the password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return password


def _username(name: str) -> str:
    try:
        return users.check_username(name)
    except users.InvalidUsername as error:
        raise click.BadParameter(str(error), param_hint="NAME") from None


def _change(name: str, message: str, **changes: Any) -> None:
    async def work(session: AsyncSession) -> None:
        await users.change_user(session, name, **changes)

    try:
        run_with_session(current_settings(), work)
    except users.UnknownUser as error:
        raise click.ClickException(str(error)) from None
    click.echo(message)


_ROLE = click.Choice([role.value for role in Role])


@users_cli.command("create")
@click.argument("name")
@click.option("--role", type=_ROLE, required=True, help="supervisor manages, viewer reads.")
def users_create(name: str, role: str) -> None:
    """Add the user NAME; the password is prompted for (or read from stdin)."""
    username = _username(name)
    password_hash = hash_password(read_new_password())

    async def work(session: AsyncSession) -> int:
        return (await users.add_user(session, username, password_hash, Role(role))).id

    try:
        user_id = run_with_session(current_settings(), work)
    except IntegrityError:
        raise click.ClickException(f"the user {username!r} already exists") from None
    click.echo(f"created {role} {username!r} (id {user_id})")


@users_cli.command("set-password")
@click.argument("name")
def users_set_password(name: str) -> None:
    """Give NAME a new password (prompted for, or read from stdin)."""
    password_hash = hash_password(read_new_password())
    _change(name, f"password of {name!r} changed", password_hash=password_hash)


@users_cli.command("set-role")
@click.argument("name")
@click.argument("role", type=_ROLE)
def users_set_role(name: str, role: str) -> None:
    """Give NAME another ROLE; tokens already issued follow within USER_CACHE_SECONDS."""
    _change(name, f"{name!r} is now a {role}", role=Role(role))


@users_cli.command("deactivate")
@click.argument("name")
def users_deactivate(name: str) -> None:
    """Stop NAME from signing in; their tokens stop working within USER_CACHE_SECONDS."""
    _change(name, f"{name!r} deactivated", active=False)


@users_cli.command("activate")
@click.argument("name")
def users_activate(name: str) -> None:
    """Let a deactivated NAME sign in again."""
    _change(name, f"{name!r} activated", active=True)


@users_cli.command("list")
def users_list() -> None:
    """Show every user with their role and whether they are active."""
    rows = run_with_session(current_settings(), users.list_users)
    click.echo(f"{'id':>5}  {'username':<32} {'role':<10} {'active':<6} created")
    for user in rows:
        active = "yes" if user.active else "no"
        created = f"{user.created_at:%Y-%m-%d %H:%M}" if user.created_at else "-"
        click.echo(f"{user.id:>5}  {user.username:<32} {user.role:<10} {active:<6} {created}")


def bootstrap_supervisor(settings: Settings) -> bool:
    """Create the ADMIN_USERNAME supervisor when the users table is empty; True if created."""
    if settings.admin_username is None or settings.admin_password is None:
        return False
    username = users.check_username(settings.admin_username)
    password_hash = hash_password(settings.admin_password)

    async def work(session: AsyncSession) -> bool:
        return await users.ensure_first_supervisor(session, username, password_hash)

    async def exists(session: AsyncSession) -> bool:
        return await users.find_user(session, username) is not None

    try:
        created = run_with_session(settings, work)
    except IntegrityError:
        # Replicas starting together all see no users; the unique username lets one insert
        # win. For the others the violation means done, once the winner's row is there.
        if not run_with_session(settings, exists):
            raise
        log.info("the first supervisor %r was created by another process", username)
        return False
    if created:
        log.info("created the first supervisor %r from ADMIN_USERNAME", username)
    return created


@users_cli.command("bootstrap")
def users_bootstrap() -> None:
    """Create the ADMIN_USERNAME/ADMIN_PASSWORD supervisor if there are no users yet."""
    settings = current_settings()
    if settings.admin_username is None:
        raise click.ClickException("set ADMIN_USERNAME and ADMIN_PASSWORD first")
    try:
        created = bootstrap_supervisor(settings)
    except users.InvalidUsername as error:
        raise click.ClickException(f"ADMIN_USERNAME: {error}") from None
    click.echo("created the first supervisor" if created else "users exist already; nothing done")


def init_app(app: Flask) -> None:
    """Register the commands with ``flask --app service``."""
    app.cli.add_command(db_cli)
    app.cli.add_command(seed)
    app.cli.add_command(users_cli)
