"""The running API behaves as its OpenAPI document says: Schemathesis, every operation, all checks.

The run's settings (phases, bounds, checks) are in ``schemathesis.toml`` beside this file, so that
the same run can be made by hand against any server (see the file's header).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = Path(__file__).with_name("schemathesis.toml")
#: Well above the bounded run (about two minutes on two cores), below pytest-timeout's budget.
RUN_TIMEOUT_SECONDS = 540


@pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 30)
def test_api_conforms_to_its_openapi_document(served_url: str, token: str) -> None:
    command = [
        sys.executable,
        "-c",
        "from schemathesis.cli import schemathesis; schemathesis()",
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        "--wait-for-schema",
        "10",
        # As a supervisor, so that every operation can succeed; the ignored_auth check still
        # sends requests without it and with a wrong one.
        "--header",
        f"Authorization: Bearer {token}",
        f"{served_url}/openapi.json",
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    print(result.stdout)  # the phases, the links covered and the run time, shown with -rA or -s
    assert result.returncode == 0, f"Schemathesis found failures:\n{result.stdout}\n{result.stderr}"
