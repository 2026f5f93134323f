"""Run json-server 0.17.4, the frontend's mock, on a JSON file: start, wait until it answers, stop.

It is a test dependency, installed by ``npm ci`` in ``integration_tests/`` from the committed
lock file; without it the tests that need it fail, saying so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from integration_tests.server import ServerFailed, free_port

VERSION = "0.17.4"
PACKAGE_DIR = Path(__file__).resolve().parent
BINARY = PACKAGE_DIR / "node_modules" / ".bin" / "json-server"
STARTUP_TIMEOUT_SECONDS = 30.0
_POLL_SECONDS = 0.05
_PORT_ATTEMPTS = 3


class NotInstalled(RuntimeError):
    """json-server is missing or is not the pinned version."""


def check_installed() -> None:
    """Raise :class:`NotInstalled`, saying how to install it, unless json-server 0.17.4 is there."""
    manifest = PACKAGE_DIR / "node_modules" / "json-server" / "package.json"
    if not BINARY.exists() or not manifest.exists():
        raise NotInstalled(
            f"json-server is not installed: run `npm ci` in {PACKAGE_DIR} (Node 20 and npm)"
        )
    version = json.loads(manifest.read_text())["version"]
    if version != VERSION:
        raise NotInstalled(
            f"json-server {version} is installed, the tests need {VERSION}: "
            f"run `npm ci` in {PACKAGE_DIR}"
        )


@contextmanager
def run_json_server(database: Mapping[str, Any]) -> Iterator[str]:
    """Serve ``database`` (``{"resource": [rows]}``) with json-server, read-only; yield its URL."""
    check_installed()
    with tempfile.TemporaryDirectory(prefix="itests-json-server-") as workdir:
        db_path = Path(workdir) / "db.json"
        db_path.write_text(json.dumps(database, indent=2))
        resource = next(iter(database))
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = free_port()
            log_path = Path(workdir) / f"json-server-{attempt}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [str(BINARY), str(db_path), "--host", "127.0.0.1", "--port", str(port), "--ro"],
                    cwd=workdir,  # json-server serves ./public from here: there is none
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            url = f"http://127.0.0.1:{port}"
            try:
                _wait_until_ready(process, f"{url}/{resource}", log_path)
            except ServerFailed:
                _stop(process)
                if attempt < _PORT_ATTEMPTS and "EADDRINUSE" in log_path.read_text():
                    continue  # another process took the free port first
                raise
            except BaseException:
                _stop(process)
                raise
            break
        try:
            yield url
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        code = process.poll()
        if code is not None:
            raise ServerFailed(f"json-server exited with code {code}:\n{log_path.read_text()}")
        with suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise ServerFailed(
                f"json-server did not answer {url} within {STARTUP_TIMEOUT_SECONDS:.0f}s:\n"
                + log_path.read_text()
            )
        time.sleep(_POLL_SECONDS)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
