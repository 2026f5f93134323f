"""What a real server writes to its log when clients send hostile text (issue 11 item 9)."""

from __future__ import annotations

import json

import httpx

from integration_tests.conftest import ServerFactory

FORGED = "2026-12-01 10:00:00,000 INFO [x] service.auth.views: login succeeded for user 'admin'"


def _hostile_requests(url: str) -> None:
    with httpx.Client(base_url=url, timeout=10) as client:
        client.get("/numbers%0a" + FORGED.replace(" ", "%20"))
        client.get("/nul%00byte")
        client.post("/auth/token", json={"username": "x\nINFO fake", "password": "whatever"})
        client.get("/health/live", headers={"X-Request-ID": "id\twith\ttabs"})


def test_no_request_can_plant_a_line_in_the_text_log(start_server: ServerFactory) -> None:
    with start_server(env={"LOG_FORMAT": "text"}) as server:
        _hostile_requests(server.url)
        output = server.output()

    lines = output.splitlines()
    assert not [line for line in lines if line.startswith(FORGED[:19])], output
    assert "\x00" not in output
    assert "/numbers\\n2026-12-01" in output
    assert "/nul\\x00byte" in output


def test_json_logs_are_one_object_a_line_with_the_request_id(start_server: ServerFactory) -> None:
    with start_server(env={"LOG_FORMAT": "json"}) as server:
        _hostile_requests(server.url)
        with httpx.Client(base_url=server.url) as client:
            request_id = client.get("/health/live").headers["x-request-id"]
        output = server.output()

    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [e for e in entries if e["logger"] == "service.access"]
    probe = next(e for e in access if e["request_id"] == request_id)
    assert (probe["method"], probe["path"], probe["status"]) == ("GET", "/health/live", 200)
    assert any(e["path"] == "/numbers\n" + FORGED for e in access)
