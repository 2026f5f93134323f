"""Graceful shutdown: on SIGTERM a server says it is draining, finishes its requests, exits 0.

A replica being replaced must not fail the requests it has: readiness turns 503 at once (a load
balancer stops sending), requests keep being served for DRAIN_DELAY_SECONDS, then new
connections are refused, the requests in flight finish, the pool is closed and the exit status
is 0.
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from integration_tests.api_client import digits_of, expect_problem, number_body
from integration_tests.conftest import ServerFactory
from integration_tests.databases import connections_to, fresh_database, scalar
from integration_tests.server import ADMIN, run_server, token_for

DRAIN_DELAY_SECONDS = 3
#: Hypercorn's graceful_timeout (10 s) plus the workers' lifespan shutdown, with room to spare.
EXIT_TIMEOUT_SECONDS = 25.0


def address_of(url: str) -> tuple[str, int]:
    """The host and port of a server's base URL."""
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def test_sigterm_turns_readiness_503_at_once_while_requests_are_still_served(
    start_server: ServerFactory,
) -> None:
    with start_server(env={"DRAIN_DELAY_SECONDS": str(DRAIN_DELAY_SECONDS)}) as server:
        token = token_for(server.url, *ADMIN)
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/health/ready").status_code == 200
            server.process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            ready = client.get("/health/ready")
            while ready.status_code == 200 and time.monotonic() - signalled < 1:
                ready = client.get("/health/ready")
            problem = expect_problem(ready, 503)
            assert problem["type"].endswith("/draining")
            assert ready.headers["retry-after"] == "1"
            # Still serving while load balancers notice.
            assert client.get("/health/live").status_code == 200
            listed = client.get("/numbers", headers={"Authorization": f"Bearer {token}"})
            assert listed.status_code == 200
            assert time.monotonic() - signalled < DRAIN_DELAY_SECONDS
        assert server.process.wait(DRAIN_DELAY_SECONDS + EXIT_TIMEOUT_SECONDS) == 0


def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(
    tmp_path: Path,
) -> None:
    with fresh_database("shutdown", tmp_path) as database_url:
        with run_server(database_url) as server:
            token = token_for(server.url, *ADMIN)
            created = number_body()
            body = json.dumps(created).encode()
            head = (
                "POST /numbers HTTP/1.1\r\n"
                f"Host: {urlsplit(server.url).netloc}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            in_flight = socket.create_connection(address_of(server.url), timeout=10)
            with in_flight:
                in_flight.sendall(head + body[:10])  # the request has begun
                time.sleep(0.5)
                server.process.send_signal(signal.SIGTERM)
                time.sleep(1.5)
                with pytest.raises(ConnectionRefusedError):
                    socket.create_connection(address_of(server.url), timeout=5).close()
                in_flight.sendall(body[10:])
                response = http.client.HTTPResponse(in_flight)
                response.begin()
                answer = json.loads(response.read())
            assert response.status == 201, answer
            assert answer["value"] == created["value"]
            assert server.process.wait(EXIT_TIMEOUT_SECONDS) == 0
        digits = digits_of(created["value"])
        assert scalar(database_url, "SELECT count(*) FROM numbers WHERE digits = :d", d=digits) == 1
        assert_pool_closed(database_url, tmp_path)


def assert_pool_closed(database_url: str, directory: Path) -> None:
    """No connection of the stopped server is left open on its database."""
    if database_url.startswith("postgresql"):
        assert connections_to(database_url) == 0
    else:
        # SQLite removes the write-ahead log when the last connection to the file closes.
        assert not list(directory.glob("*.sqlite3-wal"))
