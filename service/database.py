"""The database lifecycle: one pooled AsyncEngine per worker process and one session per request.

The engine is created when the ASGI server starts the worker (lifespan startup) on the worker's
own event loop, and disposed at shutdown: asyncpg connections belong to the loop that opened them.

It also decides which errors mean that the database is not there (an outage: answer 503 and
let the client retry), which mean that it refuses writes (an operator must act), and which
leave a connection unusable (it is discarded, never handed back to the pool).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.settings import Settings

T = TypeVar("T")

_EXTENSION = "database"


@dataclass(frozen=True, slots=True)
class Database:
    """An engine, the session factory bound to it, and its autocommit view for reads."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    #: The same engine and pool; its connections are in autocommit (no BEGIN) while checked out.
    reads: AsyncEngine
    #: One connection of its own for the readiness probe: requests that hold every pooled
    #: connection must not make the probe wait for one and call a healthy database gone.
    probes: AsyncEngine

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        await self.probes.dispose()


def create_engine(
    settings: Settings, *, statement_timeout: float | None = None, pool_size: int | None = None
) -> AsyncEngine:
    """A pooled engine with bounded waits, so a missing database fails fast instead of hanging.

    ``statement_timeout`` (seconds) replaces the requests' limit of twice DB_TIMEOUT_SECONDS,
    for the operators' commands whose statements may legitimately run longer; ``pool_size``
    replaces DB_POOL_SIZE.
    """
    timeout = settings.db_timeout_seconds
    pool_size = pool_size or settings.db_pool_size
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=timeout,
            connect_args={"timeout": timeout},
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    engine = create_async_engine(
        settings.database_url,
        pool_size=pool_size,
        max_overflow=0,  # a pool that overflows opens and closes connections on every burst
        pool_timeout=timeout,
        # No pre-ping: it cost three round trips per checkout (BEGIN; ; ROLLBACK). A connection
        # asyncpg knows is closed is replaced at checkout for free (_replace_closed); one that
        # fails in use is discarded with the rest of the pool (_discard_broken_connection).
        pool_recycle=1800,  # bounds a connection's age
        connect_args={
            "timeout": timeout,  # connect
            "command_timeout": statement_timeout or timeout * 2,  # client-side statement timeout
            "server_settings": {"application_name": "telecom-numbers"},
            **_statement_cache_args(settings.db_statement_cache_size),
        },
    )
    event.listen(engine.sync_engine, "handle_error", _discard_broken_connection)
    event.listen(engine.sync_engine, "checkout", _replace_closed)
    return engine


def _replace_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    # asyncpg notices when the server closes a connection (a restart, an idle timeout, a
    # terminated backend) without being asked: checking costs no round trip. The pool retries
    # the checkout with a new connection; if the database is still gone, that one fails to
    # connect and the request is a 503.
    if dbapi_connection.driver_connection.is_closed():
        raise sa_exc.DisconnectionError("the server closed this pooled connection")


def _statement_cache_args(size: int) -> dict[str, Any]:
    if size:
        return {"statement_cache_size": size}
    # Behind PgBouncer's transaction pooling a named prepared statement may meet another
    # server connection: no cache in asyncpg nor in SQLAlchemy's dialect, and unique names.
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
    }


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # busy_timeout makes writers queue instead of failing at once when several workers share
    # the file. (WAL, which lets readers work while one process writes, is a property of the
    # file: the migrations set it once, rather than every new connection racing to.)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_database(settings: Settings, *, statement_timeout: float | None = None) -> Database:
    """Create the engine and its session factory (``expire_on_commit=False``: no lazy reloads)."""
    engine = create_engine(settings, statement_timeout=statement_timeout)
    return Database(
        engine,
        async_sessionmaker(engine, expire_on_commit=False),
        engine.execution_options(isolation_level="AUTOCOMMIT"),
        create_engine(settings, pool_size=1),
    )


def attach(app: Flask, database: Database) -> None:
    """Make ``database`` the one this app's requests use."""
    app.extensions[_EXTENSION] = database


def detach(app: Flask) -> Database | None:
    """Forget the app's database and return it, for disposal."""
    database: Database | None = app.extensions.pop(_EXTENSION, None)
    return database


def current_database() -> Database:
    """The database of the running app; started by the ASGI lifespan."""
    try:
        database: Database = current_app.extensions[_EXTENSION]
    except KeyError:
        raise RuntimeError(
            "the database is not open: serve the app through service.asgi:app, whose lifespan "
            "startup opens it"
        ) from None
    return database


@asynccontextmanager
async def session_scope() -> AsyncIterator[AsyncSession]:
    """One session and one transaction: commit on success, roll back on any error."""
    async with current_database().sessions.begin() as session:
        yield session


