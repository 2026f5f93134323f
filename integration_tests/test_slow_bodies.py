"""A request body has a whole-body deadline: a client trickling it is answered 408 and let go.

Hypercorn's ``read_timeout`` is per read, so a byte every few seconds would never trip it; the
deadline counts from the start of the body to its end, however steadily the bytes come.
"""

from __future__ import annotations

import json
import time

from integration_tests.api_client import PROBLEM_JSON, number_body
from integration_tests.raw_http import (
    body,
    connect,
    header,
    read_response,
    request_head,
    status_line,
    trickle,
)
from integration_tests.server import ADMIN, RunningServer, token_for

BODY_TIMEOUT_SECONDS = 2.0  # the tight server's BODY_TIMEOUT_SECONDS
BYTE_EVERY_SECONDS = 0.25  # far apart for a body, yet each read comes well within a second


def _post_head(server: RunningServer, content: bytes) -> bytes:
    auth = {"Authorization": f"Bearer {token_for(server.url, *ADMIN)}"}
    headers = {"Content-Type": "application/json", **auth}
    return request_head("POST", "/numbers", headers, content_length=len(content))


def test_a_trickled_body_is_408_once_its_deadline_passes(tight_server: RunningServer) -> None:
    content = json.dumps(number_body()).encode()
    with connect(tight_server.url) as sock:
        sock.sendall(_post_head(tight_server, content))
        started = time.monotonic()
        sent = trickle(sock, content, BYTE_EVERY_SECONDS, for_seconds=BODY_TIMEOUT_SECONDS * 4)
        response = read_response(sock)  # and the server closes the connection
        seconds = time.monotonic() - started

    assert status_line(response) == b"HTTP/1.1 408 Request Timeout"
    assert header(response, "Content-Type") == PROBLEM_JSON
    assert json.loads(body(response))["status"] == 408
    assert BODY_TIMEOUT_SECONDS <= seconds < BODY_TIMEOUT_SECONDS + 2
    assert sent < len(content)


def test_a_slow_body_that_arrives_within_its_deadline_is_served(
    tight_server: RunningServer,
) -> None:
    content = json.dumps(number_body()).encode()
    every = BODY_TIMEOUT_SECONDS / len(content) / 4
    with connect(tight_server.url) as sock:
        sock.sendall(_post_head(tight_server, content))
        assert trickle(sock, content, every, for_seconds=BODY_TIMEOUT_SECONDS) == len(content)
        response = read_response(sock)

    assert status_line(response) == b"HTTP/1.1 201 Created"
