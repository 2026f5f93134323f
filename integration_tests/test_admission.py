"""Admission: probes never queue, logins queue in their own lane, a full queue is a prompt 503."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import httpx

from integration_tests.api_client import create_number, expect_problem, number_body
from integration_tests.database_lock import writes_blocked
from integration_tests.raw_http import connect, json_request, read_response, status_line
from integration_tests.server import RunningServer, signed_in_client

FLOOD_LOGINS = 40
#: During the flood, the median read stays within a small multiple of its idle latency; the
#: floor absorbs the scheduling noise of two cores that the hashing threads keep busy.
SLOWDOWN_FACTOR = 5
SLOWDOWN_FLOOR_SECONDS = 0.1
#: ... and no read waits behind the logins: 40 of them take several seconds of hashing.
STALL_SECONDS = 1.5
SAMPLES = 15
#: A 503 that does not wait for any hash (one takes about 0.15 s, and 40 of them are queued).
PROMPT_SECONDS = 1.0


def _median_seconds(client: httpx.Client, path: str, count: int = SAMPLES) -> float:
    timings = []
    for _ in range(count):
        started = time.monotonic()
        response = client.get(path)
        timings.append(time.monotonic() - started)
        assert response.status_code == 200, response.text
    return statistics.median(timings)


def _failed_login(client: httpx.Client) -> tuple[httpx.Response, float]:
    """A login for a username nobody has (a hash is checked all the same); how long it took."""
    body = {"username": f"nobody-{uuid.uuid4().hex[:12]}", "password": "wrong-password"}
    started = time.monotonic()
    response = client.post("/auth/token", json=body)
    return response, time.monotonic() - started


@contextmanager
def _login_flood(url: str) -> Iterator[list[Future[tuple[httpx.Response, float]]]]:
    """``FLOOD_LOGINS`` failed logins sent at once, each on a connection of its own."""
    limits = httpx.Limits(max_connections=FLOOD_LOGINS)
    with (
        httpx.Client(base_url=url, limits=limits, timeout=60) as client,
        ThreadPoolExecutor(FLOOD_LOGINS) as pool,
    ):
        yield [pool.submit(_failed_login, client) for _ in range(FLOOD_LOGINS)]


def test_liveness_answers_while_every_slot_waits_on_the_database(
    tight_server: RunningServer, server_database_url: str
) -> None:
    url = tight_server.url
    with signed_in_client(url) as api, ExitStack() as sockets:
        auth = {"Authorization": api.headers["Authorization"]}
        with writes_blocked(server_database_url):
            # One POST inside the app waiting on the database, two queued behind it.
            stuck = [sockets.enter_context(connect(url)) for _ in range(3)]
            for sock in stuck:
                sock.sendall(json_request("POST", "/numbers", number_body(), auth))
            time.sleep(0.7)
            started = time.monotonic()
            live = api.get("/health/live")
            seconds = time.monotonic() - started
            busy = api.get("/numbers")  # no room left in the queue
        answers = [status_line(read_response(sock)) for sock in stuck]

    assert live.status_code == 200
    assert seconds < 1.0, f"/health/live took {seconds:.2f}s"
    expect_problem(busy, 503)
    assert answers == [b"HTTP/1.1 201 Created"] * 3


def test_a_login_flood_leaves_reads_and_probes_fast(
    served_url: str, credentials: tuple[str, str]
) -> None:
    with signed_in_client(served_url, credentials) as api:
        number_path = f"/numbers/{create_number(api)['id']}"
        paths = (number_path, "/health/live", "/health/ready")
        idle = {path: _median_seconds(api, path) for path in paths}
        flooded = _timed_during_flood(api, served_url, paths)

    for path, timings in flooded.items():
        assert len(timings) >= 5, f"the flood was over before {path} was measured"
        limit = max(SLOWDOWN_FACTOR * idle[path], idle[path] + SLOWDOWN_FLOOR_SECONDS)
        assert statistics.median(timings) <= limit, (path, idle[path], sorted(timings))
        assert max(timings) <= STALL_SECONDS, (path, idle[path], sorted(timings))


def _timed_during_flood(
    api: httpx.Client, url: str, paths: tuple[str, ...]
) -> dict[str, list[float]]:
    """How long each GET of ``paths`` took while a login flood was in flight."""
    flooded: dict[str, list[float]] = {path: [] for path in paths}
    with _login_flood(url) as logins:
        while not all(login.done() for login in logins):
            for path, timings in flooded.items():
                started = time.monotonic()
                assert api.get(path).status_code == 200
                if not all(login.done() for login in logins):
                    timings.append(time.monotonic() - started)
        statuses = {login.result()[0].status_code for login in logins}
    assert statuses <= {401, 503}
    return flooded


def test_logins_past_their_lanes_queue_are_503_with_retry_after_at_once(
    tight_server: RunningServer,
) -> None:
    # Two logins hash at once and two may wait (ADMISSION_QUEUE=2); the rest are turned away.
    with _login_flood(tight_server.url) as logins:
        results = [login.result() for login in logins]

    turned_away = [
        (response, seconds) for response, seconds in results if response.status_code == 503
    ]
    checked = [response for response, _ in results if response.status_code == 401]
    assert len(turned_away) + len(checked) == FLOOD_LOGINS
    assert len(checked) >= 4  # two hashing at once, two waiting
    assert turned_away
    for response, seconds in turned_away:
        expect_problem(response, 503)
        assert response.headers["retry-after"] == "1"
        assert seconds < PROMPT_SECONDS
