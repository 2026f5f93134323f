"""Which database errors are outages (503, retry), refusals to write (503, an operator's
problem) or bugs (500): decided by ``service.database`` on the real exceptions the drivers raise,
wrapped as SQLAlchemy wraps them."""

from __future__ import annotations

import logging
import socket
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from asyncpg import exceptions as pg
from flask import Flask
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_dbapi,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from service.asgi_adapter import AsgiAdapter
from service.auth import public
from service.database import attach, is_outage, open_database, read, refuses_writes
from service.problems import database_accepts_writes
from service.settings import Settings
from unit_tests.asgi_client import Reply, call

_ASYNCPG_DBAPI = AsyncAdapt_asyncpg_dbapi(asyncpg)  # type: ignore[no-untyped-call]
Raise = Callable[[BaseException], Reply]
Run = Callable[[Coroutine[Any, Any, Any]], Any]


def from_asyncpg(error: Exception) -> sa_exc.DBAPIError:
    """``error`` as a request meets it: adapted by SQLAlchemy's asyncpg dialect, then wrapped."""
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(_ASYNCPG_DBAPI, error)
    except _ASYNCPG_DBAPI.Error as adapted:
        return _wrapped(adapted, _ASYNCPG_DBAPI.Error)
    raise AssertionError(f"the dialect did not adapt {error!r}")


def from_sqlite(error: sqlite3.Error) -> sa_exc.DBAPIError:
    """A real sqlite3 error wrapped as SQLAlchemy wraps it."""
    return _wrapped(error, sqlite3.Error)


def _wrapped(error: Exception, dbapi_base: type[Exception]) -> sa_exc.DBAPIError:
    wrapped = sa_exc.DBAPIError.instance("SELECT 1", {}, error, dbapi_base)
    assert isinstance(wrapped, sa_exc.DBAPIError)
    return wrapped


def sqlite_error(path: Path, cause: Callable[[Path], object]) -> sqlite3.Error:
    """The error that SQLite really raises for ``cause`` on a database at ``path``."""
    with sqlite3.connect(path) as setup:
        setup.execute("CREATE TABLE IF NOT EXISTS t (x)")
    try:
        cause(path)
    except sqlite3.Error as error:
        return error
    raise AssertionError("SQLite raised nothing")


def _write_read_only(path: Path) -> None:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        connection.execute("INSERT INTO t VALUES (1)")


def _write_while_locked(path: Path) -> None:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with sqlite3.connect(path, timeout=0) as other:
            other.execute("INSERT INTO t VALUES (1)")
    finally:
        holder.close()


def _open_missing_directory(path: Path) -> None:
    sqlite3.connect(path.parent / "missing" / "db.sqlite3").execute("SELECT 1")


