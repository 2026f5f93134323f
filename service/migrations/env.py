"""Alembic environment: runs migrations over the async engine of the configured database.

Several processes may migrate one database at once (API replicas starting together): on
PostgreSQL an advisory lock makes them take turns, on SQLite a lock file beside the database
does, so the first applies the migrations and the others then find the schema at its head.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection, make_url, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

from service.models import Base

config = context.config
target_metadata = Base.metadata
#: Any constant: serialises concurrent `db upgrade` runs (several API replicas starting at once).
_MIGRATION_LOCK_ID = 720_519_001


def _database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: use `flask --app service db upgrade`")
    return str(url)


def run_migrations_offline() -> None:
    """Emit the SQL without connecting (``alembic upgrade --sql``)."""
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        connection.commit()
    if connection.dialect.name == "sqlite":
        # WAL lets readers work while one process writes. It belongs to the file and lasts, so
        # it is set here, under the migration lock, not by every connection as it opens: a
        # journal-mode change racing other processes' new connections fails "database is locked".
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    """Apply the migrations through a short-lived engine of its own."""
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


@contextmanager
def _sqlite_lock(url: str) -> Iterator[None]:
    """Hold an exclusive lock beside an SQLite database file (nothing for other databases).

    A file of its own, not the database: closing any descriptor of the database file would
    drop the POSIX locks SQLite holds on it in this process.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        yield
        return
    with open(f"{parsed.database}.migration-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


if context.is_offline_mode():
    run_migrations_offline()
else:
    with _sqlite_lock(_database_url()):
        asyncio.run(run_migrations_online())
