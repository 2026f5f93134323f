"""A worker that dies is replaced while the others keep serving; workers that keep dying stop
the server with a failure status, so that its own supervisor (a restart policy) notices.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from dataclasses import dataclass

import httpx

from integration_tests.conftest import ServerFactory
from integration_tests.server import ADMIN, RunningServer, token_for
from service.serving import MAX_RESTARTS

CLIENTS = 4
WAIT_SECONDS = 30.0


def worker_pids(server: RunningServer) -> list[int]:
    """The workers the server's supervisor has started so far, oldest first (from its log)."""
    return [int(pid) for pid in re.findall(r"started worker (\d+)", server.output())]


def wait_for_workers(server: RunningServer, count: int) -> list[int]:
    """Wait until the supervisor has started ``count`` workers in all; their pids."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(pids := worker_pids(server)) < count:
        assert server.process.poll() is None, server.output()
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    return pids


@dataclass(frozen=True)
class Outcome:
    """One request of the load: when it started and ended, and what it got (ok: its 200)."""

    started: float
    ended: float
    ok: bool
    got: str = "200"


class Load:
    """Clients reading the numbers in a loop, each request on a new connection."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._read) for _ in range(CLIENTS)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _read(self) -> None:
        # No keep-alive: a connection is accepted by whichever worker is alive at that moment.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.url, headers=self.headers, limits=limits) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    # Long enough to wait in the backlog while no worker has started yet.
                    response = client.get("/numbers", params={"_limit": 5}, timeout=WAIT_SECONDS)
                    got = f"{response.status_code} {response.text[:200]}"
                    ok = response.status_code == 200
                except httpx.TransportError as error:  # in flight on the worker that was killed
                    got, ok = repr(error), False
                self.outcomes.append(Outcome(started, time.monotonic(), ok, got))

    def between(self, start: float, end: float = float("inf")) -> list[Outcome]:
        """The requests that started after ``start`` and ended before ``end``."""
        return [o for o in self.outcomes if o.started > start and o.ended < end]


def test_a_killed_worker_is_replaced_while_the_other_keeps_serving(
    start_server: ServerFactory,
) -> None:
    with start_server(env={"WEB_CONCURRENCY": "2"}) as server:
        first, second = wait_for_workers(server, 2)
        with Load(server.url, token_for(server.url, *ADMIN)) as load:
            time.sleep(1)
            # Each time is taken before its kill: a request that fails on the killed worker
            # may end before os.kill() has even returned.
            killed = time.monotonic()
            os.kill(first, signal.SIGKILL)
            (replacement,) = wait_for_workers(server, 3)[2:]
            time.sleep(2)
            # The replacement serves too: with the other original worker gone, it is alone.
            second_killed = time.monotonic()
            os.kill(second, signal.SIGKILL)
            wait_for_workers(server, 4)
            deadline = second_killed + WAIT_SECONDS
            while len([o for o in load.between(second_killed + 0.2) if o.ok]) < 5:
                assert time.monotonic() < deadline, "nothing served after the second kill"
                time.sleep(0.1)
        assert server.process.poll() is None, "the server stopped"
        assert f"worker {first} was killed by SIGKILL; starting a replacement" in server.output()
        # Only what was in flight on a killed worker may fail; the rest is served.
        failed = [outcome for outcome in load.outcomes if not outcome.ok]
        assert len(failed) <= 2 * CLIENTS, failed
        while_one_was_down = load.between(killed + 0.2, second_killed)
        assert while_one_was_down
        assert [o for o in while_one_was_down if not o.ok] == [], (killed, server.output())
        assert [o for o in load.between(second_killed + 0.2) if not o.ok] == [], server.output()
        assert replacement not in (first, second)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(WAIT_SECONDS) == 0


def test_workers_that_keep_dying_stop_the_server_with_status_1(
    start_server: ServerFactory,
) -> None:
    with start_server(env={"WEB_CONCURRENCY": "1"}) as server:
        killed: set[int] = set()
        deadline = time.monotonic() + WAIT_SECONDS
        while server.process.poll() is None and time.monotonic() < deadline:
            for pid in set(worker_pids(server)) - killed:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            time.sleep(0.05)
        assert server.process.wait(WAIT_SECONDS) == 1
        assert len(killed) == MAX_RESTARTS + 1
        assert "workers died within 60 s, stopping the server" in server.output()
