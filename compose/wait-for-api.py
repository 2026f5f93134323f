"""Wait until $API_URL answers /health/ready, then run the given command (the test suite).

`docker-compose run` starts the services a one-off container depends on but, unlike `up`,
does not wait for them to become healthy (Compose 1.x), so the integration-tests image
waits here. Without API_URL (the suite starts its own server) it runs the command at once.
"""

from __future__ import annotations

import os
import sys
import time
import urllib.request


def wait_until_ready(api_url: str, seconds: float) -> None:
    """Poll the readiness probe once a second until it answers 2xx or time runs out."""
    probe = api_url.rstrip("/") + "/health/ready"
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(probe, timeout=5):  # noqa: S310 (the API's own URL)
                return
        except OSError as error:  # refused, unresolvable, timed out, or 503 while migrating
            if time.monotonic() > deadline:
                sys.exit(f"wait-for-api: {probe} not ready after {seconds:.0f}s: {error}")
            time.sleep(1)


def main() -> None:
    api_url = os.environ.get("API_URL")
    if api_url:
        wait_until_ready(api_url, float(os.environ.get("API_WAIT_SECONDS", "180")))
    if len(sys.argv) < 2:
        sys.exit("usage: wait-for-api COMMAND [ARG...]")
    os.execvp(sys.argv[1], sys.argv[1:])  # noqa: S606 (the container's own command)


if __name__ == "__main__":
    main()
