"""Serve the API (or a benchmark peer) as a subprocess: start, wait until ready, always stop.

The one harness for every server the tests and the load benchmark start: the session's server,
the servers of tests that need their own (other settings, several workers, a database behind a
proxy) and each variant the benchmark measures. Each server gets a free port (retried if another
process takes it first), its own working directory, an output file shown when it fails to start,
and a session of its own, so that stopping it reaches every worker it spawned and nothing else.
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
HOST = "127.0.0.1"  # loopback only

STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 15.0
_POLL_SECONDS = 0.05
_PORT_ATTEMPTS = 3
#: What Hypercorn and uvicorn ("address already in use") and gunicorn ("connection in use")
#: print when another process took the port between free_port() and their bind.
_PORT_TAKEN = ("address already in use", "connection in use")
_REPO = Path(__file__).resolve().parents[1]

#: The command line serving on a port (the port is also in the environment as PORT).
Command = Callable[[int], Sequence[str]]


class ServerFailed(RuntimeError):
    """The server exited or did not become ready in time; the message carries its output."""


def product_command(_port: int) -> list[str]:
    """``python -m service``: migrate (a no-op once migrated), bootstrap, serve on PORT."""
    return [sys.executable, "-m", "service"]


@dataclass(frozen=True)
class RunningServer:
    """A started server: its base URL, its process (a session leader) and its output file."""

    url: str
    process: subprocess.Popen[bytes]
    output_path: Path

    def output(self) -> str:
        """Everything the server has written to stdout and stderr so far."""
        return self.output_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the spawned or forked workers, else the server.

        Hypercorn spawns its workers (and multiprocessing's idle resource tracker), gunicorn
        forks them; uvicorn with one worker and a server without workers serve in-process.
        """
        workers = [
            pid
            for pid in _descendants(self.process.pid)
            if "multiprocessing.resource_tracker" not in _cmdline(pid)
        ]
        return workers or [self.process.pid]


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def run_server(
    database_url: str,
    env: Mapping[str, str | None] | None = None,
    *,
    command: Command = product_command,
    startup_timeout: float = STARTUP_TIMEOUT_SECONDS,
    ready_path: str = "/health/ready",
) -> Iterator[RunningServer]:
    """Serve ``command`` (default: the API) on ``database_url`` with ``env`` overrides.

    An override of None removes the variable. Yields once ``ready_path`` answers 200; stops the
    server (SIGTERM, then SIGKILL to its whole process group) on exit, whatever happened.
    """
    with tempfile.TemporaryDirectory(prefix="itests-server-") as workdir:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            server = _start(command, database_url, env or {}, Path(workdir), attempt)
            try:
                _wait_until_ready(server, startup_timeout, ready_path)
            except ServerFailed:
                _stop(server.process)
                output = server.output().lower()
                if attempt < _PORT_ATTEMPTS and any(text in output for text in _PORT_TAKEN):
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
    command: Command,
    database_url: str,
    overrides: Mapping[str, str | None],
    workdir: Path,
    attempt: int,
) -> RunningServer:
    port = free_port()
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        HOST=HOST,
        PORT=str(port),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        # The repository first, so that a server can import integration_tests (the benchmark's
        # fixtures) from its own working directory.
        PYTHONPATH=os.pathsep.join(filter(None, [str(_REPO), env.get("PYTHONPATH")])),
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
    return RunningServer(f"http://{HOST}:{port}", process, output_path)


def _wait_until_ready(server: RunningServer, timeout: float, ready_path: str) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, timeout=2) as client:
        while True:
            code = server.process.poll()
            if code is not None:
                raise ServerFailed(f"the server exited with code {code}:\n{server.output()}")
            with suppress(httpx.TransportError):
                if client.get(ready_path).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise ServerFailed(
                    f"the server was not ready after {timeout:.0f}s:\n{server.output()}"
                )
            time.sleep(_POLL_SECONDS)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM to the main process only: it shuts its workers down gracefully itself.
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


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name in () may hold spaces
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def log_in(client: httpx.Client, username: str, password: str) -> str:
    """An access token from ``POST /auth/token`` of the API ``client`` talks to."""
    response = client.post("/auth/token", json={"username": username, "password": password})
    if response.status_code != 200:
        raise ServerFailed(f"cannot log in as {username!r}: {response.text}")
    token: str = response.json()["access_token"]
    return token


def token_for(url: str, username: str, password: str) -> str:
    """An access token from the API at ``url``."""
    with httpx.Client(base_url=url, timeout=30) as client:
        return log_in(client, username, password)


def signed_in_client(url: str, credentials: tuple[str, str] = ADMIN, **kwargs: Any) -> httpx.Client:
    """An httpx client for ``url`` whose requests carry a supervisor's Bearer token."""
    headers = {
        **kwargs.pop("headers", {}),
        "Authorization": f"Bearer {token_for(url, *credentials)}",
    }
    kwargs.setdefault("timeout", 30)
    return httpx.Client(base_url=url, headers=headers, **kwargs)
