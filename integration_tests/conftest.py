"""Fixtures: the API under test (``API_URL`` or a server started here) and an HTTP client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

import httpx
import pytest

from integration_tests.server import ADMIN, RunningServer, login, run_server

ServerFactory = Callable[..., AbstractContextManager[RunningServer]]


@pytest.fixture(scope="session")
def server_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of servers started by the tests: TEST_DATABASE_URL or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    path: Path = tmp_path_factory.mktemp("database") / "test.sqlite3"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def start_server(server_database_url: str) -> ServerFactory:
    """``start_server(env={...})``: a context manager serving the API with those settings."""
    return partial(run_server, server_database_url)


@pytest.fixture(scope="session")
def one_slot_server(start_server: ServerFactory) -> Iterator[RunningServer]:
    """A server with one pooled connection (one request inside the app) and a queue of two."""
    with start_server(env={"DB_POOL_SIZE": "1", "ADMISSION_QUEUE": "2"}) as server:
        yield server


@pytest.fixture(scope="session")
def api_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The API under test: ``API_URL`` when set, else a server started for the session."""
    url = os.environ.get("API_URL")
    if url:
        yield url.rstrip("/")
        return
    start: ServerFactory = request.getfixturevalue("start_server")
    with start() as server:
        yield server.url


@pytest.fixture(scope="session")
def credentials() -> tuple[str, str]:
    """A supervisor's username and password: API_USERNAME/API_PASSWORD with API_URL."""
    if not os.environ.get("API_URL"):
        return ADMIN  # bootstrapped by every server the tests start
    try:
        return os.environ["API_USERNAME"], os.environ["API_PASSWORD"]
    except KeyError:
        raise pytest.UsageError("with API_URL, set API_USERNAME and API_PASSWORD too") from None


@pytest.fixture(scope="session")
def token(api_url: str, credentials: tuple[str, str]) -> str:
    """A supervisor's access token, obtained once for the session."""
    return login(api_url, *credentials)


@pytest.fixture
def api(api_url: str, token: str) -> Iterator[httpx.Client]:
    """An HTTP client for the API under test, signed in as a supervisor."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def anonymous(api_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for the API under test, without credentials."""
    with httpx.Client(base_url=api_url, timeout=10) as client:
        yield client
