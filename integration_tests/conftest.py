"""Fixtures: the API under test (``API_URL`` or a server started here) and an HTTP client."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
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


@pytest.fixture(scope="session")
def supervisor_credentials(api_url: str, request: pytest.FixtureRequest) -> tuple[str, str]:
    """A supervisor to log in as: ``API_USERNAME``/``API_PASSWORD`` when set (compose), else one
    created for the session with the users CLI, as an operator would."""
    username, password = os.environ.get("API_USERNAME"), os.environ.get("API_PASSWORD")
    if username and password:
        return username, password
    if os.environ.get("API_URL"):
        pytest.fail("API_URL is set: set API_USERNAME and API_PASSWORD of a supervisor too")
    database_url: str = request.getfixturevalue("server_database_url")
    username, password = f"supervisor-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    # api_url first: the server has applied the migrations, so the users table exists.
    created = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "service", "users", "create", username]
        + ["--role", "supervisor"],
        env={**os.environ, "DATABASE_URL": database_url},
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    return username, password


@pytest.fixture(scope="session")
def supervisor_token(api_url: str, supervisor_credentials: tuple[str, str]) -> str:
    """A Bearer token of a supervisor, for the whole session (tokens last hours)."""
    username, password = supervisor_credentials
    response = httpx.post(
        f"{api_url}/auth/token", json={"username": username, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token
