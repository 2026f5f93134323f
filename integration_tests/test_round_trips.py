"""What each request sends PostgreSQL, read from the server's own statement log (issue 13).

A read is one statement in autocommit: no BEGIN, no COMMIT, no pool ping, no reset ROLLBACK.
A write is one transaction. The cluster is the tests' own, so its log holds only this test.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from integration_tests.api_client import create_number
from integration_tests.conftest import signed_in
from integration_tests.in_process import InProcessApp, in_process_app
from integration_tests.private_postgres import PrivatePostgres

pytestmark = pytest.mark.private_postgres

_LOGGED = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)")


@pytest.fixture(scope="module")
def app(private_postgres: PrivatePostgres) -> Iterator[InProcessApp]:
    """The app on a database of the private cluster, one pooled connection."""
    url = private_postgres.create_database(f"round_trips_{uuid.uuid4().hex[:8]}")
    with in_process_app(url, env={"DB_POOL_SIZE": "1"}) as running:
        yield running


def _statements(
    cluster: PrivatePostgres, api: httpx.Client, request: Callable[[httpx.Client], httpx.Response]
) -> list[str]:
    """The statements the server ran for ``request`` (after a first, warming one)."""
    assert request(api).is_success  # prepares the statements and fills the user cache
    cluster.set_statement_log(True)
    try:
        time.sleep(0.3)  # the reload reaches the backends before the measured request
        before = len(cluster.log())
        response = request(api)
        time.sleep(0.3)
        logged = cluster.log()[before:]
    finally:
        cluster.set_statement_log(False)
    assert response.is_success, response.text
    return [
        m.group(1).strip() for m in _LOGGED.finditer(logged) if "pg_reload_conf" not in m.group(1)
    ]


def test_reading_one_number_is_one_statement(
    app: InProcessApp, private_postgres: PrivatePostgres
) -> None:
    with signed_in(app) as api:
        path = f"/numbers/{create_number(api)['id']}"
        statements = _statements(private_postgres, api, lambda c: c.get(path))

    assert len(statements) == 1, statements
    assert statements[0].startswith("SELECT")


def test_a_list_page_and_its_total_are_one_statement(
    app: InProcessApp, private_postgres: PrivatePostgres
) -> None:
    with signed_in(app) as api:
        create_number(api)
        statements = _statements(
            private_postgres, api, lambda c: c.get("/numbers", params={"_page": 1, "q": "1"})
        )

    assert len(statements) == 1, statements
    assert statements[0].startswith("SELECT page.id") and "counted.total" in statements[0]


def test_a_write_is_one_transaction(app: InProcessApp, private_postgres: PrivatePostgres) -> None:
    with signed_in(app) as api:
        path = f"/numbers/{create_number(api)['id']}"
        prices = iter(f"{n}.00" for n in range(1, 10))
        statements = _statements(
            private_postgres, api, lambda c: c.patch(path, json={"monthyPrice": next(prices)})
        )

    verbs = [s.split()[0].rstrip(";") for s in statements]
    assert verbs == ["BEGIN", "SELECT", "UPDATE", "COMMIT"], statements
