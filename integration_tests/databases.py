"""Databases of a test's own, for tests whose rows must be all there is in the table."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url


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
