"""Fresh PostgreSQL databases for the benchmark: migrated, bulk-seeded, copied for every run.

One template database per row count is migrated and seeded once (in SQL, not through the API);
every run gets its own copy (``CREATE DATABASE ... TEMPLATE``), so each run starts from exactly
the same rows whatever the previous run inserted or changed. Everything is dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg

from service import cli
from service.settings import Settings

DEFAULT_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
#: The supervisor the benchmark's tokens name (bootstrapped in every template).
ADMIN_USERNAME = "bench-admin"
ADMIN_PASSWORD = "bench-admin-password-not-a-secret"  # noqa: S105 - a throwaway benchmark user

# The seeded numbers: (display prefix, digits prefix, subscriber digits, layout). Each layout
# splits the subscriber digits like the agreed example. Prefixes of the same total length differ,
# and within a format the subscriber is a bijection of the row number, so every digits string is
# unique. No format uses country code 86: the POST scenario creates +86 numbers.
_FORMATS: tuple[tuple[str, str, int, str], ...] = (
    ("+55 11 9", "55119", 8, "4-4"),
    ("+55 21 9", "55219", 8, "4-4"),
    ("+55 84 9", "55849", 8, "4-4"),
    ("+55 31 9", "55319", 8, "4-4"),
    ("+55 51 9", "55519", 8, "4-4"),
    ("+55 61 3", "55613", 7, "3-4"),
    ("+1 212 ", "1212", 7, "3-4"),
    ("+1 415 ", "1415", 7, "3-4"),
    ("+1 (305) ", "1305", 7, "3-4"),
    ("+44 20 ", "4420", 8, "4 4"),
    ("+49 30 ", "4930", 8, "8"),
    ("+351 21 ", "35121", 7, "3 4"),
    ("+54 11 ", "5411", 8, "4-4"),
)
CURRENCIES = ("U$", "R$", "USD", "BRL", "EUR")


def _layout_sql(layout: str, column: str) -> str:
    """SQL splitting the subscriber digits in ``column`` as ``layout`` ("4-4", "3 4", "8")."""
    if layout.isdigit():
        return column
    first, separator, rest = int(layout[0]), layout[1], int(layout[2:])
    return f"substr({column}, 1, {first}) || '{separator}' || substr({column}, {first + 1}, {rest})"


def seed_sql() -> str:
    """INSERT ... SELECT generate_series($1) of realistic, valid, unique numbers (ids 1..N)."""
    count = len(_FORMATS)
    value_cases = []
    digit_cases = []
    for index, (display, digits, length, layout) in enumerate(_FORMATS):
        column = f"s{length}"
        value_cases.append(f"WHEN {index} THEN '{display}' || {_layout_sql(layout, column)}")
        digit_cases.append(f"WHEN {index} THEN '{digits}' || {column}")
    currencies = ", ".join(f"'{c}'" for c in CURRENCIES)
    # (i * 7368787 + 2750159) mod 10^k is a bijection for i < 10^k: the subscriber digits of
    # one format never repeat. h spreads prices and currencies pseudo-randomly. Built only from
    # the constants above, never from input.
    return f"""
        INSERT INTO numbers (value, digits, monthly_price, setup_price, currency, version)
        SELECT CASE i % {count} {" ".join(value_cases)} END,
               CASE i % {count} {" ".join(digit_cases)} END,
               (1 + h % 500) / 100.0,
               ((h / 500) % 2501) / 100.0,
               (ARRAY[{currencies}])[1 + (h / 1250500) % {len(CURRENCIES)}],
               1
        FROM (SELECT i,
                     lpad(((i * 7368787 + 2750159) % 10000000)::text, 7, '0') AS s7,
                     lpad(((i * 7368787 + 2750159) % 100000000)::text, 8, '0') AS s8,
                     (i * 2654435761) % 4294967296 AS h
              FROM generate_series(1, $1::bigint) AS i) AS generated
        ORDER BY i
    """  # noqa: S608


def _plain_url(url: str) -> str:
    """The asyncpg form of a SQLAlchemy URL (``postgresql+asyncpg://`` -> ``postgresql://``)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (keeps host, port, user, password, query)."""
    base, _, query = url.partition("?")
    prefix = base.rsplit("/", 1)[0]
    return f"{prefix}/{name}" + (f"?{query}" if query else "")


def server_url() -> str:
    """The PostgreSQL server to use: BENCH_DATABASE_URL, else DATABASE_URL, else localhost."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith("postgresql+asyncpg://"):
        return DEFAULT_SERVER_URL
    return url


@dataclass(frozen=True, slots=True)
class Template:
    """A migrated, seeded database that runs copy; ``rows`` numbers with ids 1..rows."""

    name: str
    rows: int
    seed_seconds: float
    #: The id of the benchmark's supervisor (ADMIN_USERNAME), whose tokens the scenarios send.
    admin_id: int


class Databases:
    """Creates, copies and drops the benchmark's databases on one PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.prefix = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.created: list[str] = []

    def database_url(self, name: str) -> str:
        """The SQLAlchemy URL of database ``name`` on this server."""
        return _with_database(self.url, name)

    async def _admin(self, *statements: str) -> None:
        connection = await asyncpg.connect(_plain_url(self.url))
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    def create_template(self, rows: int) -> Template:
        """Create, migrate and seed a template with ``rows`` numbers (and the bench user)."""
        name = f"{self.prefix}_t{rows}"
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        url = self.database_url(name)
        settings = Settings.from_env(
            {
                "DATABASE_URL": url,
                "ADMIN_USERNAME": ADMIN_USERNAME,
                "ADMIN_PASSWORD": ADMIN_PASSWORD,
                "LOG_LEVEL": "WARNING",
            }
        )
        cli.upgrade_database(settings)
        cli.bootstrap_supervisor(settings)
        started = time.perf_counter()
        admin_id = asyncio.run(_seed(_plain_url(url), rows))
        return Template(name, rows, time.perf_counter() - started, admin_id)

    def copy(self, template: Template, label: str) -> str:
        """A new database holding exactly the template's rows; returns its name."""
        name = f"{self.prefix}_{label}"
        # A big template is copied file by file (one checkpoint) rather than WAL-logged page by
        # page; a small one is faster the default way, without the checkpoint.
        strategy = "STRATEGY FILE_COPY" if template.rows > 100_000 else ""
        asyncio.run(
            self._admin(
                f'DROP DATABASE IF EXISTS "{name}"',
                f'CREATE DATABASE "{name}" TEMPLATE "{template.name}" {strategy}',
            )
        )
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        """Drop a database this object created."""
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        """Drop every database still left, newest first."""
        for name in reversed(list(self.created)):
            self.drop(name)


@contextmanager
def benchmark_databases(url: str | None = None) -> Iterator[Databases]:
    """A :class:`Databases` whose databases are all dropped on exit, whatever happened."""
    databases = Databases(url or server_url())
    try:
        yield databases
    finally:
        databases.drop_all()


async def _seed(url: str, rows: int) -> int:
    """Insert ``rows`` numbers; return the benchmark supervisor's id."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET maintenance_work_mem = '512MB'")
        # Unique constraints and secondary indexes are dropped and rebuilt around the bulk
        # insert: building an index once is far cheaper than maintaining it row by row (33 s
        # instead of 8 s for a million rows with the unique digits index alone).
        uniques = await connection.fetch(
            """
            SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint
            WHERE conrelid = 'numbers'::regclass AND contype = 'u'
            """
        )
        indexes = await connection.fetch(
            """
            SELECT indexname, indexdef FROM pg_indexes
            WHERE schemaname = current_schema() AND tablename = 'numbers'
              AND indexname NOT IN (
                SELECT conname FROM pg_constraint WHERE conrelid = 'numbers'::regclass)
            """
        )
        async with connection.transaction():
            for index in indexes:
                await connection.execute(f'DROP INDEX "{index["indexname"]}"')
            for unique in uniques:
                await connection.execute(
                    f'ALTER TABLE numbers DROP CONSTRAINT "{unique["conname"]}"'
                )
            await connection.execute(seed_sql(), rows)
            for unique in uniques:
                await connection.execute(
                    f'ALTER TABLE numbers ADD CONSTRAINT "{unique["conname"]}" '
                    f"{unique['definition']}"
                )
            for index in indexes:
                await connection.execute(index["indexdef"])
        await connection.execute("VACUUM (ANALYZE) numbers")
        inserted = await connection.fetchval("SELECT count(*) FROM numbers")
        if inserted != rows:
            raise RuntimeError(f"seeded {inserted} numbers instead of {rows}")
        admin_id: int = await connection.fetchval(
            "SELECT id FROM users WHERE username = $1", ADMIN_USERNAME
        )
        return admin_id
    finally:
        await connection.close()
