"""A real client: the react-admin app of ``browser/`` (ra-data-json-server) in headless Chromium.

The API runs in a process of its own on a database of this module's own, seeded through the API
with :func:`seed_rows`; the built app is served from a loopback port the API allows by CORS, and
``browser/drive.mjs`` (Playwright) works through it as a supervisor would: see its steps. Needs
``/usr/bin/chromium`` (Debian's), Node, and ``npm ci && npm run build`` in ``browser/``, as
``.ci/run`` does; without them the test fails saying what to install.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from integration_tests.databases import fresh_database
from integration_tests.server import ADMIN, run_server, signed_in_client

#: Node and Chromium are CI's (``.ci/run`` installs them); the Docker test image has neither.
pytestmark = pytest.mark.reference_client

APP_DIR = Path(__file__).with_name("browser")
BUILD = APP_DIR / "dist"
CHROMIUM = Path("/usr/bin/chromium")
SCRIPT_TIMEOUT_SECONDS = 240
#: The seeded rows' currencies, in turn.
CURRENCIES = ("U$", "EUR", "R$", "USD", "BRL", "U$", "R$")


def seed_rows(count: int = 37) -> list[dict[str, str]]:
    """The numbers the test creates, in order: ids 1 to ``count`` on its fresh database."""
    # Every 5th under +55 84 (the digit search), a few EUR (the letter search) and BRL (the
    # filter, the edit), and distinct monthly prices whose text order is not their numeric order.
    return [
        {
            "value": f"+55 {84 if i % 5 == 0 else 11} 9{i:04d}-{7000 + i}",
            "monthyPrice": str((i * 17 % count) * Decimal("0.75")),
            "setupPrice": f"{i % 4 + 1}.40",
            "currency": CURRENCIES[i % len(CURRENCIES)],
        }
        for i in range(count)
    ]


def _missing_tools() -> list[str]:
    """What is missing to run the browser test, each with how to get it."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if shutil.which("node") is None:
        missing.append("node (Node 20 with npm)")
    if not (APP_DIR / "node_modules" / "playwright-core").is_dir():
        missing.append(f"the app's node_modules (npm ci in {APP_DIR})")
    built = BUILD / "index.html"
    sources = [APP_DIR / name for name in ("index.html", "vite.config.js", "package-lock.json")]
    sources += [*(APP_DIR / "src").iterdir(), *(APP_DIR / "public").iterdir()]
    if not built.exists():
        missing.append(f"the built app (npm run build in {APP_DIR})")
    elif max(path.stat().st_mtime for path in sources) > built.stat().st_mtime:
        missing.append(f"a build newer than the app's sources (npm run build in {APP_DIR})")
    return missing


class _AppHandler(SimpleHTTPRequestHandler):
    """Serves the built app, and ``config.js`` pointing it at the API under test."""

    api_url = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.split("?")[0] != "/config.js":
            super().do_GET()
            return
        body = f"window.NUMBERS_ADMIN_CONFIG = {json.dumps({'apiUrl': self.api_url})};".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: the API's log and the script's output tell what happened."""


@contextmanager
def serve_app() -> Iterator[tuple[str, type[_AppHandler]]]:
    """Serve the build on a free loopback port; yield its origin and the handler to configure."""
    # A handler class of its own: the API's URL is filled in once the API is up, and the API
    # starts after this server, as it must know the app's origin (CORS_ORIGINS).
    handler = type("ConfiguredAppHandler", (_AppHandler,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(BUILD)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.timeout(SCRIPT_TIMEOUT_SECONDS + 60)
def test_react_admin_over_the_api_in_a_browser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Log in, page, sort, search, filter, edit, create, refusals, getMany, bulk delete, log out."""
    missing = _missing_tools()
    if missing:
        pytest.fail("the browser test needs: " + "; ".join(missing), pytrace=False)
    kind = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    screenshots = APP_DIR / "screenshots" / kind
    shutil.rmtree(screenshots, ignore_errors=True)

    with (
        fresh_database("browser", tmp_path) as database_url,
        serve_app() as (app_url, handler),
        run_server(database_url, env={"CORS_ORIGINS": app_url}) as server,
    ):
        handler.api_url = server.url
        with signed_in_client(server.url) as api:
            created = [api.post("/numbers", json=body) for body in seed_rows()]
        assert [response.status_code for response in created] == [201] * len(created)
        seed = tmp_path / "seed.json"
        rows = [response.json() for response in created]
        seed.write_text(json.dumps({"username": ADMIN[0], "password": ADMIN[1], "rows": rows}))
        result = subprocess.run(
            ["node", "drive.mjs"],
            cwd=APP_DIR,
            env={
                **os.environ,
                "APP_URL": app_url,
                "API_URL": server.url,
                "SEED_FILE": str(seed),
                "SCREENSHOTS": str(screenshots),
            },
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        api_log = server.output()

    with capsys.disabled():
        print(f"\nbrowser test screenshots: {screenshots}")
    if result.returncode != 0:
        pytest.fail(
            f"drive.mjs failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}\n"
            f"--- the end of the API's log:\n{api_log[-3000:]}",
            pytrace=False,
        )
