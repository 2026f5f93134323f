"""When PostgreSQL goes away the API answers 503 quickly, and recovers by itself when it is back.

A TCP proxy stands between a server of this test's own and a database on the tests' private
PostgreSQL cluster; cutting the proxy is the network to the database going away (no message
from the server, just closed sockets), while ``test_database_restart.py`` stops the server.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress

import httpx
import pytest

from integration_tests.api_client import create_number, expect_problem
from integration_tests.private_postgres import PrivatePostgres
from integration_tests.server import free_port, run_server, signed_in_client

QUICKLY_SECONDS = 5.0  # the longest a request may take to say 503
RECOVERY_SECONDS = 20.0

pytestmark = pytest.mark.private_postgres


class TcpProxy:
    """Forwards connections from a local port to ``upstream`` until stopped; can start again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets |= {client, server}
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxy(private_postgres: PrivatePostgres) -> Iterator[TcpProxy]:
    proxy = TcpProxy(("127.0.0.1", private_postgres.port))
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def api_behind_proxy(private_postgres: PrivatePostgres, proxy: TcpProxy) -> Iterator[httpx.Client]:
    name = f"outage_{uuid.uuid4().hex[:12]}"
    private_postgres.create_database(name)
    url = private_postgres.url(name).replace(f":{private_postgres.port}/", f":{proxy.port}/")
    with run_server(url) as server, signed_in_client(server.url) as client:
        yield client


def _timed(api: httpx.Client, path: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = api.get(path)
    return response, time.monotonic() - started


def _poll_until(api: httpx.Client, path: str, status: int, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = api.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_database_outage_is_503_quickly_and_the_api_recovers_by_itself(
    api_behind_proxy: httpx.Client, proxy: TcpProxy
) -> None:
    api = api_behind_proxy
    number = create_number(api)
    assert api.get(f"/numbers/{number['id']}").status_code == 200

    proxy.stop()

    for path in ("/numbers", f"/numbers/{number['id']}", "/health/ready"):
        response, seconds = _timed(api, path)
        expect_problem(response, 503)
        assert int(response.headers["retry-after"]) > 0
        assert seconds < QUICKLY_SECONDS, f"{path} took {seconds:.1f}s to answer 503"
    assert api.get("/health/live").status_code == 200  # the process itself is fine

    proxy.start()

    assert _poll_until(api, "/health/ready", 200, RECOVERY_SECONDS).status_code == 200
    assert api.get(f"/numbers/{number['id']}").json() == number
    assert api.patch(f"/numbers/{number['id']}", json={"currency": "EUR"}).status_code == 200
