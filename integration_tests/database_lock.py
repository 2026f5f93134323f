"""A database that hangs on writes: another connection holds the tables' write locks.

While the lock is held, the API's writes to those tables wait inside the database (reads go on),
which keeps a request in progress for as long as a test needs, on either database. On SQLite
the lock is the whole file's, whatever the tables; SQLite makes a writer wait at most its busy
timeout (5 s), so hold the lock for less than that.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

LOCKED = "numbers-locked"


@contextmanager
def writes_blocked(database_url: str, tables: tuple[str, ...] = ("numbers",)) -> Iterator[None]:
    """Hold the write lock of ``tables`` of ``database_url`` until exit."""
    if database_url.startswith("sqlite"):
        with _sqlite_write_lock(database_url.split(":///", 1)[1]):
            yield
    else:
        with _postgresql_write_lock(database_url.replace("+asyncpg", "", 1), tables):
            yield


@contextmanager
def _sqlite_write_lock(path: str) -> Iterator[None]:
    connection = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        connection.execute("BEGIN IMMEDIATE")  # the one write lock of the whole file
        yield
        connection.execute("ROLLBACK")
    finally:
        connection.close()


@contextmanager
def _postgresql_write_lock(url: str, tables: tuple[str, ...]) -> Iterator[None]:
    # psql reads its commands from stdin, so the transaction stays open until we end it.
    with subprocess.Popen(  # the with block closes its pipes and waits for it
        ["psql", "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as psql:
        assert psql.stdin is not None and psql.stdout is not None
        try:
            # EXCLUSIVE mode blocks INSERT, UPDATE and DELETE, and lets plain SELECTs through.
            locked = ", ".join(tables)
            psql.stdin.write(f"BEGIN; LOCK TABLE {locked} IN EXCLUSIVE MODE; SELECT '{LOCKED}';\n")
            psql.stdin.flush()
            line = psql.stdout.readline().strip()
            assert line == LOCKED, f"psql did not take the lock: {line!r}"
            yield
            psql.stdin.write("ROLLBACK;\n")
            psql.stdin.flush()
        finally:
            if psql.poll() is None:
                psql.stdin.close()
                try:
                    psql.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    psql.kill()
