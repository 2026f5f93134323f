"""Replicas on one database are one API to a client: no state of one replica can be observed.

What a replica keeps in memory is a per-worker cache of user rows (``USER_CACHE_SECONDS``, at most
60 s), so a deactivation reaches every replica within that window; tokens are signed, not stored,
and every replica checks them with the same SECRET_KEY; the login throttle lives in the database.
Two servers here stand for two replicas, on the tests' database (one PostgreSQL database, or one
SQLite file shared by both processes).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from integration_tests.api_client import number_body
from integration_tests.conftest import ServerFactory
from integration_tests.server import ADMIN, RunningServer, token_for
from integration_tests.test_auth import new_user, users_cli
from service.models import Role

CACHE_SECONDS = 1
#: Beyond the cache window: a request in flight, and a busy machine.
SLACK_SECONDS = 3


@pytest.fixture(scope="module")
def replicas(start_server: ServerFactory) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Two servers on one database, with a one-second user cache each."""
    env = {"USER_CACHE_SECONDS": str(CACHE_SECONDS)}
    with start_server(env=env) as first, start_server(env=env) as second:
        yield first, second


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_issued_by_one_replica_works_on_another(
    replicas: tuple[RunningServer, RunningServer],
) -> None:
    first, second = replicas
    token = token_for(first.url, *ADMIN)
    created = httpx.post(f"{second.url}/numbers", json=number_body(), headers=bearer(token))
    assert created.status_code == 201, created.text
    read = httpx.get(f"{first.url}/numbers/{created.json()['id']}", headers=bearer(token))
    assert read.status_code == 200
    assert read.json() == created.json()


def test_a_deactivation_reaches_every_replica_within_the_user_cache_window(
    replicas: tuple[RunningServer, RunningServer], server_database_url: str
) -> None:
    username, password = new_user(server_database_url, Role.SUPERVISOR)
    token = token_for(replicas[0].url, username, password)
    for replica in replicas:  # each has the user in its cache now
        assert httpx.get(f"{replica.url}/numbers", headers=bearer(token)).status_code == 200
    users_cli(server_database_url, "deactivate", username)
    deadline = time.monotonic() + CACHE_SECONDS + SLACK_SECONDS
    for replica in replicas:
        status = httpx.get(f"{replica.url}/numbers", headers=bearer(token)).status_code
        while status != 401 and time.monotonic() < deadline:
            time.sleep(0.1)
            status = httpx.get(f"{replica.url}/numbers", headers=bearer(token)).status_code
        assert status == 401, f"{replica.url} still accepts the token after the window"
