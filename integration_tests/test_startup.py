"""Start-up: replicas starting together on an empty database, and the development-key warning.

On PostgreSQL the replicas share a new database on the test server; on SQLite they share one new
file, as the workers of one machine would (a PostgreSQL advisory lock and a lock file beside the
SQLite database serialise the migrations the same way).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory

from integration_tests.conftest import ServerFactory
from integration_tests.databases import fresh_database, scalar
from integration_tests.server import ADMIN, RunningServer, product_command, run_server, token_for
from service.cli import alembic_config, upgrade_database
from service.settings import Settings

REPLICAS = 4
#: What Alembic logs when it applies the first revision, on an empty database.
FIRST_MIGRATION_LOG = "Running upgrade  -> "
#: Four processes starting at once on two shared cores take their turns at the lock.
STARTUP_TIMEOUT_SECONDS = 90.0
DEVELOPMENT_KEY_WARNING = "INSECURE: tokens are signed with the public development key"


@contextmanager
def servers_started_together(
    count: int, database_url: str, env: Mapping[str, str | None] | None = None
) -> Iterator[list[RunningServer]]:
    """``count`` servers on ``database_url``, all launched at the same moment; stopped after."""
    with ExitStack() as servers, ThreadPoolExecutor(count) as launcher:
        starting = [
            launcher.submit(
                servers.enter_context,
                run_server(database_url, env, startup_timeout=STARTUP_TIMEOUT_SECONDS),
            )
            for _ in range(count)
        ]
        yield [future.result() for future in starting]


def head_revision(database_url: str) -> str | None:
    """The newest migration's revision id."""
    config = alembic_config(Settings(database_url=database_url))
    return ScriptDirectory.from_config(config).get_current_head()


def test_replicas_starting_together_on_an_empty_database_migrate_once_and_make_one_supervisor(
    tmp_path: Path,
) -> None:
    with fresh_database("startup", tmp_path) as database_url:
        with servers_started_together(REPLICAS, database_url) as servers:
            for server in servers:  # each is ready, and each signs in the one supervisor
                assert httpx.get(f"{server.url}/health/ready", timeout=10).status_code == 200
                assert token_for(server.url, *ADMIN)
            outputs = [server.output() for server in servers]
        assert sum(output.count(FIRST_MIGRATION_LOG) for output in outputs) == 1, outputs
        # They sign with a key of their own, so none warns about the development key.
        assert not any(DEVELOPMENT_KEY_WARNING in output for output in outputs)
        assert scalar(database_url, "SELECT count(*) FROM alembic_version") == 1
        assert scalar(database_url, "SELECT version_num FROM alembic_version") == head_revision(
            database_url
        )
        assert scalar(database_url, "SELECT count(*) FROM users") == 1


def _hypercorn(port: int) -> list[str]:
    return [sys.executable, "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "service.asgi:app"]


@pytest.mark.parametrize(
    "command", [product_command, _hypercorn], ids=["python-m-service", "hypercorn"]
)
def test_a_server_signing_with_the_development_key_warns_at_start_up(
    start_server: ServerFactory, command: Callable[[int], list[str]]
) -> None:
    with start_server(env={"SECRET_KEY": None}, command=command) as server:
        output = server.output()
    assert DEVELOPMENT_KEY_WARNING in output
    assert "WARNING" in output.split(DEVELOPMENT_KEY_WARNING)[0].splitlines()[-1]


def test_a_migrated_sqlite_file_is_in_wal_mode(
    tmp_path: Path,
) -> None:
    # WAL belongs to the file: the migrations set it once, under their lock, so that replicas
    # opening connections at once never race to change the journal mode.
    path = tmp_path / "wal.sqlite3"
    settings = Settings.from_env({"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
    upgrade_database(settings)

    with closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
