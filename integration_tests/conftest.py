"""Fixtures: the API under test and HTTP clients for it, in process or over a real socket.

Two tiers (see ``docs/design.md``):

- ``api`` and ``anonymous`` talk to the real ASGI app *in process* (``in_process.py``): the
  adapter, the greenlet bridge, the lifespan and the database are all real, only the socket is
  not. With ``API_URL`` set they talk to that running API over HTTP instead, so the same tests
  check a deployed stack (``docker-compose run integration-tests``).
- ``served_url`` and ``start_server`` are real ``python -m service`` processes, for what needs one:
  several workers, signals, outages, the curl scripts, Schemathesis, a browser.

Both run on one database: ``TEST_DATABASE_URL`` (a fresh PostgreSQL database) or a temporary
SQLite file. Tests make their own data and never depend on what else is in the table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration_tests.in_process import InProcessApp, in_process_app
from integration_tests.private_postgres import PrivatePostgres
from integration_tests.server import ADMIN, RunningServer, log_in, run_server

ServerFactory = Callable[..., AbstractContextManager[RunningServer]]
AppFactory = Callable[..., AbstractContextManager[InProcessApp]]
Connect = Callable[..., httpx.Client]


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    """A running PostgreSQL cluster of the tests' own; a test that stops it starts it again."""
    cluster = PrivatePostgres()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def server_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of the apps the tests start: TEST_DATABASE_URL or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    path: Path = tmp_path_factory.mktemp("database") / "test.sqlite3"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def start_server(server_database_url: str) -> ServerFactory:
    """``start_server(env={...})``: a context manager serving the API in a process of its own."""
    return partial(run_server, server_database_url)


@pytest.fixture(scope="session")
def tight_server(start_server: ServerFactory) -> Iterator[RunningServer]:
    """A server with tight limits: one pooled connection (one request inside the app at a time),
    a queue of two per lane, and 2 s for a whole request body."""
    env = {"DB_POOL_SIZE": "1", "ADMISSION_QUEUE": "2", "BODY_TIMEOUT_SECONDS": "2"}
    with start_server(env=env) as server:
        yield server


@pytest.fixture(scope="session")
def in_process(server_database_url: str) -> AppFactory:
    """``in_process(env={...})``: a context manager running the ASGI app with those settings."""
    return partial(in_process_app, server_database_url)


@pytest.fixture(scope="session")
def served_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A real server's URL: ``API_URL`` when set, else a server started for the session."""
    url = os.environ.get("API_URL")
    if url:
        yield url.rstrip("/")
        return
    start: ServerFactory = request.getfixturevalue("start_server")
    with start() as server:
        yield server.url


@pytest.fixture(scope="session")
def connect(request: pytest.FixtureRequest) -> Iterator[Connect]:
    """Opens httpx clients to the API under test: ``API_URL`` over HTTP, else in process."""
    url = os.environ.get("API_URL")
    if url:
        yield partial(httpx.Client, base_url=url.rstrip("/"), timeout=10)
        return
    factory: AppFactory = request.getfixturevalue("in_process")
    with factory() as app:
        yield app.client


@pytest.fixture(scope="session")
def credentials() -> tuple[str, str]:
    """A supervisor's username and password: API_USERNAME/API_PASSWORD with API_URL."""
    if not os.environ.get("API_URL"):
        return ADMIN  # bootstrapped on every database the tests start an app on
    try:
        return os.environ["API_USERNAME"], os.environ["API_PASSWORD"]
    except KeyError:
        raise pytest.UsageError("with API_URL, set API_USERNAME and API_PASSWORD too") from None


@pytest.fixture(scope="session")
def token(connect: Connect, credentials: tuple[str, str]) -> str:
    """A supervisor's access token, obtained once for the session."""
    with connect() as client:
        return log_in(client, *credentials)


@pytest.fixture
def api(connect: Connect, token: str) -> Iterator[httpx.Client]:
    """A client for the API under test, signed in as a supervisor."""
    with connect(headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture
def anonymous(connect: Connect) -> Iterator[httpx.Client]:
    """A client for the API under test, without credentials."""
    with connect() as client:
        yield client


def signed_in(
    app: InProcessApp, credentials: tuple[str, str] = ADMIN, **kwargs: Any
) -> httpx.Client:
    """A client of an in-process ``app`` whose requests carry a supervisor's Bearer token."""
    with app.client() as client:
        token = log_in(client, *credentials)
    headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
    return app.client(headers=headers, **kwargs)
