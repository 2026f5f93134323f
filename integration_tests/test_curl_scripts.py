"""The curl scripts of integration_tests/curl/ run against the API, so they cannot drift from it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CURL_SCRIPTS = Path(__file__).with_name("curl")


def _require_tools() -> None:
    missing = [tool for tool in ("bash", "curl", "jq") if shutil.which(tool) is None]
    if not missing:
        return
    # A documented prerequisite of the test command (README, "Test it"): never skipped.
    pytest.fail(f"the curl scripts need {', '.join(missing)} (apt-get install -y curl jq)")


def _run(script: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``integration_tests/curl/<script>`` with bash, as a person would, and capture it."""
    return subprocess.run(
        ["bash", str(CURL_SCRIPTS / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_every_curl_script_gets_the_statuses_it_expects(
    served_url: str, credentials: tuple[str, str]
) -> None:
    """all.sh as a person would run it: it logs in with a username and password first."""
    _require_tools()
    username, password = credentials
    env = {**os.environ, "API_URL": served_url, "API_USERNAME": username, "API_PASSWORD": password}
    env.pop("TOKEN", None)
    result = _run("all.sh", env, timeout=120)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "every request got the expected status" in result.stdout
    assert "POST " + served_url + "/auth/token" in result.stdout + result.stderr
    assert password not in result.stdout + result.stderr
    for script in ("list", "create", "read", "replace", "patch", "conditional-update", "delete"):
        assert f"=== {script}.sh" in result.stdout


def test_each_script_runs_alone_with_a_token(served_url: str, token: str) -> None:
    _require_tools()
    env = {**os.environ, "API_URL": served_url, "TOKEN": token}
    for name in ("API_USERNAME", "API_PASSWORD"):
        env.pop(name, None)
    for script in sorted(CURL_SCRIPTS.glob("*.sh")):
        if script.name in ("all.sh", "lib.sh", "login.sh"):
            continue
        result = _run(script.name, env)
        assert result.returncode == 0, f"{script.name}:\n{result.stdout}\n{result.stderr}"
        assert "<<< HTTP/1.1" in result.stdout, script.name  # the response's status line


def test_login_script_prints_a_token_that_works(
    served_url: str, credentials: tuple[str, str]
) -> None:
    _require_tools()
    username, password = credentials
    env = {**os.environ, "API_URL": served_url, "API_USERNAME": username, "API_PASSWORD": password}
    result = _run("login.sh", env)
    assert result.returncode == 0, result.stdout + result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert "<<< HTTP/1.1 200" in result.stderr
    assert password not in result.stdout + result.stderr
    numbers = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", f"{served_url}/numbers?_limit=1"]
        + ["-H", f"Authorization: Bearer {token}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert numbers.stdout == "200"
