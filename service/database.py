"""The database lifecycle: one pooled AsyncEngine per worker process and one session per request.

The engine is created when the ASGI server starts the worker (lifespan startup) on the worker's
own event loop, and disposed at shutdown: asyncpg connections belong to the loop that opened them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from service.settings import Settings

_EXTENSION = "database"


@dataclass(frozen=True, slots=True)
class Database:
    """An engine and the session factory bound to it."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def create_engine(settings: Settings) -> AsyncEngine:
    """A pooled engine with bounded waits, so a missing database fails fast instead of hanging."""
    timeout = settings.db_timeout_seconds
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=0,
            pool_timeout=timeout,
            connect_args={"timeout": timeout},
        )
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    return create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=0,  # a pool that overflows opens and closes connections on every burst
        pool_timeout=timeout,
        pool_pre_ping=True,  # recover by itself when the database comes back
        pool_recycle=1800,
        connect_args={
            "timeout": timeout,  # connect
            "command_timeout": timeout * 2,  # client-side statement timeout
            "server_settings": {"application_name": "telecom-numbers"},
            **_statement_cache_args(settings.db_statement_cache_size),
        },
    )


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
    # WAL lets readers work while one process writes; busy_timeout makes writers queue
    # instead of failing at once when several workers share the file.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def open_database(settings: Settings) -> Database:
    """Create the engine and its session factory (``expire_on_commit=False``: no lazy reloads)."""
    engine = create_engine(settings)
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False))


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


async def ping() -> None:
    """Run a trivial query; raises if the database cannot answer."""
    async with current_database().engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
