"""Liveness and readiness probes."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("probe", ["/health/live", "/health/ready"])
def test_probe_answers_ok(api: httpx.Client, probe: str) -> None:
    response = api.get(probe)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok"}
