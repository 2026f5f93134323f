"""Empty databases for tests that watch servers start from nothing, and one-query reads of them.

On PostgreSQL (``TEST_DATABASE_URL``) a new database is created on the same server and dropped
afterwards; on SQLite it is a new file. Queries run on an engine of their own, on a loop of
their own, so a synchronous test can read what the servers wrote.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, pool, text
from sqlalchemy.ext.asyncio import create_async_engine


@contextmanager
def empty_database(like_url: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database of the same kind and server as ``like_url``."""
    url = make_url(like_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'empty.sqlite3'}"
        return
    name = f"itests_empty_{secrets.token_hex(6)}"
    maintenance = url.set(database="postgres").render_as_string(hide_password=False)
    _run_autocommit(maintenance, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _run_autocommit(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scalar(url: str, sql: str, **params: Any) -> Any:
    """The first column of the first row of ``sql`` on ``url``."""

    async def query() -> Any:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text(sql), params)).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(query())


def connections_to(url: str) -> int:
    """How many sessions PostgreSQL has open on the database of ``url`` (not counting ours)."""
    parsed = make_url(url)
    maintenance = parsed.set(database="postgres").render_as_string(hide_password=False)
    count: int = scalar(
        maintenance,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :name",
        name=parsed.database,
    )
    return count


def _run_autocommit(url: str, sql: str) -> None:
    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    asyncio.run(run())
