"""Run ``python -m service`` as a subprocess for the tests: start, wait until ready, always stop.

Used for the session's server and by tests that need a server of their own (other settings,
several workers, a database behind a proxy). Each server gets a free port, its own working
directory and an output file that is shown when it fails to start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

#: Every server the tests start signs tokens with this key and bootstraps this supervisor.
SECRET_KEY = "integration-tests-secret-key-0123456789"  # noqa: S105 - a test fixture
ADMIN = ("admin", "admin-password")

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
_POLL_SECONDS = 0.05
_PORT_ATTEMPTS = 3


class ServerFailed(RuntimeError):
    """The server exited or did not become ready in time; the message carries its output."""


@dataclass(frozen=True)
class RunningServer:
    """A started API: its base URL, its process and where its output goes."""

    url: str
    process: subprocess.Popen[bytes]
    output_path: Path

    def output(self) -> str:
        """Everything the server has written to stdout and stderr so far."""
        return self.output_path.read_text(errors="replace")


def free_port() -> int:
    """A TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def service_command(port: int) -> list[str]:
    """``python -m service``, which reads its port from the environment."""
    return [sys.executable, "-m", "service"]


@contextmanager
def run_server(
    database_url: str,
    env: Mapping[str, str | None] | None = None,
    *,
    startup_timeout: float = STARTUP_TIMEOUT_SECONDS,
    command: Callable[[int], Sequence[str]] = service_command,
) -> Iterator[RunningServer]:
    """Serve the API on ``database_url`` with ``env`` overrides (None removes a variable).

    ``command`` gives the server's command line for its port (default: ``python -m service``).
    Yields once ``/health/ready`` answers 200; stops the server (SIGTERM, then SIGKILL to its
    whole process group) on exit, whatever happened.
    """
    with tempfile.TemporaryDirectory(prefix="itests-server-") as workdir:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            server = _start(database_url, env or {}, Path(workdir), attempt, command)
            try:
                _wait_until_ready(server, startup_timeout)
            except ServerFailed:
                _stop(server.process)
                if attempt < _PORT_ATTEMPTS and "address already in use" in server.output().lower():
                    continue  # another process took the free port first
                raise
            except BaseException:
                _stop(server.process)
                raise
            break
        try:
            yield server
        finally:
            _stop(server.process)


def _start(
    database_url: str,
    overrides: Mapping[str, str | None],
    workdir: Path,
    attempt: int,
    command: Callable[[int], Sequence[str]],
) -> RunningServer:
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        SECRET_KEY=SECRET_KEY,
        ADMIN_USERNAME=ADMIN[0],
        ADMIN_PASSWORD=ADMIN[1],
    )
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    output_path = workdir / f"server-{attempt}.log"
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            list(command(port)),
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: workers are stopped with it
        )
    return RunningServer(f"http://127.0.0.1:{port}", process, output_path)


def _wait_until_ready(server: RunningServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, timeout=2) as client:
        while True:
            code = server.process.poll()
            if code is not None:
                raise ServerFailed(f"the server exited with code {code}:\n{server.output()}")
            with suppress(httpx.TransportError):
                if client.get("/health/ready").status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"the server was not ready after {timeout:.0f}s:\n{server.output()}"
                )
            time.sleep(_POLL_SECONDS)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    # Whatever the main process did, leave no worker of its group behind.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def login(url: str, username: str, password: str) -> str:
    """An access token from ``POST /auth/token`` of the API at ``url``."""
    response = httpx.post(
        f"{url}/auth/token", json={"username": username, "password": password}, timeout=30
    )
    if response.status_code != 200:
        raise ServerFailed(f"cannot log in as {username!r} at {url}: {response.text}")
    token: str = response.json()["access_token"]
    return token


def signed_in_client(url: str, credentials: tuple[str, str] = ADMIN, **kwargs: Any) -> httpx.Client:
    """An httpx client for ``url`` whose requests carry a supervisor's Bearer token."""
    headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {login(url, *credentials)}"}
    kwargs.setdefault("timeout", 30)
    return httpx.Client(base_url=url, headers=headers, **kwargs)