def _query_missing_table(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("SELECT * FROM no_such_table")


OUTAGES = {
    "starting up (57P03)": from_asyncpg(
        pg.CannotConnectNowError("the database system is starting up")
    ),
    "shutting down (57P03)": from_asyncpg(
        pg.CannotConnectNowError("the database system is shutting down")
    ),
    "administrator shutdown (57P01)": from_asyncpg(
        pg.AdminShutdownError("terminating connection due to administrator command")
    ),
    "crash shutdown (57P02)": from_asyncpg(
        pg.CrashShutdownError("terminating connection because of crash of another server process")
    ),
    "connection closed mid-operation (08003)": from_asyncpg(
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    ),
    "connection failure (08006)": from_asyncpg(pg.ConnectionFailureError("connection failure")),
    "too many clients (53300)": from_asyncpg(
        pg.TooManyConnectionsError("sorry, too many clients already")
    ),
    "interface: connection is closed": from_asyncpg(pg.InterfaceError("connection is closed")),
    "interface: another operation": from_asyncpg(
        pg.InterfaceError("cannot perform operation: another operation is in progress")
    ),
    "internal client: cannot switch state": from_asyncpg(
        pg.InternalClientError("cannot switch to state 12; another operation is in progress")
    ),
    "connection refused": ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
    "connection reset": ConnectionResetError(104, "Connection reset by peer"),
    "several addresses refused": OSError("Multiple exceptions: [Errno 111] Connect call failed"),
    "connect or statement timeout": TimeoutError(),
    "host does not resolve": socket.gaierror(-2, "Name or service not known"),
    "pool checkout timeout": sa_exc.TimeoutError("QueuePool limit of size 10 overflow 0 reached"),
}

NOT_OUTAGES = {
    "unique violation (23505)": from_asyncpg(pg.UniqueViolationError("duplicate key value")),
    "undefined table (42P01)": from_asyncpg(pg.UndefinedTableError('relation "x" does not exist')),
    "statement cancelled (57014)": from_asyncpg(
        pg.QueryCanceledError("canceling statement due to user request")
    ),
    "bad parameter (asyncpg DataError)": from_asyncpg(
        pg.DataError("invalid input for query argument $1: 'x' (an integer is required)")
    ),
    "a bug": RuntimeError("not a database error"),
}

REFUSALS = {
    "read-only transaction (25006)": from_asyncpg(
        pg.ReadOnlySQLTransactionError("cannot execute UPDATE in a read-only transaction")
    ),
    "disk full (53100)": from_asyncpg(pg.DiskFullError("could not extend file: No space left")),
}


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "test.sqlite3"


@pytest.mark.parametrize("error", OUTAGES.values(), ids=OUTAGES.keys())
def test_each_form_of_an_absent_postgresql_is_an_outage(error: Exception) -> None:
    assert is_outage(error)
    assert not refuses_writes(error)


@pytest.mark.parametrize("error", NOT_OUTAGES.values(), ids=NOT_OUTAGES.keys())
def test_other_errors_are_not_outages(error: Exception) -> None:
    assert not is_outage(error)
    assert not refuses_writes(error)


@pytest.mark.parametrize("error", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_postgresql_that_refuses_writes_is_not_an_outage(error: Exception) -> None:
    assert refuses_writes(error)
    assert not is_outage(error)


def test_sqlite_database_locked_is_an_outage(sqlite_path: Path) -> None:
    error = sqlite_error(sqlite_path, _write_while_locked)
    assert error.sqlite_errorcode == sqlite3.SQLITE_BUSY
    assert is_outage(from_sqlite(error))


def test_sqlite_file_that_cannot_be_opened_is_an_outage(sqlite_path: Path) -> None:
    error = sqlite_error(sqlite_path, _open_missing_directory)
    assert is_outage(from_sqlite(error))


def test_read_only_sqlite_refuses_writes_and_is_not_an_outage(sqlite_path: Path) -> None:
    error = from_sqlite(sqlite_error(sqlite_path, _write_read_only))
    assert refuses_writes(error)
    assert not is_outage(error)


def test_sqlite_missing_table_is_a_bug(sqlite_path: Path) -> None:
    error = from_sqlite(sqlite_error(sqlite_path, _query_missing_table))
    assert not is_outage(error)
    assert not refuses_writes(error)


# --- how the app answers them -------------------------------------------------------------


@pytest.fixture
def raising(app: Flask, asgi: AsgiAdapter, run: Run) -> Raise:
    """Make ``GET /raise`` raise the given error; return the app's reply, through the bridge."""
    errors: list[BaseException] = []

    @app.get("/raise")
    @public
    def raise_it() -> str:
        raise errors[-1]

    def get(error: BaseException) -> Reply:
        errors.append(error)
        reply: Reply = run(call(asgi, "GET", "/raise"))[0]
        return reply

    return get


@pytest.mark.parametrize("error", OUTAGES.values(), ids=OUTAGES.keys())
def test_an_outage_is_503_with_retry_after(raising: Raise, error: Exception) -> None:
    response = raising(error)
    assert response.status == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/database-unavailable")
    assert int(response.headers["retry-after"]) > 0


@pytest.mark.parametrize("error", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_to_write_is_503_without_retry_after(raising: Raise, error: Exception) -> None:
    response = raising(error)
    assert response.status == 503
    assert response.json()["type"].endswith("/database-refuses-writes")
    assert "refuses writes" in response.json()["detail"]
    assert "retry-after" not in response.headers


def test_a_refusal_to_write_is_logged_at_error_once(
    raising: Raise, caplog: pytest.LogCaptureFixture
) -> None:
    database_accepts_writes()  # whatever an earlier test left
    with caplog.at_level(logging.DEBUG, logger="service.problems"):
        for _ in range(3):
            raising(REFUSALS["read-only transaction (25006)"])
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "refuses writes" in errors[0].getMessage()


@pytest.mark.parametrize("error", NOT_OUTAGES.values(), ids=NOT_OUTAGES.keys())
def test_any_other_database_error_is_a_logged_500(
    raising: Raise, error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = raising(error)
    assert response.status == 500
    assert response.headers["content-type"] == "application/problem+json"
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and logged[-1].exc_info is not None
    assert logged[-1].exc_info[1] is error


def test_an_outage_is_logged_as_a_warning_naming_the_driver_error_without_the_statement(
    raising: Raise, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="service.problems"):
        raising(OUTAGES["starting up (57P03)"])
    (record,) = [r for r in caplog.records if r.name == "service.problems"]
    assert record.levelno == logging.WARNING
    assert "CannotConnectNowError: the database system is starting up" in record.getMessage()
    assert "SELECT" not in record.getMessage()


def _read_twice_if(invalidated: bool, path: Path, run: Run) -> tuple[list[int], Any]:
    """``database.read`` of a work whose first try fails; the tries made and the outcome."""
    app = Flask(__name__)
    tries: list[int] = []

    async def work(connection: AsyncConnection) -> int:
        tries.append(len(tries) + 1)
        if len(tries) == 1:
            cause = ConnectionResetError("the server closed the connection")
            raise sa_exc.DBAPIError("SELECT 1", {}, cause, connection_invalidated=invalidated)
        return int((await connection.execute(text("SELECT 42"))).scalar_one())

    async def scenario() -> Any:
        opened = open_database(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
        attach(app, opened)
        try:
            with app.app_context():
                return await read(work)
        except sa_exc.DBAPIError as error:
            return error
        finally:
            await opened.dispose()

    return tries, run(scenario())


def test_a_read_whose_connection_turns_out_broken_runs_once_more_on_a_fresh_one(
    sqlite_path: Path, run: Run
) -> None:
    assert _read_twice_if(True, sqlite_path, run) == ([1, 2], 42)


def test_a_read_that_failed_otherwise_is_not_repeated(sqlite_path: Path, run: Run) -> None:
    tries, outcome = _read_twice_if(False, sqlite_path, run)

    assert tries == [1]
    assert isinstance(outcome, sa_exc.DBAPIError)
