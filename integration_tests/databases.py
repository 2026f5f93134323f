"""Databases of a test's own, for tests whose rows must be all there is in the table."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


@contextmanager
def fresh_database(label: str, directory: Path) -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards.

    On TEST_DATABASE_URL's PostgreSQL server when it is set, else a SQLite file in ``directory``.
    """
    shared = os.environ.get("TEST_DATABASE_URL")
    if not shared:
        yield f"sqlite+aiosqlite:///{directory / f'{label}.sqlite3'}"
        return
    server = make_url(shared)
    name = f"{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def scalar(url: str, sql: str, **params: Any) -> Any:
    """The first column of the first row of ``sql`` on ``url``, read on an engine of its own."""

    async def query() -> Any:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.connect() as connection:
                return (await connection.execute(text(sql), params)).scalar()
        finally:
            await engine.dispose()

    return asyncio.run(query())


def connections_to(url: str) -> int:
    """How many sessions PostgreSQL has open on the database of ``url`` (none of them ours)."""
    parsed = make_url(url)
    maintenance = parsed.set(database="postgres").render_as_string(hide_password=False)
    count: int = scalar(
        maintenance,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :name",
        name=parsed.database,
    )
    return count
