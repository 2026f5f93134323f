"""Fixtures: the API under test (``API_URL`` or a server started here) and an HTTP client."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path

import httpx
import pytest

from integration_tests.server import RunningServer, run_server

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
def api_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The API under test: ``API_URL`` when set, else a server started for the session."""
    url = os.environ.get("API_URL")
    if url:
        yield url.rstrip("/")
        return
    start: ServerFactory = request.getfixturevalue("start_server")
    with start() as server:
        yield server.url


@pytest.fixture
def api(api_url: str) -> Iterator[httpx.Client]:
    """An HTTP client for the API under test."""
    with httpx.Client(base_url=api_url, timeout=10) as client:
        yield client
