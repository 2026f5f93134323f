"""Work for clients that have gone is not done: queued requests are dropped, reads cancelled.

A write that has begun still runs to its end, so nothing is left half written. The clients here
reset their TCP connection (RST) on a real server; the database hangs on writes meanwhile
(``database_lock``), so that a request stays queued or in progress for as long as needed.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from integration_tests.api_client import digits_of, number_body
from integration_tests.database_lock import writes_blocked
from integration_tests.raw_http import (
    connect,
    json_request,
    read_response,
    request_head,
    reset,
    status_line,
)
from integration_tests.server import RunningServer, signed_in_client

#: Ample time for an idle server to take a request in, or to notice a reset.
SETTLE_SECONDS = 0.7
LOG_WAIT_SECONDS = 3.0


@pytest.fixture(scope="module")
def api(tight_server: RunningServer) -> Iterator[httpx.Client]:
    """A supervisor's client of the one-slot server."""
    with signed_in_client(tight_server.url) as client:
        yield client


def _send(api: httpx.Client, raw_request: bytes) -> socket.socket:
    sock = connect(str(api.base_url))
    sock.sendall(raw_request)
    return sock


def _post_number(api: httpx.Client) -> tuple[socket.socket, str]:
    """Send a POST /numbers on its own connection; the socket and the number's digits."""
    body = number_body()
    auth = {"Authorization": api.headers["Authorization"]}
    return _send(api, json_request("POST", "/numbers", body, auth)), digits_of(body["value"])


def _stored(api: httpx.Client, digits: str) -> int:
    response = api.get("/numbers", params={"value_like": digits})
    assert response.status_code == 200, response.text
    return len(response.json())


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def _logged(server: RunningServer, line: str) -> None:
    _wait_for(lambda: line in server.output(), f"the server logs {line!r}")


def test_a_request_whose_client_resets_while_queued_is_never_run(
    tight_server: RunningServer, api: httpx.Client, server_database_url: str
) -> None:
    with writes_blocked(server_database_url):
        inside, inside_digits = _post_number(api)  # takes the one slot, waits on the lock
        time.sleep(SETTLE_SECONDS)
        queued, queued_digits = _post_number(api)  # waits for that slot
        time.sleep(SETTLE_SECONDS)
        reset(queued)
        _logged(tight_server, "client left while queued: POST '/numbers' dropped")

    assert status_line(read_response(inside)).startswith(b"HTTP/1.1 201")
    inside.close()
    # The lane is first come, first served: had the queued POST run, it ran before this GET.
    assert _stored(api, inside_digits) == 1
    assert _stored(api, queued_digits) == 0


def test_a_read_whose_client_resets_is_cancelled(
    tight_server: RunningServer, api: httpx.Client, server_database_url: str
) -> None:
    # The readiness probe's no-op write (to alembic_version) waits on the lock too: a read in
    # progress, in the database, on the probe's own connection.
    with writes_blocked(server_database_url, tables=("numbers", "alembic_version")):
        writer, _ = _post_number(api)  # holds the pool's one connection, waiting on the lock
        time.sleep(SETTLE_SECONDS)
        reader = _send(api, request_head("GET", "/health/ready"))  # waits on the lock
        time.sleep(SETTLE_SECONDS)
        reset(reader)
        _logged(tight_server, "client left: GET '/health/ready' cancelled")

    assert status_line(read_response(writer)).startswith(b"HTTP/1.1 201")
    writer.close()
    assert api.get("/health/ready").status_code == 200  # the pool is whole again


def test_a_write_whose_client_resets_runs_to_its_end(
    tight_server: RunningServer, api: httpx.Client, server_database_url: str
) -> None:
    with writes_blocked(server_database_url):
        writer, digits = _post_number(api)
        time.sleep(SETTLE_SECONDS)
        reset(writer)
        _logged(tight_server, "client left: POST '/numbers' runs to its end")

    _wait_for(lambda: _stored(api, digits) == 1, "the write is committed")
