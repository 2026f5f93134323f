"""Liveness and readiness probes."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from integration_tests.api_client import number_body
from integration_tests.conftest import signed_in
from integration_tests.database_lock import writes_blocked
from integration_tests.in_process import in_process_app
from integration_tests.private_postgres import PrivatePostgres

#: How long a write waits on the lock before readiness is asked; readiness must answer faster.
SETTLE_SECONDS = 0.5


@pytest.mark.parametrize("probe", ["/health/live", "/health/ready"])
def test_probe_answers_ok(api: httpx.Client, probe: str) -> None:
    response = api.get(probe)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}


@pytest.mark.private_postgres
def test_readiness_answers_at_once_while_requests_hold_every_pooled_connection(
    private_postgres: PrivatePostgres,
) -> None:
    # PostgreSQL only: its table lock holds the writes to numbers and lets the probe's no-op
    # write to another table through, where SQLite's one lock per file would hold both.
    url = private_postgres.create_database(f"readiness_{uuid.uuid4().hex[:8]}")
    with (
        in_process_app(url, env={"DB_POOL_SIZE": "1"}) as app,
        signed_in(app) as api,
        app.client() as probe,
        ThreadPoolExecutor(max_workers=1) as writer,
    ):
        with writes_blocked(url):
            # The one pooled connection waits on the lock inside this create.
            create = writer.submit(api.post, "/numbers", json=number_body())
            time.sleep(SETTLE_SECONDS)
            started = time.monotonic()
            ready = probe.get("/health/ready")
            answered_in = time.monotonic() - started
            assert not create.done()  # still holding the pool's connection
        assert create.result().status_code == 201

    assert ready.status_code == 200, ready.text
    assert answered_in < 1.0