async def read(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run the read ``work`` on a pooled connection in autocommit, and return what it returns.

    No transaction is opened: one statement is one round trip (no BEGIN, no COMMIT, and no
    ROLLBACK when the connection goes back to the pool). A read is safe to repeat, so when the
    connection it got turns out broken (the database restarted since it was pooled), the broken
    pool is discarded and ``work`` runs once more on a fresh connection; if the database is
    really gone, that one fails to connect and the request is a 503.
    """
    try:
        return await _read_once(work)
    except sa_exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
    return await _read_once(work)


async def _read_once(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async with current_database().reads.connect() as connection:
        return await work(connection)


async def probe() -> None:
    """Make sure the database answers and accepts writes; raises the database's error if not.

    The write changes nothing and is rolled back, but a read-only database (a SQLite file the
    process may not write, a PostgreSQL standby) refuses it as it would refuse a real one. It
    runs on the probe's own connection, never waiting for one that requests hold.
    """
    async with current_database().probes.connect() as connection:
        await connection.execute(_NO_OP_WRITE)
        await connection.rollback()


#: Every migrated database has Alembic's table, whatever else the schema becomes.
_NO_OP_WRITE = text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")


# What the database's errors mean. SQLAlchemy wraps the driver's exception in a DBAPIError
# (``.orig``); the asyncpg dialect wraps asyncpg's in an adapted one, whose ``.orig`` is
# asyncpg's own; errors that are not the driver's (a refused or reset socket, a timeout) come
# through unwrapped.

#: SQLSTATE classes of "the server is not there": 08 connection exception; 57P operator
#: intervention, i.e. shutting down (57P01), crashed (57P02), starting up (57P03).
_PG_OUTAGE_CLASSES = ("08", "57P")
_PG_TOO_MANY_CONNECTIONS = "53300"
_PG_REFUSES_WRITES = frozenset({"25006", "53100"})  # read-only transaction (a standby); disk full
#: asyncpg errors raised by its own validation: bugs in the caller, not a broken connection.
_ASYNCPG_CALLER_ERRORS = (
    asyncpg.exceptions.DataError,
    asyncpg.exceptions.ClientConfigurationError,
    asyncpg.exceptions.UnsupportedClientFeatureError,
    asyncpg.exceptions.UnsupportedServerFeatureError,
    asyncpg.exceptions.OutdatedSchemaCacheError,  # after a migration; SQLAlchemy retries it
)
_SQLITE_OUTAGE = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
)
_SQLITE_REFUSES_WRITES = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_FULL})


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot be reached or used right now (503, retry)."""
    return any(
        _breaks_connection(cause)
        or isinstance(cause, sa_exc.TimeoutError)  # no pooled connection came free in time
        or _sqlstate(cause) == _PG_TOO_MANY_CONNECTIONS
        or _sqlite_code(cause) in _SQLITE_OUTAGE
        for cause in _causes(error)
    )


def refuses_writes(error: BaseException) -> bool:
    """Whether ``error`` means the database is read-only or full: an operator must act."""
    return any(
        _sqlstate(cause) in _PG_REFUSES_WRITES or _sqlite_code(cause) in _SQLITE_REFUSES_WRITES
        for cause in _causes(error)
    )


def driver_error(error: BaseException) -> BaseException:
    """The driver's own exception behind SQLAlchemy's wrappers (``error`` itself if none)."""
    *_, innermost = _causes(error)
    return innermost


def _breaks_connection(cause: BaseException) -> bool:
    """Whether the connection that raised ``cause`` is gone or in a state it cannot leave."""
    if isinstance(cause, OSError):  # refused, reset, timed out, or a host that does not resolve
        return True
    if isinstance(cause, _ASYNCPG_CALLER_ERRORS):
        return False
    # asyncpg's InterfaceError ("connection is closed", "another operation is in progress")
    # and InternalClientError ("cannot switch to state 12") carry no SQLSTATE.
    if isinstance(cause, asyncpg.InterfaceError | asyncpg.InternalClientError):
        return True
    return (_sqlstate(cause) or "").startswith(_PG_OUTAGE_CLASSES)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and the driver's exceptions it wraps, outermost first."""
    cause: object = error
    for _ in range(3):  # DBAPIError -> the dialect's adapted error -> asyncpg's
        if not isinstance(cause, BaseException):
            return
        yield cause
        cause = getattr(cause, "orig", None)


def _sqlstate(cause: BaseException) -> str | None:
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return state if isinstance(state, str) else None


def _sqlite_code(cause: BaseException) -> int | None:
    code = getattr(cause, "sqlite_errorcode", None) if isinstance(cause, sqlite3.Error) else None
    return code & 0xFF if isinstance(code, int) else None  # the primary code, not the extended


def _discard_broken_connection(context: ExceptionContext) -> None:
    """SQLAlchemy's handle_error hook: a broken connection is invalidated, never pooled again.

    SQLAlchemy's asyncpg dialect only recognises a connection that asyncpg already reports
    closed; one that the server is shutting down, or that asyncpg left mid-protocol, would go
    back to the pool and fail the next request too. Marking it a disconnect also invalidates
    the rest of the pool, whose connections went to the same server.
    """
    if any(_breaks_connection(cause) for cause in _causes(context.original_exception)):
        context.is_disconnect = True
