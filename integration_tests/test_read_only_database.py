"""A SQLite file the service may not write: reads work, writes and readiness say so, no retry.

Root ignores file permissions, so as root the file is also made immutable (``chattr +i``),
which root's write access does not override: SQLite then opens it read-only, exactly as it
does for an unprivileged service user on a file mode 0444. (``?mode=ro`` in the URL would be
the service asking for read-only, not the database refusing writes.)
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration_tests.api_client import PROBLEM_JSON, create_number, expect_problem, number_body
from integration_tests.server import RunningServer, run_server, signed_in_client

REFUSES_WRITES = "database-refuses-writes"
ReadOnlyApi = tuple[httpx.Client, RunningServer, dict[str, Any]]


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` a file this process cannot write, whoever it runs as."""
    path.chmod(0o444)
    as_root = os.geteuid() == 0
    if as_root:
        subprocess.run(["chattr", "+i", str(path)], check=True)
    try:
        with pytest.raises(PermissionError):
            path.open("r+b")  # the precondition: writing really is refused
        yield
    finally:
        if as_root:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


@pytest.fixture(scope="module")
def database_file(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """A migrated SQLite file holding one number, and a supervisor's token, before it is locked."""
    path = tmp_path_factory.mktemp("read-only") / "numbers.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    with run_server(url) as server, signed_in_client(server.url) as api:
        number = create_number(api)
        token = api.headers["Authorization"]
    with read_only(path):
        yield url, token, number


@pytest.fixture(scope="module")
def read_only_api(database_file: tuple[str, str, dict[str, Any]]) -> Iterator[ReadOnlyApi]:
    """The API serving that file once it is read-only: a client, the server, the number."""
    url, token, number = database_file
    # Readiness is 503 by design here, so wait for liveness.
    with (
        run_server(url, ready_path="/health/live") as server,
        httpx.Client(base_url=server.url, headers={"Authorization": token}, timeout=10) as api,
    ):
        yield api, server, number


def test_reads_still_work_on_a_read_only_database(read_only_api: ReadOnlyApi) -> None:
    api, _, number = read_only_api
    response = api.get(f"/numbers/{number['id']}")
    assert response.status_code == 200
    assert response.json() == number


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_writes_are_503_refuses_writes_without_retry_after(
    read_only_api: ReadOnlyApi, method: str
) -> None:
    api, _, number = read_only_api
    if method == "POST":
        response = api.post("/numbers", json=number_body())
    elif method == "PATCH":
        response = api.patch(f"/numbers/{number['id']}", json={"currency": "EUR"})
    else:
        response = api.delete(f"/numbers/{number['id']}")
    problem = expect_problem(response, 503)
    assert problem["type"].endswith(REFUSES_WRITES)
    assert "refuses writes" in problem["detail"]
    assert "retry-after" not in response.headers


def test_readiness_says_the_database_refuses_writes(read_only_api: ReadOnlyApi) -> None:
    api, _, _ = read_only_api
    response = api.get("/health/ready")
    problem = expect_problem(response, 503)
    assert response.headers["content-type"] == PROBLEM_JSON
    assert problem["type"].endswith(REFUSES_WRITES)
    assert "retry-after" not in response.headers
    assert api.get("/health/live").status_code == 200


def test_the_refusal_is_logged_at_error_once(read_only_api: ReadOnlyApi) -> None:
    api, server, number = read_only_api
    for _ in range(3):
        api.patch(f"/numbers/{number['id']}", json={"currency": "EUR"})
        api.get("/health/ready")
    errors = [
        line
        for line in server.output().splitlines()
        if " ERROR " in line and "refuses writes" in line
    ]
    assert len(errors) == 1, errors
