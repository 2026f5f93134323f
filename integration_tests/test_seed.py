"""``flask seed``: its own generous statement timeout, and a failed seed burns no ids.

Each test seeds a database of its own through the real command (Flask's CLI runner, in
process), on SQLite and on PostgreSQL (the tests' private cluster), with triggers that make a
statement slow or fail.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result

from integration_tests.private_postgres import PrivatePostgres
from service import create_app
from service.cli import upgrade_database
from service.settings import Settings


@dataclass(frozen=True)
class SeedTarget:
    """A migrated, empty database: the URL the command gets, and SQL run on it directly."""

    dialect: str
    url: str
    execute: Callable[[str], object]  # run a script of statements
    scalar: Callable[[str], int]  # the one value a query returns

    def seed(self, count: int, **env: str) -> Result:
        """Run ``flask --app service seed --count COUNT`` on this database."""
        app = create_app(Settings.from_env({"DATABASE_URL": self.url, **env}))
        with app.app_context():  # as the flask command would: seed reads the app's settings
            return app.test_cli_runner().invoke(args=["seed", "--count", str(count)])


def _sqlite_target(tmp_path: Path) -> SeedTarget:
    path = tmp_path / "seed.sqlite3"

    def execute(script: str) -> None:
        with sqlite3.connect(path) as connection:
            connection.executescript(script)

    def scalar(query: str) -> int:
        with sqlite3.connect(path) as connection:
            return int(connection.execute(query).fetchone()[0])

    return SeedTarget("sqlite", f"sqlite+aiosqlite:///{path}", execute, scalar)


def _postgresql_target(cluster: PrivatePostgres) -> SeedTarget:
    name = f"seed_{uuid.uuid4().hex[:12]}"
    url = cluster.create_database(name)
    return SeedTarget(
        "postgresql",
        url,
        lambda script: cluster.psql(script, database=name),
        lambda query: int(cluster.psql(query, database=name).strip()),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.private_postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SeedTarget]:
    if request.param == "sqlite":
        made = _sqlite_target(tmp_path)
    else:
        made = _postgresql_target(request.getfixturevalue("private_postgres"))
    upgrade_database(Settings(database_url=made.url))
    yield made


#: Makes an INSERT into numbers fail once 100 more rows are in (they have drawn their ids).
FAIL_PARTWAY = {
    "postgresql": """
        CREATE FUNCTION fail_partway() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (SELECT count(*) FROM numbers) > 150 THEN RAISE EXCEPTION 'injected failure'; END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER fail_partway AFTER INSERT ON numbers
        FOR EACH STATEMENT EXECUTE FUNCTION fail_partway();
    """,
    "sqlite": """
        CREATE TRIGGER fail_partway AFTER INSERT ON numbers
        WHEN (SELECT count(*) FROM numbers) > 150
        BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
    """,
}
STOP_FAILING = {
    "postgresql": "DROP TRIGGER fail_partway ON numbers",
    "sqlite": "DROP TRIGGER fail_partway",
}


def test_seed_adds_the_numbers_once(target: SeedTarget) -> None:
    first = target.seed(120)
    again = target.seed(120)
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "added 120 numbers"
    assert again.output.strip() == "added 0 numbers"
    assert target.scalar("SELECT count(*) FROM numbers") == 120


def test_a_failed_seed_adds_nothing_and_burns_no_ids(target: SeedTarget) -> None:
    assert target.seed(50).exit_code == 0
    target.execute(FAIL_PARTWAY[target.dialect])

    failed = target.seed(300)

    assert failed.exit_code != 0
    assert "injected failure" in str(failed.exception)
    assert target.scalar("SELECT count(*) FROM numbers") == 50
    target.execute(STOP_FAILING[target.dialect])
    assert target.seed(301).exit_code == 0
    # Ids 51 to 301, as if the failed seed had never run.
    assert target.scalar("SELECT max(id) FROM numbers") == 301
    assert target.scalar("SELECT count(*) FROM numbers") == 301


def test_a_number_inserted_after_a_seed_takes_the_next_id(target: SeedTarget) -> None:
    assert target.seed(40).exit_code == 0
    target.execute(
        "INSERT INTO numbers (value, digits, monthly_price, setup_price, currency, version) "
        "VALUES ('+1 999 555-0100', '19995550100', 3, 40, 'U$', 1)"
    )
    assert target.scalar("SELECT max(id) FROM numbers") == 41


@pytest.mark.private_postgres
def test_seed_statements_may_outlast_the_requests_statement_timeout(
    private_postgres: PrivatePostgres,
) -> None:
    target = _postgresql_target(private_postgres)
    upgrade_database(Settings(database_url=target.url))
    target.execute(
        """
        CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF current_setting('seed_test.slept', true) IS NULL THEN  -- once a transaction
            PERFORM set_config('seed_test.slept', 'yes', true);
            PERFORM pg_sleep(1.5);
          END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER slow_insert AFTER INSERT ON numbers
        FOR EACH STATEMENT EXECUTE FUNCTION slow_insert();
        """
    )
    # Requests give up on a statement after 2 x 0.25 s; the seed's insert takes 1.5 s.
    seeded = target.seed(30, DB_TIMEOUT_SECONDS="0.25")
    assert seeded.exit_code == 0, seeded.output
    assert target.scalar("SELECT count(*) FROM numbers") == 30
