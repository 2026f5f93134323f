"""Flask commands for operators: ``db upgrade``/``downgrade``/``current`` and ``seed``."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import click
from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from service.database import open_database
from service.models import Number
from service.phone import digits_of
from service.settings import Settings

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"

db_cli = AppGroup("db", help="Manage the database schema (Alembic migrations).")


def alembic_config(settings: Settings) -> Config:
    """Alembic's configuration for the service's migrations and database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = settings.database_url
    return config


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(settings), revision)


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    upgrade_database(_settings(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` empties the schema)."""
    command.downgrade(alembic_config(_settings()), revision)


@db_cli.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    command.current(alembic_config(_settings()), verbose=True)


def run_with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on an engine of its own (the CLI has its own loop)."""

    async def main() -> T:
        database = open_database(settings)
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


async def seed_numbers(
    session: AsyncSession, count: int, currencies: tuple[str, ...], batch_size: int = 5000
) -> int:
    """Insert the demo numbers that are not there yet; return how many were added."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = Number.__table__
    before = await count_numbers(session)
    rows = list(demo_numbers(count, currencies))
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        # Skip the ones already there first: a conflicting INSERT would still burn an id.
        present = set(
            await session.scalars(
                select(Number.digits).where(Number.digits.in_([row["digits"] for row in batch]))
            )
        )
        fresh = [row for row in batch if row["digits"] not in present]
        if fresh:
            statement = dialect.insert(table).on_conflict_do_nothing(index_elements=["digits"])
            await session.execute(statement, fresh)
    return await count_numbers(session) - before


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
    """Insert realistic demo numbers; running it again adds no duplicates."""
    settings = _settings()

    async def work(session: AsyncSession) -> int:
        if if_empty and await count_numbers(session):
            return 0
        return await seed_numbers(session, count, settings.currencies)

    added = run_with_session(settings, work)
    click.echo(f"added {added} numbers")


def init_app(app: Flask) -> None:
    """Register the commands with ``flask --app service``."""
    app.cli.add_command(db_cli)
    app.cli.add_command(seed)
